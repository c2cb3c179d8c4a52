#!/usr/bin/env bash
# Operations at scale with the release binary: import N products from CSV
# (default 100,000), export them, stock counts for all of them, a backup, a
# restore and a compaction, each timed, with peak memory (RSS) and file sizes.
#
#   benches/operations.sh [N]
#
# Figures go in docs/PERFORMANCE.md ("Operations").
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-100000}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/quarry-target}"
cargo build --release --locked -q
BIN="$CARGO_TARGET_DIR/release/quarry"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

# Products in the shape of a yard's catalogue: packs, price breaks, tags.
awk -v n="$N" 'BEGIN {
  print "sku,name,category,unit,price,cost,tags,packs,price_breaks,barcode,density_kg_m3"
  split("Aggregates/Sand Aggregates/Gravel Cement_and_mortar/Cement Timber/Sawn Steel_and_rebar/Rebar Tools/Hand", cats, " ")
  for (i = 1; i <= n; i++) {
    c = cats[(i % 6) + 1]; gsub("_", " ", c)
    printf "P-%07d,Product %d grade %d,%s,kg,%d.%02d,%d.%02d,bulk; trade,bag=25 kg; pallet=40 bag,1000=%d.%02d,2%011d,1600\n",
      i, i, i % 7, c, 1 + i % 50, i % 100, i % 40, i % 100, i % 50, i % 100, i
  }
}' > "$WORK/products.csv"
awk -v n="$N" 'BEGIN { print "sku,location,quantity"; for (i = 1; i <= n; i++) printf "P-%07d,YARD,%d\n", i, 100 + i % 900 }' \
  > "$WORK/stock.csv"

timed() { # label, command…
  local label="$1"; shift
  /usr/bin/time -f "%e %M" -o "$WORK/time" "$@" > "$WORK/out" 2>&1 || { cat "$WORK/out"; exit 1; }
  read -r secs kib < "$WORK/time"
  printf '%-28s %8.2f s  peak RSS %6d MiB  %s\n' "$label" "$secs" $((kib / 1024)) "$(tail -1 "$WORK/out" | cut -c1-90)"
}

D="$WORK/data"
echo "$N products, $(du -h "$WORK/products.csv" | cut -f1) of CSV; $(nproc) cores"
timed "import products" "$BIN" --data-dir "$D" import products "$WORK/products.csv"
timed "import products again" "$BIN" --data-dir "$D" import products "$WORK/products.csv"
timed "import stock counts" "$BIN" --data-dir "$D" import stock "$WORK/stock.csv"
timed "export products (csv)" "$BIN" --data-dir "$D" export products --output "$WORK/out.csv"
timed "export movements (json)" "$BIN" --data-dir "$D" export movements --format json --output "$WORK/m.json"
timed "backup" "$BIN" --data-dir "$D" backup "$WORK/b.qbk"
timed "restore" "$BIN" --data-dir "$WORK/restored" restore "$WORK/b.qbk"
timed "compact" "$BIN" --data-dir "$D" compact
echo "data file $(du -h "$D/quarry.redb" | cut -f1), backup $(du -h "$WORK/b.qbk" | cut -f1)"

# The same import over HTTP as a job (`Prefer: respond-async`), into a fresh
# data dir under `quarry serve`, followed at /api/v1/jobs/{id}; meanwhile a
# small write (a new location) every 0.2 s shows how long other writes wait
# behind the import's transaction.
H="$WORK/http"
TOKEN="$("$BIN" --data-dir "$H" token create --name bench --role owner | tail -1)"
PORT="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
URL="http://127.0.0.1:$PORT"
"$BIN" --data-dir "$H" serve --listen "127.0.0.1:$PORT" > "$WORK/serve.log" 2>&1 &
SERVER=$!
trap 'kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; rm -rf "$WORK"' EXIT
until curl -sf "$URL/readyz" > /dev/null; do
  kill -0 "$SERVER" 2>/dev/null || { cat "$WORK/serve.log"; exit 1; }
  sleep 0.1
done
auth=(-H "Authorization: Bearer $TOKEN")
started=$(date +%s.%N)
job="$(curl -sf "${auth[@]}" -H "Prefer: respond-async" -F "file=@$WORK/products.csv" "$URL/api/v1/imports/products")"
uploaded=$(date +%s.%N)
id="$(python3 -c 'import json, sys; print(json.loads(sys.argv[1])["id"])' "$job")"
state=running probes=0 worst=0
while [ "$state" = running ]; do
  probes=$((probes + 1))
  # Not -f: a probe that waits past the request deadline answers 408, which
  # is a finding, not a reason to stop.
  read -r code took < <(curl -s -o /dev/null -w '%{http_code} %{time_total}\n' "${auth[@]}" \
    -H 'content-type: application/json' \
    -d "{\"code\":\"PROBE$probes\",\"name\":\"Probe\"}" "$URL/api/v1/locations")
  [ "$code" = 201 ] || echo "probe $probes answered $code after $took s"
  worst="$(python3 -c 'import sys; print(max(float(sys.argv[1]), float(sys.argv[2])))' "$worst" "$took")"
  state="$(curl -sf "${auth[@]}" "$URL/api/v1/jobs/$id" | python3 -c 'import json, sys; print(json.load(sys.stdin)["state"])')"
  if [ "$state" = running ]; then sleep 0.2; fi
done
ended=$(date +%s.%N)
result="$(curl -sf "${auth[@]}" "$URL/api/v1/jobs/$id" | python3 -c 'import json, sys; j = json.load(sys.stdin); print(j["status"], j["result"].get("created"))')"
python3 - "$started" "$uploaded" "$ended" "$worst" "$probes" "$result" <<'PY'
import sys
started, uploaded, ended, worst = map(float, sys.argv[1:5])
print(f"{'import products over HTTP':<28} {ended - started:8.2f} s  (upload {uploaded - started:.2f} s; "
      f"answer {sys.argv[6]}); {sys.argv[5]} writes meanwhile, the slowest {worst:.2f} s")
PY
