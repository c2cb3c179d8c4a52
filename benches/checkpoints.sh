#!/usr/bin/env bash
# What the journal's checkpoints cost the tail, and what a crash leaves to
# replay (docs/PERFORMANCE.md, the journal section). The release
# `quarry serve` with 2,000 products stocked at LOAD, wrk booking one-line
# receipts with 64 connections (as benches/compare/postgres.sh does):
#   1. 20 s with the default checkpoints: throughput, p50/p99 and the
#      quarry_store_checkpoint_seconds histogram;
#   2. 5 s with no checkpoint (checkpoint_mb = 64, checkpoint_secs = 3600),
#      then kill -9, then `quarry check`, which replays the journal first:
#      its time and peak memory.
#
#   benches/checkpoints.sh
#
# Installs wrk with apt-get if missing.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/quarry-target}"
BIN="$CARGO_TARGET_DIR/release/quarry"
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
cargo build --release --quiet --locked

WORK="$(mktemp -d)"
DATA="$WORK/quarry"
SKUS=2000
cleanup() {
  if [ -n "${SERVER:-}" ]; then kill "$SERVER" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT
awk -v n="$SKUS" 'BEGIN { print "sku,name,category,unit,price"
  for (i = 1; i <= n; i++) printf "P-%07d,Washed sand %d,Aggregates/Sand,t,10.00\n", i, i }' >"$WORK/products.csv"
awk -v n="$SKUS" 'BEGIN { print "sku,location,quantity"
  for (i = 1; i <= n; i++) printf "P-%07d,LOAD,1000\n", i }' >"$WORK/stock.csv"
cut -d, -f1 "$WORK/stock.csv" | tail -n +2 >"$WORK/skus.txt"
for what in products stock; do
  "$BIN" --data-dir "$DATA" import "$what" "$WORK/$what.csv" >/dev/null
done
TOKEN="$("$BIN" --data-dir "$DATA" token create --name bench --role owner | tail -n 1)"
PORT="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"

# book SECONDS [VAR=value…]: serves with the settings given, books, prints
# wrk's rate and latencies and the checkpoint histogram; leaves it running.
book() {
  env "${@:2}" QUARRY_LOG_LEVEL=warn "$BIN" --data-dir "$DATA" serve --listen "127.0.0.1:$PORT" \
    >"$WORK/serve.log" 2>&1 &
  SERVER=$!
  for _ in $(seq 1 300); do
    curl -fs "http://127.0.0.1:$PORT/readyz" >/dev/null && break
    sleep 0.2
  done
  SKUS_FILE="$WORK/skus.txt" TOKEN="$TOKEN" wrk -t2 -c64 -d"$1s" --latency \
    -s benches/wrk-movements.lua "http://127.0.0.1:$PORT" | grep -E "Requests/sec| 50%| 99%"
  curl -fs -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$PORT/metrics" \
    | grep -E "^quarry_store_checkpoint_seconds_(sum|count|bucket)"
}

echo "== 64 connections, 20 s, default checkpoints"
book 20
kill "$SERVER"
wait "$SERVER" 2>/dev/null || true
echo "== 64 connections, 5 s, no checkpoint; then kill -9 and quarry check"
book 5 QUARRY_STORE_CHECKPOINT_MB=64 QUARRY_STORE_CHECKPOINT_SECS=3600
kill -9 "$SERVER"
wait "$SERVER" 2>/dev/null || true
SERVER=
ls -l "$DATA/quarry.journal" "$DATA/quarry.redb"
/usr/bin/time -f "quarry check (replays the journal first): %e s, peak RSS %M KiB" \
  "$BIN" --data-dir "$DATA" check 2>&1 | tail -n 3
