#!/usr/bin/env bash
# Durable stock-movement bookings, Quarry against PostgreSQL on this machine,
# in one run. Quarry: the release `quarry serve` with 2,000 products stocked
# at LOAD, driven by wrk with one-line receipts (POST /api/v1/movements; each
# 2xx is fsynced before it is answered). PostgreSQL: a throwaway cluster with
# its default durability, driven by pgbench with the same booking as one
# transaction (a ledger row and the level it changes, benches/compare/
# pg-movement.sql). At 1 connection, then 64; the load generator shares the
# cores with the server in both cases. Prints a markdown section and writes
# it into docs/PERFORMANCE.md between the compare:postgres markers.
#
#   benches/compare/postgres.sh [seconds]     (default 30 per level and system)
#
# Installs postgresql, postgresql-contrib and wrk with apt-get if missing.
set -euo pipefail
cd "$(dirname "$0")/../.."
SECONDS_RUN="${1:-30}"
SKUS=2000
LEVELS=("1 1" "64 2") # connections threads
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/quarry-target}"
BIN="$CARGO_TARGET_DIR/release/quarry"

PGBIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
if [ -z "$PGBIN" ] || [ ! -x "$PGBIN/pgbench" ] || ! command -v wrk >/dev/null; then
  apt-get update -qq && apt-get install -y -qq postgresql postgresql-contrib wrk >/dev/null
  PGBIN="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)"
fi

WORK="$(mktemp -d)"
chmod 711 "$WORK" # the postgres user must reach its own directory inside
PGDIR="$WORK/pg"
cleanup() {
  if [ -n "${SERVER:-}" ]; then kill "$SERVER" 2>/dev/null || true; fi
  if [ -f "$PGDIR/data/postmaster.pid" ]; then
    runuser -u postgres -- "$PGBIN/pg_ctl" -D "$PGDIR/data" -m immediate stop >/dev/null 2>&1 || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

cargo build --release --quiet --locked
LOAD_BEFORE="$(cut -d' ' -f1 /proc/loadavg)" # other work on the machine skews the figures

# --- Quarry -----------------------------------------------------------------
DATA="$WORK/quarry"
awk -v n="$SKUS" 'BEGIN { print "sku,name,category,unit,price"
  for (i = 1; i <= n; i++) printf "P-%07d,Washed sand %d,Aggregates/Sand,t,10.00\n", i, i }' >"$WORK/products.csv"
awk -v n="$SKUS" 'BEGIN { print "sku,location,quantity"
  for (i = 1; i <= n; i++) printf "P-%07d,LOAD,1000\n", i }' >"$WORK/stock.csv"
cut -d, -f1 "$WORK/stock.csv" | tail -n +2 >"$WORK/skus.txt"
for what in products stock; do # stock creates the location LOAD
  "$BIN" --data-dir "$DATA" import "$what" "$WORK/$what.csv" >"$WORK/import.log" 2>&1 \
    || { cat "$WORK/import.log" >&2; exit 1; }
done
TOKEN="$("$BIN" --data-dir "$DATA" token create --name compare --role owner | tail -n 1)"
QPORT="$(free_port)"
QUARRY_LOG_LEVEL=warn "$BIN" --data-dir "$DATA" serve --listen "127.0.0.1:$QPORT" >"$WORK/serve.log" 2>&1 &
SERVER=$!
for _ in $(seq 1 300); do
  curl -fs "http://127.0.0.1:$QPORT/readyz" >/dev/null && break
  sleep 0.2
done
curl -fs "http://127.0.0.1:$QPORT/readyz" >/dev/null || { cat "$WORK/serve.log" >&2; exit 1; }
for level in "${LEVELS[@]}"; do
  read -r c t <<<"$level"
  echo "Quarry: $c connections, ${SECONDS_RUN} s" >&2
  SKUS_FILE="$WORK/skus.txt" TOKEN="$TOKEN" wrk -t"$t" -c"$c" -d"${SECONDS_RUN}s" --latency \
    -s benches/wrk-movements.lua "http://127.0.0.1:$QPORT" >"$WORK/quarry-c$c.out" 2>&1
