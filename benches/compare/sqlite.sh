#!/usr/bin/env bash
# Catalogue search, Quarry against SQLite FTS5 on this machine, in one run:
# the same seeded catalogue and query mix, single-threaded and in-process on
# both sides. Quarry: `cargo bench --bench search` (the tantivy index alone).
# SQLite: benches/compare/fts5.py through Python's sqlite3 (FTS5 tables over
# the same fields, bm25 with Quarry's field weights, a trigram table for SKU
# fragments). Prints a markdown section and writes it into docs/PERFORMANCE.md
# between the compare:sqlite markers.
#
#   benches/compare/sqlite.sh [products] [queries]     (default 100000 5000)
#
# Installs python3 with apt-get if missing; Python's sqlite3 must link SQLite
# 3.34 or later (FTS5 with the trigram tokenizer).
set -euo pipefail
cd "$(dirname "$0")/../.."
PRODUCTS="${1:-100000}"
QUERIES="${2:-5000}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/quarry-target}"

if ! command -v python3 >/dev/null; then
  apt-get update -qq && apt-get install -y -qq python3 >/dev/null
fi

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

LOAD_BEFORE="$(cut -d' ' -f1 /proc/loadavg)" # other work on the machine skews the figures
bench() {
  cargo bench --quiet --locked --bench search -- --products "$PRODUCTS" --queries "$QUERIES" "$@" \
    >"$WORK/bench.log" 2>&1 || { cat "$WORK/bench.log" >&2; exit 1; }
}
echo "Writing the catalogue and the query mix ($PRODUCTS products, $QUERIES queries)" >&2
bench --write "$WORK/data"
echo "Quarry: building the index and running the queries" >&2
bench --summary "$WORK/quarry.json"
echo "SQLite FTS5: building the database and running the queries" >&2
python3 benches/compare/fts5.py measure --data "$WORK/data" --db "$WORK/fts5.db" --out "$WORK/sqlite.json"

# --- Report -------------------------------------------------------------------
# Quarry's bench keeps its index in a temp dir under the checkout; FTS5's file is in $WORK.
disk() { findmnt -n -o SOURCE,FSTYPE -T "$1" | tr -s ' '; }
if [ "$(disk .)" = "$(disk "$WORK")" ]; then
  DISKS="both indexes on $(disk .) ($(df -h --output=size . | tail -n 1 | tr -d ' '))"
else
  DISKS="Quarry's index on $(disk .), the SQLite file on $(disk "$WORK")"
fi
MACHINE="$(nproc) cores ($(lscpu | sed -n 's/^Model name: *//p' | head -n 1)), \
$(free -g | awk '/^Mem:/ {print $2}') GiB RAM, $DISKS"
REV="$(git rev-parse --short HEAD)"
git diff --quiet HEAD -- src benches/search.rs Cargo.toml Cargo.lock || REV="$REV with uncommitted changes"
QUARRY_VERSION="$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)"
TANTIVY_VERSION="$(grep -A1 '^name = "tantivy"$' Cargo.lock | sed -n 's/^version = "\(.*\)"/\1/p')"
VERSIONS="Quarry $QUARRY_VERSION ($REV), tantivy $TANTIVY_VERSION, $(rustc --version | cut -d' ' -f1-2)"

python3 benches/compare/fts5.py section --quarry "$WORK/quarry.json" --sqlite "$WORK/sqlite.json" \
  --machine "$MACHINE" --load "$LOAD_BEFORE" --versions "$VERSIONS" \
  --command "benches/compare/sqlite.sh $PRODUCTS $QUERIES" >"$WORK/section.md"
cat "$WORK/section.md"
python3 benches/compare/fts5.py insert "$WORK/section.md" docs/PERFORMANCE.md
