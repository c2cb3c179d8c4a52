#!/usr/bin/env bash
# Search over HTTP under load: the real `quarry serve` (release build) on a
# generated 100,000-product catalogue, driven by wrk with 32 connections over
# the seeded query mix of benches/search.rs. Prints throughput and latency.
#
#   benches/search-http.sh [products] [seconds] [connections]
set -euo pipefail
cd "$(dirname "$0")/.."
PRODUCTS="${1:-100000}"
SECONDS_RUN="${2:-30}"
CONNECTIONS="${3:-32}"
PORT="${PORT:-18089}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/quarry-target}"

if ! command -v wrk >/dev/null; then
  apt-get update -qq && apt-get install -y -qq wrk >/dev/null
fi

DATA="$(mktemp -d)"
trap 'kill "${SERVER:-0}" 2>/dev/null || true; rm -rf "$DATA"' EXIT

cargo build --release --quiet
cargo bench --quiet --bench search -- --products "$PRODUCTS" --queries 5000 --keep "$DATA" >/dev/null

# One address sends everything here: lift the per-address limit on anonymous
# searches (600 a minute by default) so the engine, not the limiter, is measured.
QUARRY_LIMITS_PUBLIC_REQUESTS_PER_MINUTE=1000000000 \
  "$CARGO_TARGET_DIR/release/quarry" --data-dir "$DATA" serve --listen "127.0.0.1:$PORT" \
  >"$DATA/serve.log" 2>&1 &
SERVER=$!
for _ in $(seq 1 100); do
  curl -fs "http://127.0.0.1:$PORT/readyz" >/dev/null && break
  sleep 0.2
done

echo "search over HTTP: $PRODUCTS products, 5000 distinct queries in rotation, $CONNECTIONS connections, ${SECONDS_RUN}s"
PATHS_FILE="$DATA/paths.txt" wrk -t2 -c"$CONNECTIONS" -d"${SECONDS_RUN}s" --latency \
  -s benches/wrk-paths.lua "http://127.0.0.1:$PORT"
echo "server peak RSS: $(grep VmHWM /proc/$SERVER/status | awk '{print $2, $3}')"
