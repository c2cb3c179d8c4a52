#!/usr/bin/env bash
# Quarry on PostgreSQL, one node and two, against the bare database, in one
# run on one throwaway cluster (default durability). A generated catalogue
# (benches/search.rs, the same text as the search benchmarks) with 2,000
# products stocked at LOAD is moved into PostgreSQL with `quarry migrate --to`
# (timed); then, for 1 node and for 2 nodes behind no balancer (each load
# generator drives its own node): durable one-line receipts at 1 and 64
# connections (wrk, benches/wrk-movements.lua) and searches at 32 connections
# (the query mix of benches/search.rs); and pgbench running the same booking
# as one bare transaction (benches/compare/pg-movement.sql) at 1 and 64
# connections. Prints a markdown section and writes it into docs/PERFORMANCE.md
# between the compare:postgres-nodes markers.
#
#   benches/compare/postgres-nodes.sh [seconds] [products]   (default 20 s, 20000)
#
# Installs postgresql, postgresql-contrib and wrk with apt-get if missing.
set -euo pipefail
cd "$(dirname "$0")/../.."
SECONDS_RUN="${1:-20}"
PRODUCTS="${2:-20000}"
STOCKED=2000
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/quarry-target}"
BIN="$CARGO_TARGET_DIR/release/quarry"

PGBIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
if [ -z "$PGBIN" ] || [ ! -x "$PGBIN/pgbench" ] || ! command -v wrk >/dev/null; then
  apt-get update -qq && apt-get install -y -qq postgresql postgresql-contrib wrk >/dev/null
  PGBIN="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)"
fi

