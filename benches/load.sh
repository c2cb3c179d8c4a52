#!/usr/bin/env bash
# Mixed load over HTTP: the real `quarry serve` (release build) on the
# generated catalogue of benches/search.rs, driven at once by five wrk
# processes, one per request type, whose connections make the mix: 80%
# search / suggest / estimate, 15% product and stock reads, 5% movements
# (durable, each a receipt of one line). Prints per type: requests, share,
# throughput, p50/p99/max latency and errors, then the server's peak RSS.
#
#   benches/load.sh [products] [seconds] [connections]     (defaults: 100000 60 64)
#   STOCKED=0 benches/load.sh …   receipts go to products with no stock (see below)
#
# Errors must be zero: any non-2xx answer or socket error is counted.
set -euo pipefail
cd "$(dirname "$0")/.."
PRODUCTS="${1:-100000}"
SECONDS_RUN="${2:-60}"
CONNECTIONS="${3:-64}"
PORT="${PORT:-18090}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/quarry-target}"
BIN="$CARGO_TARGET_DIR/release/quarry"

if ! command -v wrk >/dev/null; then
  apt-get update -qq && apt-get install -y -qq wrk >/dev/null
fi

DATA="$(mktemp -d)"
trap 'kill "${SERVER:-0}" 2>/dev/null || true; rm -rf "$DATA"' EXIT

cargo build --release --quiet --locked
cargo bench --quiet --bench search -- --products "$PRODUCTS" --queries 5000 --keep "$DATA" >/dev/null
TOKEN="$("$BIN" --data-dir "$DATA" token create --name load --role owner | tail -n 1)"

# One address sends everything: lift the per-address limit on anonymous
# requests so the server, not the limiter, is measured.
QUARRY_LIMITS_PUBLIC_REQUESTS_PER_MINUTE=1000000000 QUARRY_LOG_LEVEL=warn \
  "$BIN" --data-dir "$DATA" serve --listen "127.0.0.1:$PORT" >"$DATA/serve.log" 2>&1 &
SERVER=$!
for _ in $(seq 1 300); do
  curl -fs "http://127.0.0.1:$PORT/readyz" >/dev/null && break
  sleep 0.2
done
curl -fs -X POST "http://127.0.0.1:$PORT/api/v1/locations" -H "authorization: Bearer $TOKEN" \
  -H 'content-type: application/json' -d '{"code": "LOAD", "name": "Load test"}' >/dev/null

# The request paths of each type, from the search benchmark's query mix.
python3 - "$DATA" <<'EOF'
import json, sys, urllib.parse
d = sys.argv[1]
queries = json.load(open(f"{d}/queries.json"))
skus = sorted({q["intended"] for q in queries})
q = lambda s: urllib.parse.quote(s)
open(f"{d}/suggest.txt", "w").write("".join(f"/api/v1/search/suggest?q={q(x['text'])}\n" for x in queries))
open(f"{d}/estimate.txt", "w").write("".join(
    f"/api/v1/quote/estimate?sku={q(s)}&quantity={1 + i % 40}\n" for i, s in enumerate(skus)))
open(f"{d}/reads.txt", "w").write("".join(
    f"/api/v1/products/{q(s)}\n/api/v1/products/{q(s)}/stock\n" for s in skus))
open(f"{d}/movement-skus.txt", "w").write("".join(f"{s}\n" for s in skus[:2000]))
EOF

# A yard's moving products are in stock: count 1,000 of each of the SKUs the
# movements go to first, so that receipts change levels but not what the search
# index holds (in stock or not). With STOCKED=0 every first receipt brings a
# product into stock, and the index changes with almost every commit.
MOVING="$(wc -l <"$DATA/movement-skus.txt")"
if [ "${STOCKED:-1}" = 1 ]; then
  { echo "sku,location,quantity"; sed 's/$/,LOAD,1000/' "$DATA/movement-skus.txt"; } >"$DATA/stock.csv"
  curl -fsS -H "authorization: Bearer $TOKEN" -F "file=@$DATA/stock.csv" \
    "http://127.0.0.1:$PORT/api/v1/imports/stock" >/dev/null
  for _ in $(seq 1 300); do
    stocked="$(curl -fsS -H "authorization: Bearer $TOKEN" "http://127.0.0.1:$PORT/api/v1/search?in_stock=true&limit=1" |
      python3 -c 'import json, sys; print(json.load(sys.stdin)["total"])')"
    [ "$stocked" -ge "$MOVING" ] && break
    sleep 0.2
  done