done
kill "$SERVER"
wait "$SERVER" 2>/dev/null || true
SERVER=

# --- PostgreSQL ---------------------------------------------------------------
# Default durability: fsync, synchronous_commit and full_page_writes are left
# as initdb sets them. Only where it listens is given.
mkdir "$PGDIR" && chown postgres: "$PGDIR"
PGPORT="$(free_port)"
runuser -u postgres -- "$PGBIN/initdb" -D "$PGDIR/data" -U postgres --auth=trust -E UTF8 --no-locale >/dev/null
runuser -u postgres -- "$PGBIN/pg_ctl" -D "$PGDIR/data" -l "$PGDIR/server.log" -w \
  -o "-c listen_addresses=127.0.0.1 -c port=$PGPORT -c unix_socket_directories=$PGDIR" start >/dev/null
PSQL=("$PGBIN/psql" -h 127.0.0.1 -p "$PGPORT" -U postgres -v ON_ERROR_STOP=1 -q)
"${PSQL[@]}" -c 'CREATE DATABASE compare'
"${PSQL[@]}" -d compare <<EOF
CREATE TABLE levels (sku text, location text, on_hand numeric, PRIMARY KEY (sku, location));
CREATE TABLE movements (id bigserial PRIMARY KEY, kind text, sku text, location text,
  quantity numeric, reference text, created_at timestamptz DEFAULT now());
INSERT INTO levels SELECT 'P-' || lpad(i::text, 7, '0'), 'LOAD', 1000 FROM generate_series(1, $SKUS) i;
VACUUM ANALYZE levels;
EOF
PG_SETTINGS="$("${PSQL[@]}" -d compare -At -c "SELECT string_agg(name || ' = ' || setting, ', ' ORDER BY name)
  FROM pg_settings WHERE name IN ('fsync', 'synchronous_commit', 'full_page_writes', 'wal_sync_method')")"
for level in "${LEVELS[@]}"; do
  read -r c t <<<"$level"
  echo "PostgreSQL: $c connections, ${SECONDS_RUN} s" >&2
  "$PGBIN/pgbench" -h 127.0.0.1 -p "$PGPORT" -U postgres -n -M prepared -c "$c" -j "$t" -T "$SECONDS_RUN" \
    -D skus="$SKUS" -f benches/compare/pg-movement.sql --log --log-prefix="$WORK/pglog-c$c" compare \
    >"$WORK/pgbench-c$c.out" 2>&1 || { cat "$WORK/pgbench-c$c.out" >&2; exit 1; }
done

# --- Report -------------------------------------------------------------------
SOURCE="$(findmnt -n -o SOURCE,FSTYPE -T "$WORK" | tr -s ' ')"
MACHINE="$(nproc) cores ($(lscpu | sed -n 's/^Model name: *//p' | head -n 1)), \
$(free -g | awk '/^Mem:/ {print $2}') GiB RAM, temp dirs on $SOURCE ($(df -h --output=size "$WORK" | tail -n 1 | tr -d ' '))"
REV="$(git rev-parse --short HEAD)"
git diff --quiet HEAD -- src Cargo.toml Cargo.lock || REV="$REV with uncommitted changes to src"
VERSIONS="$("$BIN" --version) ($REV); $("$PGBIN/postgres" --version); \
$("$PGBIN/pgbench" --version); $( (wrk --version 2>&1 || true) | head -n 1 | cut -d' ' -f1-2)"
SECTION="$WORK/section.md"
python3 - "$WORK" "$SECONDS_RUN" "$SKUS" "$MACHINE" "$VERSIONS" "$PG_SETTINGS" \
  "$LOAD_BEFORE" "${LEVELS[@]}" >"$SECTION" <<'EOF'
import glob, re, sys

