#!/usr/bin/env bash
# Measures the checkout journey (login -> add to cart -> place order) in both
# of Emporium's shapes with the checkout_load generator.
#
# Usage: bench/checkout.sh PATH/TO/emporium PATH/TO/checkout_load
#        (build the second with: cmake --build build --target checkout_load)
#
# For each shape (all-in-one, then split) it starts the shop on 127.0.0.1
# (demo catalog, --log-level=info, two I/O threads per process), runs
# checkout_load against the gateway port, prints its report, and stops the
# shop. checkout_load signs in as the admin, creates one product (price 9.99,
# stock 1000000000), registers one customer per thread, then each thread
# repeats the journey until the time is up.
#
# Every journey starts with a login, and every login verifies an argon2id
# password hash (about 20-40 ms of CPU each, by design), so on a small
# machine logins dominate the cost of a journey: orders/s here is bounded by
# password hashing, not by carts or orders. The per-step latency table shows
# it.
#
# A measurement, not a test: exits 0 whatever the numbers (failed calls
# included), non-zero only when the setup fails. Everything listens and is
# loaded on 127.0.0.1 only; everything started is stopped on exit. A JSON
# copy goes to bench/results/checkout-<UTC time>.json (git-ignored).
#
# Environment (all optional):
#   CHECKOUT_SECONDS   load duration per shape  (default 15)
#   CHECKOUT_THREADS   checkout_load threads    (default 8)
#   BENCH_SHAPES       shapes to run, in order  (default "all-in-one split")
#   BENCH_SERVE_ARGS   extra flags for every `emporium serve`, split on
#                      spaces (default none: SQLite under the scratch dir).
#                      For PostgreSQL, a database on a running server:
#                      BENCH_SERVE_ARGS="--database-url=postgres://USER@127.0.0.1:PORT/DB"
#                      (each service uses its own schema in it; both shapes
#                      share that database, each run adds its own product and
#                      customers). scripts/local-services.sh starts one.
#
# Needs: curl.
set -euo pipefail

# shellcheck disable=SC2034  # read by bench/lib.sh
bench_name=checkout
# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

readonly seconds="${CHECKOUT_SECONDS:-15}"
readonly load_threads="${CHECKOUT_THREADS:-8}"

[ "$#" -eq 2 ] || die "usage: $0 PATH/TO/emporium PATH/TO/checkout_load"
emporium_bin="$(bench_executable "$1")"
readonly emporium_bin
load_bin="$(bench_executable "$2")"
readonly load_bin
command -v curl >/dev/null || die "curl not found"
bench_check_shapes
[[ "$seconds" =~ ^[1-9][0-9]*$ ]] || die "CHECKOUT_SECONDS must be a whole number of seconds"
[[ "$load_threads" =~ ^[1-9][0-9]*$ ]] || die "CHECKOUT_THREADS must be a positive whole number"

declare -A orders_per_s=() journeys_per_s=() errors_of=() order_p50=() order_p99=() login_p50=()
declare -A processes_of=()
if [ "${#bench_serve_args[@]}" -gt 0 ]; then
  storage="serve flags: $(printf '%s' "${bench_serve_args[*]}" | bench_redact)"
else
  storage="SQLite (default storage)"
fi
readonly storage

# Prints field $2 (1-based, whitespace-separated) of the first line of file
# $1 matching the extended regex $3.
field() {
  awk -v n="$2" -v re="$3" '$0 ~ re { print $n; exit }' "$1"
}

for shape in $shapes; do
  dir="$work_dir/$shape"
  log "== $shape: starting the shop"
  shop_start "$shape" "$dir"
  log "$shape: gateway on $host:$gateway_port ($shop_processes; $storage); checkout_load: $load_threads threads, $seconds s"

  echo
  echo "== $shape: $shop_processes"
  # In the background and waited for, so that a signal stops it at once.
  rc=0
  "$load_bin" --port "$gateway_port" --threads "$load_threads" --seconds "$seconds" \
    --admin-email "$shop_admin_email" --admin-password "$shop_admin_password" \
    --json "$dir/checkout.json" >"$dir/checkout.out" 2>"$dir/checkout.err" &
  load_pid=$!
  bench_track "$load_pid" checkout_load
  wait "$load_pid" || rc=$?
  bench_stop "$load_pid"
  cat "$dir/checkout.out"
  if [ "$rc" -ne 0 ]; then
    cat "$dir/checkout.err" >&2
    die "checkout_load failed against the $shape shop (exit $rc)"
  fi
  cat "$dir/checkout.err" >&2
  bench_check_alive
  bench_stop_all

  out="$dir/checkout.out"
  orders_per_s[$shape]="$(field "$out" 4 '^orders placed:' | tr -d '(')"
  journeys_per_s[$shape]="$(field "$out" 4 '^journeys ended:' | tr -d '(')"
  errors_of[$shape]="$(field "$out" 2 '^errors:')"
  login_p50[$shape]="$(field "$out" 3 '^login ')"
  order_p50[$shape]="$(field "$out" 3 '^order ')"
  order_p99[$shape]="$(field "$out" 4 '^order ')"
  processes_of[$shape]="$shop_processes"
done

echo
echo "Summary: checkout journey, $load_threads threads, $seconds s per shape, $(nproc) CPUs"
echo "storage: $storage"
printf '%-11s %10s %12s %8s %14s %14s %14s\n' shape "orders/s" "journeys/s" errors \
  "login p50 ms" "order p50 ms" "order p99 ms"
for shape in $shapes; do
  printf '%-11s %10s %12s %8s %14s %14s %14s\n' "$shape" "${orders_per_s[$shape]}" \
    "${journeys_per_s[$shape]}" "${errors_of[$shape]}" "${login_p50[$shape]}" \
    "${order_p50[$shape]}" "${order_p99[$shape]}"
done
echo "note: every journey starts with a login (an argon2id verify, ~20-40 ms of CPU),"
echo "      so on $(nproc) CPUs password hashing, not cart or order work, bounds orders/s."

timestamp="$(date -u +%Y%m%dT%H%M%SZ)"
results_dir="$repo_root/bench/results"
results_file="$results_dir/checkout-$timestamp.json"
mkdir -p "$results_dir"
{
  printf '{\n'
  printf '  "benchmark": "checkout",\n'
  printf '  "timestamp": "%s",\n' "$timestamp"
  printf '  "host": "%s",\n' "$host"
  printf '  "cpus": %s,\n' "$(nproc)"
  printf '  "threads": %s,\n' "$load_threads"
  printf '  "seconds": %s,\n' "$seconds"
  printf '  "serve_args": ['
  sep=""
  for arg in "${bench_serve_args[@]+"${bench_serve_args[@]}"}"; do
    printf '%s"%s"' "$sep" "$(printf '%s' "$arg" | bench_redact | sed 's/\\/\\\\/g; s/"/\\"/g')"
    sep=", "
  done
  printf '],\n'
  printf '  "journey": ["POST /api/users/login", "POST /api/cart/{userId}/items", "POST /api/orders"],\n'
  printf '  "shapes": {'
  sep=""
  for shape in $shapes; do
    printf '%s\n    "%s": {"processes": "%s", "checkout_load": %s}' "$sep" "$shape" \
      "${processes_of[$shape]}" "$(cat "$work_dir/$shape/checkout.json")"
    sep=","
  done
  printf '\n  }\n'
  printf '}\n'
} >"$results_file"

echo
echo "results: ${results_file#"$repo_root"/}"
exit 0
