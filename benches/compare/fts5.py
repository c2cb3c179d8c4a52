"""Catalogue search in SQLite FTS5, for `benches/compare/sqlite.sh`.

`measure` builds an SQLite database of the catalogue written by
`cargo bench --bench search -- --write DIR` and runs the same query mix as the
Quarry bench, single-threaded and in-process (Python's sqlite3), and writes its
figures as JSON in the shape of the Quarry bench's `--summary`. `section`
prints the markdown comparing both summaries; `insert` puts it between the
compare:sqlite markers of docs/PERFORMANCE.md. Standard library only.

What the FTS5 side does, and why:

- One FTS5 table over the fields Quarry indexes as text: name, keywords
  (category path, tags, "key value" for each attribute, as Quarry builds its
  keywords field) and description; tokenizer `porter unicode61
  remove_diacritics 2` (Quarry folds accents and stems English too); prefix
  indexes for 2 and 3 characters, since every query ends in a prefix. Ranked
  by bm25 with Quarry's field weights: name 5, keywords 2, description 0.5.
- SKU fragments: a second FTS5 table over the SKU with the trigram tokenizer,
  so a fragment of 3 or more characters matches anywhere in the SKU (Quarry
  indexes the SKU as n-grams of 2 to 12 characters for the same reason).
- Both are contentless (`content=''`): the text stays in the product store,
  as with Quarry. A plain table holds id, SKU and category, the way Quarry's
  index keeps the SKU and category beside the postings. The file is
  memory-mapped, as tantivy maps its index.
- A query is split on whitespace; each word becomes a quoted FTS5 string, the
  last one (if the user may still be typing it and it has 2 or more
  characters) a prefix `"word"*`; the words are ANDed. A query without spaces
  of 3 or more characters is also looked up in the SKU table, and those hits
  come first. A category filter keeps the category and everything under it.
  If nothing has every word, the words are ORed (numbers stay required) —
  Quarry falls back the same way. There is no typo tolerance: FTS5 has none.
"""

import argparse
import datetime
import json
import os
import platform
import sqlite3
import sys
import time
import typing

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import report  # noqa: E402

LIMIT = 20
TOKENIZE = "porter unicode61 remove_diacritics 2"
PREFIX = "2 3"
WEIGHTS = (5.0, 2.0, 0.5)  # name, keywords, description: Quarry's field boosts
MMAP = 1 << 30  # map the file, as tantivy maps its index


def keywords(product):
    """The keywords field as Quarry builds it (src/search/index.rs)."""
    words = [product["category"]]
    words += product.get("tags") or []
    words += [f"{k.replace('_', ' ')} {v}" for k, v in (product.get("attributes") or {}).items()]
    return " ".join(words)


def build(db, products):
    """Creates the database from scratch; returns the seconds it took and the
    share of pages the optimize left free."""
    if os.path.exists(db):
        os.remove(db)
    rows = [(i, p["sku"], p["name"], keywords(p), p.get("description") or "", p["category"])
            for i, p in enumerate(products, start=1)]
    started = time.perf_counter()
    con = sqlite3.connect(db, isolation_level=None)
    con.executescript(f"""
        BEGIN;
        CREATE TABLE products (id INTEGER PRIMARY KEY, sku TEXT NOT NULL, category TEXT NOT NULL);
        CREATE VIRTUAL TABLE texts USING fts5(name, keywords, description, content='',
            tokenize='{TOKENIZE}', prefix='{PREFIX}');
        INSERT INTO texts(texts, rank) VALUES ('rank', 'bm25({", ".join(map(str, WEIGHTS))})');
        CREATE VIRTUAL TABLE skus USING fts5(sku, content='', tokenize='trigram');
    """)
    con.executemany("INSERT INTO products VALUES (?, ?, ?)", ((r[0], r[1], r[5]) for r in rows))
    con.executemany("INSERT INTO texts(rowid, name, keywords, description) VALUES (?, ?, ?, ?)",
                    (r[:1] + r[2:5] for r in rows))
    con.executemany("INSERT INTO skus(rowid, sku) VALUES (?, ?)", (r[:2] for r in rows))
    # One b-tree per table after a bulk load, as FTS5's documentation advises.
    con.execute("INSERT INTO texts(texts) VALUES ('optimize')")
    con.execute("INSERT INTO skus(skus) VALUES ('optimize')")
    con.execute("COMMIT")
    # The optimize leaves the merged-away pages free; give them back.
    free = con.execute("PRAGMA freelist_count").fetchone()[0] / con.execute("PRAGMA page_count").fetchone()[0]
    con.execute("VACUUM")
    con.close()
    return time.perf_counter() - started, free