WORK="$(mktemp -d)"
chmod 711 "$WORK"
PGDIR="$WORK/pg"
NODES=()
cleanup() {
  for pid in "${NODES[@]}"; do kill "$pid" 2>/dev/null || true; done
  if [ -f "$PGDIR/data/postmaster.pid" ]; then
    runuser -u postgres -- "$PGBIN/pg_ctl" -D "$PGDIR/data" -m immediate stop >/dev/null 2>&1 || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

cargo build --release --quiet --locked
LOAD_BEFORE="$(cut -d' ' -f1 /proc/loadavg)"

# --- PostgreSQL, default durability -------------------------------------------
mkdir "$PGDIR" && chown postgres: "$PGDIR"
PGPORT="$(free_port)"
runuser -u postgres -- "$PGBIN/initdb" -D "$PGDIR/data" -U postgres --auth=trust -E UTF8 --no-locale >/dev/null
runuser -u postgres -- "$PGBIN/pg_ctl" -D "$PGDIR/data" -l "$PGDIR/server.log" -w \
  -o "-c listen_addresses=127.0.0.1 -c port=$PGPORT -c unix_socket_directories=$PGDIR -c max_connections=300" \
  start >/dev/null
PSQL=("$PGBIN/psql" -h 127.0.0.1 -p "$PGPORT" -U postgres -v ON_ERROR_STOP=1 -q)
"${PSQL[@]}" -c 'CREATE DATABASE quarry' -c 'CREATE DATABASE compare'
URL="postgres://postgres@127.0.0.1:$PGPORT/quarry"

# --- The shop, moved into PostgreSQL -------------------------------------------
DATA="$WORK/shop"
cargo bench --quiet --bench search -- --products "$PRODUCTS" --queries 5000 --keep "$DATA" >/dev/null
"$BIN" --data-dir "$DATA" export products --output "$WORK/products.csv"
awk -F, -v n="$STOCKED" 'NR > 1 && NR <= n + 1 { print $1 }' "$WORK/products.csv" >"$WORK/skus.txt"
{ echo "sku,location,quantity"; sed 's/$/,LOAD,1000/' "$WORK/skus.txt"; } >"$WORK/stock.csv"
"$BIN" --data-dir "$DATA" import stock "$WORK/stock.csv" >/dev/null 2>&1
started=$(date +%s.%N)
"$BIN" --data-dir "$DATA" migrate --to "$URL" >"$WORK/migrate.out" 2>&1 || { cat "$WORK/migrate.out" >&2; exit 1; }
MIGRATE_SECS=$(python3 -c "print(round($(date +%s.%N) - $started, 1))")
MIGRATE_ROWS=$(sed -n 's/.*: \([0-9]*\) rows.*/\1/p' "$WORK/migrate.out")
TOKEN="$("$BIN" --data-dir "$WORK/cli" --store-url "$URL" token create --name bench --role owner | tail -n 1)"

start_node() {
  local port
  port="$(free_port)"
  QUARRY_LOG_LEVEL=warn QUARRY_LIMITS_PUBLIC_REQUESTS_PER_MINUTE=1000000000 \
    "$BIN" --data-dir "$WORK/node-$1" --store-url "$URL" serve --listen "127.0.0.1:$port" \
    >"$WORK/node-$1.log" 2>&1 &
  NODES+=($!)
  for _ in $(seq 1 600); do curl -fs "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break; sleep 0.2; done
  curl -fs "http://127.0.0.1:$port/readyz" >/dev/null || { cat "$WORK/node-$1.log" >&2; exit 1; }
  NODE_URL="http://127.0.0.1:$port"
}
# wrk against every node at once, `c` connections in all; one output per node.
drive() { # name script connections urls...
  local name=$1 script=$2 c=$3
  shift 3
  local per=$((c / $#)) i=0 pids=()
  for url in "$@"; do
    i=$((i + 1))
    SKUS_FILE="$WORK/skus.txt" PATHS_FILE="$DATA/paths.txt" TOKEN="$TOKEN" \
      wrk -t1 -c"$per" -d"${SECONDS_RUN}s" --latency -s "$script" "$url" >"$WORK/$name-$i.out" 2>&1 &
    pids+=($!)
  done
  wait "${pids[@]}"
}

start_node a # not in a subshell: NODES must keep its pid
A="$NODE_URL"
echo "1 node" >&2
drive n1-w1 benches/wrk-movements.lua 1 "$A"
# Two load generators in both set-ups (both on A here), so that only the
# number of nodes differs.
drive n1-w64 benches/wrk-movements.lua 64 "$A" "$A"
# Searches are measured warm: each node has answered the query mix once since
# the last write (a write starts a new generation of the answer cache).
drive warm-1 benches/wrk-paths.lua 32 "$A" "$A"
drive n1-s32 benches/wrk-paths.lua 32 "$A" "$A"
start_node b
B="$NODE_URL"
echo "2 nodes" >&2
drive n2-w2 benches/wrk-movements.lua 2 "$A" "$B"
drive n2-w64 benches/wrk-movements.lua 64 "$A" "$B"
drive warm-2 benches/wrk-paths.lua 32 "$A" "$B"
drive n2-s32 benches/wrk-paths.lua 32 "$A" "$B"
for pid in "${NODES[@]}"; do kill "$pid"; done
wait "${NODES[@]}" 2>/dev/null || true
NODES=()
"$BIN" --data-dir "$WORK/cli" --store-url "$URL" check >"$WORK/check.out" 2>&1 || { cat "$WORK/check.out" >&2; exit 1; }

# --- The bare database: pgbench, the same booking -----------------------------
"${PSQL[@]}" -d compare <<EOF
CREATE TABLE levels (sku text, location text, on_hand numeric, PRIMARY KEY (sku, location));
CREATE TABLE movements (id bigserial PRIMARY KEY, kind text, sku text, location text,
  quantity numeric, reference text, created_at timestamptz DEFAULT now());
INSERT INTO levels SELECT 'P-' || lpad(i::text, 7, '0'), 'LOAD', 1000 FROM generate_series(1, $STOCKED) i;
VACUUM ANALYZE levels;
EOF
for c in 1 64; do
  "$PGBIN/pgbench" -h 127.0.0.1 -p "$PGPORT" -U postgres -n -M prepared -c "$c" -j "$((c > 1 ? 2 : 1))" \
    -T "$SECONDS_RUN" -D skus="$STOCKED" -f benches/compare/pg-movement.sql compare \
    >"$WORK/pgbench-c$c.out" 2>&1 || { cat "$WORK/pgbench-c$c.out" >&2; exit 1; }
done

# --- Report -------------------------------------------------------------------
SECTION="$WORK/section.md"
python3 - "$WORK" "$SECONDS_RUN" "$PRODUCTS" "$STOCKED" "$LOAD_BEFORE" "$MIGRATE_SECS" "$MIGRATE_ROWS" \
  "$("$BIN" --version) ($(git rev-parse --short HEAD)); $("$PGBIN/postgres" --version)" >"$SECTION" <<'EOF'
import glob, re, sys

sys.path.insert(0, "benches/compare")
from report import machine, now, para, quarry_revision, wrk

work, secs, products, stocked, load, migrate_secs, migrate_rows, versions = sys.argv[1:9]

def total(name):
    runs = [wrk(open(path).read(), path) for path in sorted(glob.glob(f"{work}/{name}-*.out"))]
    return sum(r["rate"] for r in runs), max(r["p99"] for r in runs)

def pgbench(c):
    out = open(f"{work}/pgbench-c{c}.out").read()
    return float(re.search(r"tps = ([\d.]+) \(without initial connection time\)", out).group(1))

w1, w1p = total("n1-w1")
w64, w64p = total("n1-w64")
s1, s1p = total("n1-s32")
w2, w2p = total("n2-w2")
w264, w264p = total("n2-w64")
s2, s2p = total("n2-s32")
pg1, pg64 = pgbench(1), pgbench(64)

print(para(f"""What it measures: Quarry with its store in PostgreSQL (a throwaway cluster
on this machine, default durability), on one node and on two, against the same
database running the same booking bare (pgbench: a ledger row inserted and the
level updated, one transaction). The shop: {int(products):,} generated products
(the search benchmarks' text), {int(stocked):,} stocked at LOAD, moved from a data
dir into PostgreSQL with `quarry migrate --to` ({int(migrate_rows):,} rows in
{migrate_secs} s, checked). Writes are one-line receipts (`POST
/api/v1/movements`, acknowledged after PostgreSQL's COMMIT); searches the
5,000-query mix of `benches/search.rs`, measured after one warm-up run of the
same length (a write starts a new generation of each node's answer cache, and
a fresh node reads its products from the database). With two nodes each load generator
drives its own node with half the connections. {secs} s per measure; every
load generator, both nodes and PostgreSQL share the machine's cores."""))
print(f"""
```sh
benches/compare/postgres-nodes.sh {secs} {products}
```
""")
print(para(f"Run of {now()} on {machine(work)}; 1-minute load average before the run {load}:"))
print()
print("| measure | PostgreSQL bare (pgbench) | Quarry, 1 node | Quarry, 2 nodes |")
print("|---|---:|---:|---:|")
print(f"| bookings/s, 1 connection (2 on 2 nodes) | {pg1:,.0f} | {w1:,.0f} (p99 {w1p:.2f} ms) | {w2:,.0f} (p99 {w2p:.2f} ms) |")
print(f"| bookings/s, 64 connections | {pg64:,.0f} | {w64:,.0f} (p99 {w64p:.1f} ms) | {w264:,.0f} (p99 {w264p:.1f} ms) |")
print(f"| searches/s, 32 connections | — | {s1:,.0f} (p99 {s1p:.1f} ms) | {s2:,.0f} (p99 {s2p:.1f} ms) |")
print()
print(para(f"""Quarry's overhead over the bare database: at one connection Quarry books
{w1 / pg1:.2f}× pgbench's rate (each booking is the HTTP request, its checks, the
ledger row, its three index rows, the level, the change-log entry and the
idempotency work, one round trip each under the write lock); at 64
connections {w64 / pg64:.2f}× (group commit puts many bookings in one
transaction). A second node changes write throughput by {w264 / w64:.2f}× (writes
are taken one transaction at a time across the cluster, so it adds none) and
search throughput by {s2 / s1:.2f}× (on this 2-core machine the nodes and the load
generators share the same cores, so a second node cannot add CPU here)."""))
print()
print(para(f"Versions: {versions}. Non-2xx answers: 0; `quarry check` on the database after the run: clean."))
EOF
cat "$SECTION"
python3 benches/compare/report.py docs/PERFORMANCE.md postgres-nodes \
  "Quarry on PostgreSQL: one node and two (\`benches/compare/postgres-nodes.sh\`)" "$SECTION"