fi

# Connections per type: 80% reads of the catalogue, 15% records, 5% movements.
share() { local n=$(( CONNECTIONS * $1 / 100 )); echo $(( n < 1 ? 1 : n )); }
LOADERS=()
run() { # name connections script [env...]
  local name=$1 conns=$2 script=$3; shift 3
  env "$@" wrk -t1 -c"$conns" -d"${SECONDS_RUN}s" --latency -s "$script" \
    "http://127.0.0.1:$PORT" >"$DATA/$name.out" 2>&1 &
  LOADERS+=($!)
}
run search "$(share 50)" benches/wrk-paths.lua PATHS_FILE="$DATA/paths.txt"
run suggest "$(share 15)" benches/wrk-paths.lua PATHS_FILE="$DATA/suggest.txt"
run estimate "$(share 15)" benches/wrk-paths.lua PATHS_FILE="$DATA/estimate.txt"
run reads "$(share 15)" benches/wrk-paths.lua PATHS_FILE="$DATA/reads.txt"
run movements "$(share 5)" benches/wrk-movements.lua SKUS_FILE="$DATA/movement-skus.txt" TOKEN="$TOKEN"
wait "${LOADERS[@]}"

echo "mixed load: $PRODUCTS products, $CONNECTIONS connections, ${SECONDS_RUN}s, $(nproc) cores"
echo
echo "| Request type | Connections | Requests | Share | Requests/s | p50 | p99 | Max | Errors |"
echo "|---|---|---|---|---|---|---|---|---|"
python3 - "$DATA" "$SECONDS_RUN" <<'EOF'
import re, sys
d = sys.argv[1]
rows = []
for name in ["search", "suggest", "estimate", "reads", "movements"]:
    out = open(f"{d}/{name}.out").read()
    conns = re.search(r"(\d+) connections", out).group(1)
    total = int(re.search(r"(\d+) requests in", out).group(1))
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)
    p50 = re.search(r"^\s*50%\s+(\S+)", out, re.M).group(1)
    p99 = re.search(r"^\s*99%\s+(\S+)", out, re.M).group(1)
    mx = re.search(r"Latency\s+\S+\s+\S+\s+(\S+)", out).group(1)
    errors = int(re.search(r"non-2xx or socket errors: (\d+)", out).group(1))
    rows.append((name, conns, total, rate, p50, p99, mx, errors))
all_requests = sum(r[2] for r in rows)
for name, conns, total, rate, p50, p99, mx, errors in rows:
    print(f"| {name} | {conns} | {total:,} | {100 * total / all_requests:.1f}% | {float(rate):,.0f} | {p50} | {p99} | {mx} | {errors} |")
print(f"| **all** | | {all_requests:,} | 100% | {all_requests / float(sys.argv[2]):,.0f} | | | | {sum(r[7] for r in rows)} |")
EOF
echo
echo "server peak RSS: $(grep VmHWM /proc/$SERVER/status | awk '{print $2, $3}')"
curl -fsS -H "authorization: Bearer $TOKEN" "http://127.0.0.1:$PORT/metrics" | python3 -c '
import re, sys
text = sys.stdin.read()
def count(kind, cache):
    m = re.search(r"quarry_cache_%s_total\{cache=\"%s\"\} (\S+)" % (kind, cache), text)
    return float(m.group(1)) if m else 0.0
for cache in ["search", "search_matches", "suggest", "estimate"]:
    hits, misses = count("hits", cache), count("misses", cache)
    print(f"{cache} cache: {hits:,.0f} hits, {misses:,.0f} misses ({100 * hits / max(hits + misses, 1):.0f}% hits)")
'
errors=$(grep -h "non-2xx or socket errors" "$DATA"/*.out | awk '{s += $NF} END {print s}')
[ "$errors" = 0 ] || { echo "errors: $errors" >&2; exit 1; }