sys.path.insert(0, "benches/compare")
from report import now, para, wrk

work, secs, skus, machine, versions, pg_settings, load = sys.argv[1:8]
levels = [int(l.split()[0]) for l in sys.argv[8:]]

def quarry(c):
    run = wrk(open(f"{work}/quarry-c{c}.out").read(), f"Quarry at {c} connections")
    return run["requests"], run["rate"], run["p99"]

def postgres(c):
    out = open(f"{work}/pgbench-c{c}.out").read()
    failed = re.search(r"number of failed transactions: (\d+)", out)
    if failed and int(failed.group(1)):
        sys.exit(f"PostgreSQL at {c} connections: {failed.group(1)} failed transactions\n{out}")
    rate = float(re.search(r"tps = ([\d.]+) \(without initial connection time\)", out).group(1))
    # Per-transaction log lines: client, transaction, latency in µs, script, epoch s, µs.
    latencies = sorted(int(line.split()[2]) for path in glob.glob(f"{work}/pglog-c{c}.*")
                       for line in open(path))
    p99 = latencies[max(0, -(-99 * len(latencies) // 100) - 1)] / 1000
    return len(latencies), rate, p99

rows, verdicts = [], []
for c in levels:
    q_total, q_rate, q_p99 = quarry(c)
    p_total, p_rate, p_p99 = postgres(c)
    ratio = q_rate / p_rate
    word = "faster" if ratio >= 1 else "**slower**"
    rows.append(f"| {c} | {q_rate:,.0f} | {q_p99:.2f} ms | {p_rate:,.0f} | {p_p99:.2f} ms "
                f"| {ratio:.2f}× (Quarry {word}) |")
    at = f"At {c} connection{'s' if c > 1 else ''}"
    if ratio < 1:
        verdict = f"{at} Quarry is slower than PostgreSQL: {ratio:.2f}× its throughput"
    else:
        verdict = f"{at} Quarry books {ratio:.2f}× PostgreSQL's movements per second"
    tail = ("about the same" if abs(q_p99 - p_p99) <= 0.05 * p_p99
            else "worse" if q_p99 > p_p99 else "better")
    verdicts.append(f"{verdict}; its p99 is {tail}: {q_p99:.2f} ms against {p_p99:.2f} ms "
                    f"(Quarry booked {q_total:,} movements, PostgreSQL {p_total:,}).")

print(para(f"""What it compares: durable stock movements booked one at a time by
many clients. Quarry: the release `quarry serve`, {int(skus):,} products stocked
at LOAD, wrk sending one-line receipts (`POST /api/v1/movements`; each 2xx is
fsynced before it is answered, concurrent ones share an fsync). PostgreSQL: a
throwaway cluster on the same disk, pgbench (prepared statements) running the
same booking as one transaction — a ledger row inserted and the level row
updated (`benches/compare/pg-movement.sql`). PostgreSQL keeps its default
durability: {pg_settings}. Each level runs {secs} s; wrk and pgbench share the
cores with the server. Throughput is movements per second; p99 is per request
(wrk) or per transaction (pgbench's per-transaction log)."""))
print(f"""
```sh
benches/compare/postgres.sh {secs}
```
""")
print(para(f"Run of {now()} on {machine}; 1-minute load average before the run {load} "
           "(other work on the machine skews the figures):"))
print()
print("| connections | Quarry movements/s | Quarry p99 | PostgreSQL movements/s "
      "| PostgreSQL p99 | Quarry / PostgreSQL (throughput) |")
print("|---:|---:|---:|---:|---:|---|")
print("\n".join(rows))
print()
print("\n".join(para(v, "- ") for v in verdicts))
print()
print(para(f"Versions: {versions}. Non-2xx answers and failed transactions: 0."))
EOF

cat "$SECTION"
python3 benches/compare/report.py docs/PERFORMANCE.md postgres \
  "Stock writes vs PostgreSQL (\`benches/compare/postgres.sh\`)" "$SECTION"