def quoted(word):
    return '"' + word.replace('"', '""') + '"'


class Plan(typing.NamedTuple):
    """How one query runs: its statement, the any-word retry, and the MATCH
    expressions they use (to count what a slow query had to rank)."""

    first: tuple
    retry: typing.Optional[tuple]
    words: typing.Optional[str]
    any_word: typing.Optional[str]
    sku: typing.Optional[str]


def plan(query):
    """The SQL and parameters for a query, as an FTS5 user would write them."""
    text = query["text"]
    still_typing = not text[-1:].isspace()
    words = [w for w in text.split() if any(c.isalnum() for c in w)]
    terms = [quoted(w) for w in words]
    if terms and still_typing and len(words[-1]) >= 2:
        terms[-1] += "*"
    category = query.get("category")
    within = "(p.category = ? OR p.category LIKE ?)" if category else ""
    filters = [category, category + "/%"] if category else []
    raw = text.strip()
    sku = quoted(raw) if len(raw) >= 3 and not any(c.isspace() for c in raw) else None

    def arm(table, columns, match, limit):
        """The best `limit` rows of one FTS5 table, within the category if any."""
        sql = (f"SELECT {columns} FROM {table} JOIN products p ON p.id = {table}.rowid "
               f"WHERE {table} MATCH ?{' AND ' + within if within else ''} "
               f"ORDER BY {table}.rank LIMIT {limit}")
        return sql, [match] + filters

    def statement(match, sku):
        if not sku:
            return arm("texts", "p.sku", match, LIMIT)
        # SKU hits first, then words; a product found both ways counts once.
        # Each side is cut to what the page can use before they are merged.
        sql, params = arm("skus", "p.id, 0 AS tier, skus.rank AS score", sku, LIMIT)
        parts = [f"SELECT * FROM ({sql})"]
        if match:
            more, more_params = arm("texts", "p.id, 1, texts.rank", match, 2 * LIMIT)
            parts.append(f"SELECT * FROM ({more})")
            params += more_params
        sql = (f"SELECT p.sku FROM ({' UNION ALL '.join(parts)}) AS h JOIN products p ON p.id = h.id "
               f"GROUP BY p.id ORDER BY min(h.tier * 1e6 + h.score) LIMIT {LIMIT}")
        return sql, params

    if not terms and not sku:
        return None
    every = " AND ".join(terms) or None
    numbers = [t for w, t in zip(words, terms) if w[0].isdigit()]
    others = [t for w, t in zip(words, terms) if not w[0].isdigit()]
    # Quarry's retry when nothing has every word: any word, numbers still required.
    any_word = " AND ".join(numbers + ["(" + " OR ".join(others) + ")"]) if len(others) >= 2 else None
    return Plan(first=statement(every, sku), retry=any_word and statement(any_word, None),
                words=every, any_word=any_word, sku=sku)


def figures(samples):
    s = sorted(samples)
    return {"count": len(s), "p50_ms": report.percentile(s, 0.5), "p99_ms": report.percentile(s, 0.99),
            "max_ms": report.percentile(s, 1.0)}


