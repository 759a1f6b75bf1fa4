#!/usr/bin/env bash
# Measures what docs/backup.md reports as RPO and RTO, on this machine, for a
# shop of 10,000 products and 100,000 orders (emporium seed --products
# --orders), in both shapes:
#
#   SQLite:      emporium backup (and the write pause it takes), backup
#                verify, emporium restore, start of the shop on the restored
#                directory until /readyz answers 200
#   PostgreSQL:  base backup (pg_basebackup + pg_verifybackup), pg_dump,
#                restore of the dump, and a point-in-time restore (copy of
#                the base backup + WAL replay to a noted time + promotion)
#                on a cluster of its own with WAL archiving
#
#   bench/backup_rpo_rto.sh [BUILD_DIR]      (default build/)
#
# Everything runs under a scratch directory on loopback, ports 62400-62499
# unless BENCH_PG_PORT / BENCH_HTTP_PORT say otherwise; every server started is
# stopped at the end. Results: one line per figure on stdout, and
# bench/results/backup-<time>.txt.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
E=$build/emporium
S=$root/scripts/pg-backup.sh
L=$root/scripts/local-services.sh
PRODUCTS=${BENCH_PRODUCTS:-10000}
ORDERS=${BENCH_ORDERS:-100000}
pg_port=${BENCH_PG_PORT:-62433}
http_port=${BENCH_HTTP_PORT:-62480}
[ -x "$E" ] || {
  echo "no $E: build first (make build)" >&2
  exit 1
}

scratch=$(mktemp -d /tmp/emporium-backup-bench-XXXXXX)
chmod o+x "$scratch"
shop_pid=""
cleanup() {
  [ -z "$shop_pid" ] || kill "$shop_pid" 2>/dev/null || true
  services stop "$scratch/pg-svc" >/dev/null 2>&1 || true
  rm -rf "$scratch"
}
trap cleanup EXIT

mkdir -p "$root/bench/results"
out="$root/bench/results/backup-$(date -u +%Y%m%dT%H%M%SZ).txt"
now() { date +%s.%N; }
# scripts/local-services.sh for this run's PostgreSQL (not exported: emporium
# refuses EMPORIUM_* variables it does not know).
services() { EMPORIUM_TEST_PG_PORT=$pg_port EMPORIUM_TEST_SERVICES=postgres "$L" "$@"; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.3f", b - a }'; }
report() {
  printf '%-44s %s\n' "$1" "$2" | tee -a "$out"
}
wait_ready() {
  until curl -sf -o /dev/null "http://127.0.0.1:$http_port/readyz"; do sleep 0.02; done
}

report "machine" "$(nproc) cores, $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg)"
report "data" "$PRODUCTS products, $ORDERS orders"

# --- SQLite ------------------------------------------------------------------
data=$scratch/sqlite/data
t=$(now)
"$E" seed --data-dir="$data" --products="$PRODUCTS" --orders="$ORDERS" --log-level=warn 2>/dev/null
report "sqlite: seed" "$(since "$t") s, $(du -sh "$data" | cut -f1)"
t=$(now)
"$E" backup --data-dir="$data" --out="$scratch/sqlite/backup" --log-level=warn 2>"$scratch/backup.log" >/dev/null
report "sqlite: backup" "$(since "$t") s"
report "sqlite: write pause" "$(grep -o 'paused [0-9]* us' "$scratch/backup.log" | cut -d' ' -f2) us"
t=$(now)
"$E" backup --log-level=warn verify "$scratch/sqlite/backup" >/dev/null 2>&1
report "sqlite: verify" "$(since "$t") s"
rm -rf "$data"
t=$(now)
"$E" restore --from="$scratch/sqlite/backup" --data-dir="$data" --log-level=warn >/dev/null 2>&1
restored=$(since "$t")
report "sqlite: restore (verify + copy + check)" "$restored s"
t=$(now)
"$E" serve --data-dir="$data" --listen="127.0.0.1:$http_port" --admin-listen=127.0.0.1:0 --demo-catalog=false \
  --admin-password=bench-password-123 --log-level=error &
shop_pid=$!
wait_ready
started=$(since "$t")
kill "$shop_pid"
wait "$shop_pid" || true
shop_pid=""
report "sqlite: start until /readyz 200" "$started s"
report "sqlite: RTO (restore + start)" "$(awk -v a="$restored" -v b="$started" 'BEGIN { printf "%.3f", a + b }') s"

# --- PostgreSQL ----------------------------------------------------------------
svc=$scratch/pg-svc
mkdir -p "$svc"
url=$(services start "$svc" 2>/dev/null | sed -n 's/^export EMPORIUM_TEST_DATABASE_URL=//p')
"$S" archive-on "$url" "$svc/archive" 2>/dev/null
services restart "$svc" >/dev/null 2>&1
t=$(now)
"$E" seed --database-url="$url" --data-dir="$scratch/pgdata-unused" --products="$PRODUCTS" \
  --orders="$ORDERS" --log-level=warn 2>/dev/null
report "postgres: seed" "$(since "$t") s, $(psql -X -tA "$url" -c "SELECT pg_size_pretty(pg_database_size(current_database()))")"
t=$(now)
"$S" base "$url" "$svc/base" 2>/dev/null
report "postgres: base backup + verify" "$(since "$t") s, $(du -sh "$svc/base" | cut -f1)"
t=$(now)
"$S" dump "$url" "$svc/emporium.dump" 2>/dev/null
report "postgres: pg_dump" "$(since "$t") s, $(du -h "$svc/emporium.dump" | cut -f1)"
# Work after the base backup, to replay: 10% more orders.
"$E" seed --database-url="$url" --data-dir="$scratch/pgdata-unused" --products=100 \
  --orders=$((ORDERS / 10)) --log-level=warn 2>/dev/null
noted=$(psql -X -tA "$url" -c "SELECT clock_timestamp()::text")
want=$(psql -X -tA "$url" -c 'SELECT count(*) FROM "order".orders')
sleep 1
psql -X -q "$url" -c 'DELETE FROM "order".order_items; DELETE FROM "order".orders'  # the mistake
t=$(now)
"$S" flush "$url" 2>/dev/null
report "postgres: WAL switch + archive (RPO bound)" "$(since "$t") s"
services stop "$svc" >/dev/null 2>&1
rm -rf "$svc/pg/data"
t=$(now)
"$S" restore "$svc/base" "$svc/archive" "$svc/pg/data" --time "$noted" 2>/dev/null
services start "$svc" >/dev/null 2>&1
until [ "$(psql -X -tA "$url" -c 'SELECT pg_is_in_recovery()' 2>/dev/null)" = f ]; do sleep 0.1; done
report "postgres: PITR (copy + replay + promote)" "$(since "$t") s"
got=$(psql -X -tA "$url" -c 'SELECT count(*) FROM "order".orders')
report "postgres: orders after PITR" "$got (expected $want)"
t=$(now)
"$S" restore-dump "$url" "$svc/emporium.dump" 2>/dev/null
report "postgres: restore of the dump" "$(since "$t") s"
echo "results in $out" >&2