def measure(args):
    if sqlite3.sqlite_version_info < (3, 34):
        sys.exit(f"Python's sqlite3 links SQLite {sqlite3.sqlite_version}; the trigram tokenizer "
                 "needs 3.34 or later (use a Python built against a newer SQLite)")
    with open(os.path.join(args.data, "products.jsonl")) as f:
        products = [json.loads(line) for line in f]
    with open(os.path.join(args.data, "queries.json")) as f:
        mix = json.load(f)
    build_s, freed = build(args.db, products)
    db_bytes = os.path.getsize(args.db)

    con = sqlite3.connect(args.db, isolation_level=None)
    con.execute(f"PRAGMA mmap_size = {MMAP}")
    tables = dict(con.execute("SELECT CASE WHEN name LIKE 'texts%' THEN 'texts' "
                              "WHEN name LIKE 'skus%' THEN 'skus' ELSE 'products' END, "
                              "sum(pgsize) FROM dbstat GROUP BY 1"))
    plans = [plan(q) for q in mix]
    cur = con.cursor()

    def run(p):
        rows = cur.execute(*p.first).fetchall() if p else []
        if not rows and p and p.retry:
            return cur.execute(*p.retry).fetchall(), True
        return rows, False

    for p in plans:  # warm the page cache and the statement cache
        run(p)
    timed, kinds = [], {}
    for q, p in zip(mix, plans):
        t = time.perf_counter()
        rows, retried = run(p)
        ms = (time.perf_counter() - t) * 1e3
        timed.append((ms, q, p, retried))
        k = kinds.setdefault(q["kind"], {"samples": [], "top3": 0, "queries": 0, "empty": 0,
                                         "any_word": 0})
        k["samples"].append(ms)
        k["top3"] += any(sku == q["intended"] for (sku,) in rows[:3])
        k["queries"] += 1
        k["empty"] += not rows
        k["any_word"] += retried and bool(rows)

    def count(table, match):
        return con.execute(f"SELECT count(*) FROM {table} WHERE {table} MATCH ?", [match]).fetchone()[0]

    # What the slowest queries had to rank: how many products each expression matched.
    slowest = []
    for ms, q, p, retried in sorted(timed, key=lambda x: x[0], reverse=True)[:3]:
        if p is None:
            continue
        matched = {}
        if p.words:
            matched["every word"] = count("texts", p.words)
        if retried:
            matched["any word"] = count("texts", p.any_word)
        if p.sku:
            matched["SKU"] = count("skus", p.sku)
        slowest.append({"ms": ms, "kind": q["kind"], "text": q["text"],
                        "category": q.get("category"), "matched": matched})
    con.close()
    samples = [ms for ms, _, _, _ in timed]
    summary = {
        "products": len(products),
        "sqlite": sqlite3.sqlite_version,
        "python": platform.python_version(),
        "tokenize": TOKENIZE,
        "prefix": PREFIX,
        "index_build_s": build_s,
        "index_bytes": db_bytes,
        "optimize_freed": freed,
        "tables_bytes": tables,
        "engine": figures(samples),
        "slowest": slowest,
        "kinds": {kind: {**figures(k.pop("samples")), **k} for kind, k in sorted(kinds.items())},
    }
    with open(args.out, "w") as f:
        json.dump(summary, f, indent=2)


def mib(n):
    """Bytes as MiB, for the tables."""
    return f"{n / 1048576:.1f} MiB"


def listed(names):
    """`a`, `a and b`, `a, b and c`."""
    return " and ".join([", ".join(names[:-1]), names[-1]]) if len(names) > 1 else names[0]


def times(r):
    """A ratio of Quarry's figure over FTS5's, as text."""
    return f"{r:.2f}×"


def section(args):
    with open(args.quarry) as f:
        q = json.load(f)
    with open(args.sqlite) as f:
        s = json.load(f)
    if q["products"] != s["products"]:
        sys.exit(f"the summaries are of different catalogues: {q['products']} and {s['products']} products")
    kinds = sorted(q["kinds"])
    if kinds != sorted(s["kinds"]) or any(q["kinds"][k]["queries"] != s["kinds"][k]["queries"] for k in kinds):
        sys.exit("the summaries are of different query mixes")
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    out = []

    def slower(qv, sv):
        r = qv / sv
        return f"{times(r)} (Quarry {'the same' if times(r) == times(1) else 'faster' if r < 1 else '**slower**'})"

    out.append(report.para(f"""What it compares: catalogue search, single-threaded and in-process on
both sides, over the same seeded catalogue of {q['products']:,} products and the
same {q['engine']['count']:,} queries. Quarry: the tantivy index alone (the "engine"
figures of `benches/search.rs`): the top 20 by relevance, with the total and the
category and tag counts collected in the same pass. SQLite: FTS5 through
Python's `sqlite3` (`benches/compare/fts5.py`), timing `execute` and `fetchall`
(Python's share is about 3 µs a query) of the top 20 by bm25 with Quarry's field weights (name 5, keywords 2,
description 0.5), without counts. FTS5 tables: one over name, keywords
(category, tags, attributes) and description, tokenizer `{s['tokenize']}`,
prefix indexes `{s['prefix']}`; one over the SKU with the trigram tokenizer,
for SKU fragments; both contentless, beside a table of id, SKU and category;
the file memory-mapped. Each word of a query is a quoted FTS5 string, the last
a prefix (`"word"*`), all ANDed; a query without spaces is also looked up in
the SKU table and those hits come first; a category filter adds `category =
'Top' OR category LIKE 'Top/%'`. When nothing has every word, both sides retry
with any word (numbers stay required). FTS5 has no typo tolerance and none is
added. Neither side's timing includes turning the text into a query. Both: one
warm-up pass, then one timed pass."""))
    out.append(f"""
```sh
{args.command}
```
""")
    out.append(report.para(f"""It runs `cargo bench --bench search -- --products {q['products']}
--queries {q['engine']['count']} --write DIR` (catalogue and queries as files), the same
with `--summary FILE` (Quarry's figures), then `python3 benches/compare/fts5.py
measure` and `section`."""))
    out.append("")
    out.append(report.para(f"Run of {now} on {args.machine}; 1-minute load average before the run "
                    f"{args.load} (other work on the machine skews the figures)."))
    out.append("\nLatency per query (lower is better; the ratio is Quarry's time over FTS5's):\n")
    out.append("| queries | count | Quarry p50 | FTS5 p50 | Quarry / FTS5 (p50) "
               "| Quarry p99 | FTS5 p99 | Quarry / FTS5 (p99) |")
    out.append("|---|---:|---:|---:|---|---:|---:|---|")
    rows = [("all", q["engine"], s["engine"])] + [(k, q["kinds"][k], s["kinds"][k]) for k in kinds]
    for name, a, b in rows:
        out.append(f"| {name} | {a['count']:,} | {a['p50_ms']:.3f} ms | {b['p50_ms']:.3f} ms "
                   f"| {slower(a['p50_ms'], b['p50_ms'])} | {a['p99_ms']:.3f} ms "
                   f"| {b['p99_ms']:.3f} ms | {slower(a['p99_ms'], b['p99_ms'])} |")
    out.append("\nThe product a query was made from among the first 3 hits (higher is better):\n")
    out.append("| queries | count | Quarry | FTS5 | Quarry / FTS5 | FTS5: no hit at all "
               "| FTS5: answered by the any-word retry |")
    out.append("|---|---:|---:|---:|---|---:|---:|")
    worse = []
    for k in kinds:
        a, b = q["kinds"][k], s["kinds"][k]
        n = a["queries"]
        if b["top3"]:
            r = a["top3"] / b["top3"]
            ratio = f"{times(r)} (Quarry {'the same' if times(r) == times(1) else 'better' if r > 1 else '**worse**'})"
            if r < 1:
                worse.append(k)
        else:
            ratio = "— (FTS5 none)" if a["top3"] else "— (neither)"
        out.append(f"| {k} | {n:,} | {a['top3'] * 100 / n:.0f}% | {b['top3'] * 100 / n:.0f}% | {ratio} "
                   f"| {b['empty']:,} | {b['any_word']:,} |")
    out.append("\nIndex (lower is better):\n")
    out.append("| measure | Quarry | FTS5 | Quarry / FTS5 |")
    out.append("|---|---:|---:|---|")
    rb = q["index_build_s"] / s["index_build_s"]
    rs = q["index_bytes"] / s["index_bytes"]
    out.append(f"| build time | {q['index_build_s']:.2f} s | {s['index_build_s']:.2f} s "
               f"| {slower(q['index_build_s'], s['index_build_s'])} |")
    out.append(f"| size on disk | {mib(q['index_bytes'])} | {mib(s['index_bytes'])} "
               f"| {times(rs)} (Quarry {'smaller' if rs < 1 else '**larger**'}) |")
    t = s["tables_bytes"]
    out.append("")
    out.append(report.para(f"""Quarry's build reads every product from its store, indexes it with
one thread and commits; its size is the index directory alone — the store
({mib(q['store_bytes'])}, loaded in {q['store_load_s']:.2f} s) holds the products
and is not counted. FTS5's build inserts rows already in memory, runs FTS5's
`optimize` on both tables and a `VACUUM` (the optimize left
{s['optimize_freed']:.0%} of the pages free), with SQLite's default durability; its size is the whole file: word
table {mib(t.get('texts', 0))}, SKU trigram table {mib(t.get('skus', 0))},
id/SKU/category table {mib(t.get('products', 0))}."""))

    notes = []
    ae, be, sg = q["engine"], s["engine"], q["suggest"]
    if ae["p50_ms"] > be["p50_ms"]:
        notes.append(f"""Typical latency: Quarry is slower at p50
({ae['p50_ms']:.3f} against {be['p50_ms']:.3f} ms). Its query does more: each word
is looked up in name, keywords and description and in the SKU n-grams, in name
and keywords also with up to two typos when the catalogue does not know the
word as typed (a walk of the term dictionary), the last word also as a prefix;
the words again as a phrase in the name; a query without spaces also as a SKU
or barcode prefix; and the same pass counts every match and the category and
tag facets (a filtered search counts the categories again in a pass of its
own). FTS5 intersects the words' posting lists and ranks what has them all.
In the same run Quarry's suggestions — the same words over the name alone,
top 8, no counting — take {sg['p50_ms']:.3f} ms at p50"""
                     + (""", less than FTS5's searches, which points to that extra work
rather than to tantivy as the cost.""" if sg["p50_ms"] < be["p50_ms"] else "."))
    else:
        notes.append(f"""Typical latency: Quarry is as fast or faster at p50
({ae['p50_ms']:.3f} against {be['p50_ms']:.3f} ms), although it also matches typos,
SKU n-grams and phrases, and counts the total and the facets in the same
pass.""")
    slow = "; ".join(
        f"`{x['text']}` ({x['kind']}{', in ' + x['category'] if x.get('category') else ''}, "
        f"{x['ms']:.2f} ms: " + ", ".join(f"{n:,} by {what}" for what, n in x["matched"].items() if n)
        + ")"
        for x in s["slowest"])
    higher = [k for k in kinds if q["kinds"][k]["p99_ms"] > s["kinds"][k]["p99_ms"]]
    if ae["p99_ms"] > be["p99_ms"]:
        notes.append(f"""Tail latency: Quarry is slower at p99 too
({ae['p99_ms']:.3f} against {be['p99_ms']:.3f} ms); this run does not break its
slowest queries down (the bench reports percentiles only). FTS5's slowest
were {slow}.""")
    else:
        notes.append(f"""Tail latency: FTS5 is slower at p99 ({be['p99_ms']:.3f}
against {ae['p99_ms']:.3f} ms). Its slowest queries match many products, every
one of which is scored with bm25 before the best 20 are taken (products
matched, before any category filter): {slow}. Quarry visits every match
too (it counts them all)."""
                     + (f""" By kind, Quarry's p99 is the higher one for {listed(higher)}
queries.""" if higher else ""))
    typo = s["kinds"].get("typo")
    if typo:
        notes.append(f"""Typos: FTS5 has no typo tolerance, so a query with a
misspelt word finds its product only when the other words single it out (the
any-word retry answered {typo['any_word']} of {typo['queries']} typo queries; {typo['empty']}
found nothing at all). Quarry matches the misspelt word within one or two
edits.""")
    if "sku" in worse:
        notes.append("""SKU fragments: Quarry finds the intended SKU in the top 3
less often. FTS5's trigram table matches the fragment as typed, dash included:
`K-0030` only where those six characters follow each other. Quarry's analysis
drops the dash and splits the fragment into words (`k` and `0030`), each
matched on its own, so every SKU that merely contains `0030` ranks alike with
the intended one, and ties among them fall by index order.""")
    others = [k for k in worse if k != "sku"]
    if others:
        notes.append(f"""Quarry finds the intended product in the top 3 less often for
{listed(others)} queries here; see the next point.""")
    notes.append("""Top 3 is a coarse measure on this catalogue: it holds many
near-identical products (the same noun, size and finish from several brands),
so the product a query was made from is often one of several equally right
answers, and ties fall differently in each engine.""")
    if rb > 1:
        notes.append(f"""Build: Quarry is slower ({times(rb)}). It reads and
decodes each product from the store and the stock levels, indexes on one thread,
and writes every n-gram of 2 to 12 characters of each SKU; FTS5 inserts rows
already in memory and writes trigrams.""")
    if rs > 1:
        notes.append(f"""Size: Quarry's index is larger ({times(rs)}). It keeps
every n-gram of 2 to 12 characters of each SKU (FTS5's table keeps trigrams),
the names stored for highlighting, and fast fields for sorting by price and
name, for the stock and active flags and for the facets.""")
    else:
        notes.append(f"""Size: Quarry's index is smaller ({times(rs)}). FTS5 keeps
the position of every word in every column (Quarry keeps positions for the name
only) and the prefix indexes.""")
    out.append("")
    out.extend(report.para(n, "- ") for n in notes)
    out.append("")
    out.append(report.para(f"Versions: {args.versions}; SQLite {s['sqlite']} (Python's "
                    f"`sqlite3`), Python {s['python']}."))
    print("\n".join(out))


def insert(args):
    """Replaces the compare:sqlite section of the doc (adding it after the
    PostgreSQL one if missing)."""
    with open(args.section) as f:
        body = f.read()
    report.write_section(args.doc, "sqlite", "Catalogue search vs SQLite FTS5 (`benches/compare/sqlite.sh`)",
                         body, after="postgres")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    m = sub.add_parser("measure", help="build the FTS5 database and time the query mix")
    m.add_argument("--data", required=True, help="directory of products.jsonl and queries.json")
    m.add_argument("--db", required=True, help="SQLite file to create")
    m.add_argument("--out", required=True, help="JSON summary to write")
    m.set_defaults(run=measure)
    s = sub.add_parser("section", help="print the markdown section")
    s.add_argument("--quarry", required=True, help="summary of cargo bench --bench search")
    s.add_argument("--sqlite", required=True, help="summary of fts5.py measure")
    s.add_argument("--machine", required=True)
    s.add_argument("--load", required=True)
    s.add_argument("--versions", required=True)
    s.add_argument("--command", required=True, help="the command that reruns the comparison")
    s.set_defaults(run=section)
    i = sub.add_parser("insert", help="write the section into the doc between its markers")
    i.add_argument("section")
    i.add_argument("doc")
    i.set_defaults(run=insert)
    args = parser.parse_args()
    args.run(args)


if __name__ == "__main__":
    main()
