#!/usr/bin/env bash
# Runs every side-by-side measure of issue 11 and prints one table:
# measure, Emporium, reference, ratio, target, met?, each with the spread of
# three runs (median, then min-max).
#
# Usage: bench/all.sh BUILD_DIR     (make bench: BUILD_DIR/emporium and
#                                    BUILD_DIR/bench/checkout_load)
#
#   1. GET /healthz vs nginx (bench/http_vs_nginx.sh), access log on;
#   2. GET /api/products/{id}, cache warm, all-in-one and split, vs nginx
#      serving the same bytes (bench/shop_vs_nginx.sh);
#   3. a storefront asset, gzip variant from memory, vs nginx gzip_static
#      (bench/storefront_vs_nginx.sh);
#   4. checkout by shoppers signed in once (checkout_load --sign-in-once):
#      all-in-one on SQLite, then on a private PostgreSQL started here
#      (scripts/local-services.sh) beside `pgbench` TPC-B on that server;
#      each: three runs at full speed, then three rate-limited at half the
#      median rate for the order POST's p99; failed calls and the stock check
#      of every run;
#   5. memory: RSS of the SQLite all-in-one process after its checkout
#      runs, then a soak at half load for BENCH_SOAK seconds, sampling RSS
#      every 10 s; growth = last sample / first sample - 1.
# In 1-3 each of the three rounds loads nginx then emporium; the ratio of
# each round is emporium/nginx and the table shows their median and range.
#
# A measurement, not a test: exits 0 whatever the numbers, non-zero only when
# a setup fails. Everything listens on 127.0.0.1 only; everything started
# (PostgreSQL included) is stopped on exit. The scripts' own reports go to
# the scratch directory (kept with BENCH_KEEP=1) and bench/results/.
#
# Environment (all optional):
#   BENCH_QUICK=1        a try-out: 4 s wrk rounds, 6 s checkout runs and a
#                        30 s soak (the targets still apply, the numbers are
#                        noisier); default off: the issue's full lengths
#   BENCH_SOAK           soak seconds            (default 300; quick: 30)
#   CHECKOUT_SECONDS     per checkout run        (default 15; quick: 6)
#   CHECKOUT_THREADS     checkout_load threads   (default 16)
#   BENCH_DURATION, BENCH_WARMUP, BENCH_THREADS, BENCH_CONNECTIONS: as in
#                        bench/lib.sh (default 10s/2s/2/64; quick: 4s/1s)
#   BENCH_ONLY           a subset of: http shop storefront sqlite postgres
#                        (default all; memory comes with sqlite)
#
# Needs: what scripts/install-deps.sh installs (nginx-light, wrk, curl,
# postgresql-15 with pgbench).
set -euo pipefail

# shellcheck disable=SC2034  # read by bench/lib.sh
bench_name=bench
quick="${BENCH_QUICK:-0}"
if [ "$quick" = 1 ]; then
  export BENCH_DURATION="${BENCH_DURATION:-4s}" BENCH_WARMUP="${BENCH_WARMUP:-1s}"
fi
export BENCH_ROUNDS=3
# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

readonly soak_s="${BENCH_SOAK:-$([ "$quick" = 1 ] && echo 30 || echo 300)}"
readonly checkout_s="${CHECKOUT_SECONDS:-$([ "$quick" = 1 ] && echo 6 || echo 15)}"
readonly checkout_threads="${CHECKOUT_THREADS:-16}"
readonly only="${BENCH_ONLY:-http shop storefront sqlite postgres}"
readonly pg_bin="${EMPORIUM_PG_BIN:-/usr/lib/postgresql/15/bin}"
readonly services_script="$repo_root/scripts/local-services.sh"

[ "$#" -eq 1 ] || die "usage: $0 BUILD_DIR"
emporium_bin="$(bench_executable "$1/emporium")"
readonly emporium_bin
load_bin="$(bench_executable "$1/bench/checkout_load")"
readonly load_bin
bench_need_load_tools
for n in "$soak_s" "$checkout_s" "$checkout_threads"; do
  [[ "$n" =~ ^[1-9][0-9]*$ ]] || die "BENCH_SOAK, CHECKOUT_SECONDS, CHECKOUT_THREADS: whole numbers"
done
wants() { [[ " $only " == *" $1 "* ]]; }

# ---------------------------------------------------------------------------
# The table. Each row: measure | emporium | reference | ratio | target | met.
# ---------------------------------------------------------------------------

rows=()
row() { rows+=("$(printf '%s\t' "$@")"); }

# stats V...: "median min max" of the numbers given.
stats() {
  printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 }
    END { if (NR == 0) { print "- - -"; exit }
          m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
          printf "%s %s %s\n", m, v[1], v[NR] }'
}
# spread FORMAT V...: "median (min-max)" printed with FORMAT (e.g. %.2f).
spread() {
  local fmt="$1" m lo hi
  shift
  read -r m lo hi <<<"$(stats "$@")"
  [ "$m" != - ] || { echo "-"; return; }
  # shellcheck disable=SC2059
  printf "$fmt ($fmt-$fmt)" "$m" "$lo" "$hi"
}
median() { stats "$@" | cut -d' ' -f1; }
# met VALUE OP LIMIT: yes/no (OP: ge, le, lt, eq).
met() {
  awk -v v="$1" -v op="$2" -v t="$3" 'BEGIN {
    ok = (op == "ge") ? v >= t : (op == "le") ? v <= t : (op == "lt") ? v < t : v == t
    print (v == "-" ? "no" : ok ? "yes" : "NO") }'
}

# rounds_from FILE SECTION NAME: the req/s of NAME's rounds in the "All
# rounds" table after the line matching SECTION (any line for "").
rounds_from() {
  awk -v section="$2" -v name="$3" '
    section == "" || index($0, section) == 1 { on = 1 }
    on && /^All rounds:/ { table = 1; next }
    table && $1 == name && $2 ~ /^[0-9]+$/ { print $3 }
    table && NF == 0 { table = 0; if (section != "") on = 0 }' "$1"
}

# ratio_rows LABEL FILE SECTION TARGET: one row from nginx/emporium rounds.
ratio_rows() {
  local label="$1" file="$2" section="$3" target="$4" i
  local -a n e r=()
  mapfile -t n < <(rounds_from "$file" "$section" nginx)
  mapfile -t e < <(rounds_from "$file" "$section" emporium)
  if [ "${#n[@]}" -eq 0 ] || [ "${#n[@]}" -ne "${#e[@]}" ]; then
    die "$label: no rounds in $file"
  fi
  for i in "${!n[@]}"; do
    r+=("$(awk -v a="${e[$i]}" -v b="${n[$i]}" 'BEGIN { printf "%.3f", (b > 0 ? a / b : 0) }')")
  done
  row "$label" "$(spread %.0f "${e[@]}") req/s" "nginx $(spread %.0f "${n[@]}")" \
    "$(spread %.2f "${r[@]}")" ">= $target x" "$(met "$(median "${r[@]}")" ge "$target")"
}

# ---------------------------------------------------------------------------
# 1-3: the nginx comparisons, through their scripts.
# ---------------------------------------------------------------------------

run_script() {
  local name="$1"
  shift
  log "== $name"
  "$@" >"$work_dir/$name.out" 2>"$work_dir/$name.err" || {
    cat "$work_dir/$name.err" >&2
    die "$name failed"
  }
  cat "$work_dir/$name.out"
}

if wants http; then
  run_script http_vs_nginx "$repo_root/bench/http_vs_nginx.sh" "$emporium_bin"
  ratio_rows "GET /healthz (access log on)" "$work_dir/http_vs_nginx.out" "" 0.95
fi
if wants shop; then
  run_script shop_vs_nginx "$repo_root/bench/shop_vs_nginx.sh" "$emporium_bin"
  ratio_rows "GET /api/products/{id} all-in-one" "$work_dir/shop_vs_nginx.out" "== all-in-one" 0.9
  ratio_rows "GET /api/products/{id} split" "$work_dir/shop_vs_nginx.out" "== split" 0.4
fi
if wants storefront; then
  run_script storefront_vs_nginx "$repo_root/bench/storefront_vs_nginx.sh" "$emporium_bin"
  ratio_rows "storefront asset (gzip, precompressed)" "$work_dir/storefront_vs_nginx.out" "" 0.9
fi

# ---------------------------------------------------------------------------
# 4-5: checkout and memory.
# ---------------------------------------------------------------------------

# field FILE N REGEX: field N of the first line of FILE matching REGEX.
field() { awk -v n="$2" -v re="$3" '$0 ~ re { print $n; exit }' "$1"; }
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
# The part of the RSS that is the process's own memory (heap, stacks), not
# pages of mapped files (the binary and its libraries).
anon_kb() { awk '/^RssAnon:/ { print $2 }' "/proc/$1/status"; }

# checkout_run NAME [--rate R]: one checkout_load run against $gateway_port;
# appends to run_orders, run_p99, run_errors, run_stock.
checkout_run() {
  local name="$1" out="$work_dir/$1.out" rc=0
  shift
  "$load_bin" --port "$gateway_port" --threads "$checkout_threads" --seconds "$checkout_s" \
    --admin-email "$shop_admin_email" --admin-password "$shop_admin_password" --sign-in-once \
    "$@" >"$out" 2>"$work_dir/$name.err" &
  local pid=$!
  bench_track "$pid" checkout_load
  wait "$pid" || rc=$?
  bench_stop "$pid"
  [ "$rc" -eq 0 ] || [ "$rc" -eq 3 ] || { cat "$work_dir/$name.err" >&2; die "checkout_load $name failed"; }
  run_orders+=("$(field "$out" 4 '^orders placed:' | tr -d '(')")
  run_p99+=("$(field "$out" 8 '^order POST latency:')")
  run_errors+=("$(field "$out" 2 '^errors:')")
  run_stock+=("$(awk '/^stock check:/ { print $NF }' "$out")")
  log "$name: ${run_orders[-1]} orders/s, order p99 ${run_p99[-1]} ms, errors ${run_errors[-1]}, stock ${run_stock[-1]}"
}

# checkout_rows STORAGE TARGET REFERENCE REF_RATIO_BASE: three full runs and
# three at half their median rate; adds the orders/s, p99 and failure rows.
checkout_rows() {
  local storage="$1" target="$2" reference="$3" ref_tps="$4" i half ratio="-"
  run_orders=() run_p99=() run_errors=() run_stock=()
  for i in 1 2 3; do checkout_run "$storage-full-$i"; done
  local -a full=("${run_orders[@]}") errs=("${run_errors[@]}") stock=("${run_stock[@]}")
  half="$(awk -v r="$(median "${full[@]}")" 'BEGIN { h = int(r / 2); print (h < 1 ? 1 : h) }')"
  run_orders=() run_p99=()
  for i in 1 2 3; do checkout_run "$storage-half-$i" --rate "$half"; done
  errs+=("${run_errors[@]}")
  stock+=("${run_stock[@]}")
  if [ "$ref_tps" != - ]; then
    ratio="$(awk -v a="$(median "${full[@]}")" -v b="$ref_tps" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')"
  fi
  row "checkout orders/s, $storage" "$(spread %.0f "${full[@]}")" "$reference" "$ratio" \
    ">= $target/s" "$(met "$(median "${full[@]}")" ge "$target")"
  row "order POST p99 at $half/s, $storage" "$(spread %.1f "${run_p99[@]}") ms" - - "< 50 ms" \
    "$(met "$(median "${run_p99[@]}")" lt 50)"
  local total=0 e bad=0 s
  for e in "${errs[@]}"; do total=$((total + e)); done
  for s in "${stock[@]}"; do [ "$s" = ok ] || bad=$((bad + 1)); done
  row "failed calls / stock mismatches, $storage" "$total / $bad (of ${#errs[@]} runs)" - - "0 / 0" \
    "$([ "$total" -eq 0 ] && [ "$bad" -eq 0 ] && echo yes || echo NO)"
}

# soak PID RATE: RSS samples every 10 s during a soak at RATE orders/s.
soak() {
  local pid="$1" rate="$2" load_pid start_rss end_rss start_anon end_anon samples=()
  start_rss="$(rss_kb "$pid")"
  start_anon="$(anon_kb "$pid")"
  "$load_bin" --port "$gateway_port" --threads "$checkout_threads" --seconds "$soak_s" \
    --admin-email "$shop_admin_email" --admin-password "$shop_admin_password" --sign-in-once \
    --rate "$rate" >"$work_dir/soak.out" 2>"$work_dir/soak.err" &
  load_pid=$!
  bench_track "$load_pid" checkout_load
  while kill -0 "$load_pid" 2>/dev/null; do
    samples+=("$(rss_kb "$pid")/$(anon_kb "$pid")")
    sleep 10 & wait $! || true
  done
  bench_stop "$load_pid"
  end_rss="$(rss_kb "$pid")"
  end_anon="$(anon_kb "$pid")"
  log "soak RSS/RssAnon samples (kB): ${samples[*]} $end_rss/$end_anon"
  local growth anon_growth
  growth="$(awk -v a="$start_rss" -v b="$end_rss" 'BEGIN { printf "%.1f", (b / a - 1) * 100 }')"
  anon_growth="$(awk -v a="$start_anon" -v b="$end_anon" 'BEGIN { printf "%.1f", (b / a - 1) * 100 }')"
  row "RSS after checkout load, SQLite" "$((start_rss / 1024)) MB (own $((start_anon / 1024)) MB)" - - - -
  row "RSS growth over ${soak_s}s soak at $rate/s" "$growth % ($((start_rss / 1024))->$((end_rss / 1024)) MB)" - - \
    "<= 10 %" "$(met "${growth#-}" le 10)"
  row "  of it own memory (RssAnon)" "$anon_growth % ($((start_anon / 1024))->$((end_anon / 1024)) MB)" - - \
    "<= 10 %" "$(met "${anon_growth#-}" le 10)"
  row "soak orders/s, errors" "$(field "$work_dir/soak.out" 4 '^orders placed:' | tr -d '(') / $(field "$work_dir/soak.out" 2 '^errors:')" - - - -
}

if wants sqlite; then
  log "== checkout, all-in-one on SQLite"
  shop_start all-in-one "$work_dir/sqlite"
  sqlite_pid="${bench_pids[-1]}"
  checkout_rows SQLite 2000 - -
  half="$(awk -v r="$(median "${run_orders[@]}")" 'BEGIN { print int(r) }')"
  log "== soak: ${soak_s}s at ${half}/s"
  soak "$sqlite_pid" "$half"
  bench_stop_all
fi

if wants postgres; then
  for tool in pgbench psql initdb pg_ctl; do
    [ -x "$pg_bin/$tool" ] || die "no $tool in $pg_bin (PostgreSQL 15; see scripts/install-deps.sh)"
  done
  pg_port="$(free_port 27432)" || die "no free port for PostgreSQL"
  services_dir="$work_dir/services"
  pg_started=0
  # shellcheck disable=SC2317  # only reached through the EXIT trap
  all_cleanup() {
    stop_pid "$wrk_pid"
    bench_stop_all
    if [ "$pg_started" -eq 1 ]; then
      EMPORIUM_TEST_SERVICES=postgres EMPORIUM_PG_BIN="$pg_bin" "$services_script" stop "$services_dir" \
        2>/dev/null || log "could not stop PostgreSQL under $services_dir"
    fi
    [ "${BENCH_KEEP:-0}" = 1 ] && { log "kept $work_dir"; return; }
    rm -rf "$work_dir"
  }
  trap all_cleanup EXIT
  chmod 711 "$work_dir"
  mkdir -p "$services_dir"
  pg_started=1
  log "== PostgreSQL on $host:$pg_port (scripts/local-services.sh)"
  EMPORIUM_TEST_SERVICES=postgres EMPORIUM_PG_BIN="$pg_bin" EMPORIUM_TEST_PG_PORT="$pg_port" \
    "$services_script" start "$services_dir" >"$work_dir/services.env" 2>"$work_dir/services.err" \
    || { cat "$work_dir/services.err" >&2; die "could not start PostgreSQL"; }
  pg_sql() { "$pg_bin/psql" -X -q -v ON_ERROR_STOP=1 -h "$host" -p "$pg_port" -U postgres "$@"; }
  pg_sql -d postgres -c "CREATE DATABASE shop" -c "CREATE DATABASE pgbench" >/dev/null
  "$pg_bin/pgbench" -i -q -s 10 -h "$host" -p "$pg_port" -U postgres pgbench >"$work_dir/pgbench-init.log" 2>&1 \
    || { cat "$work_dir/pgbench-init.log" >&2; die "pgbench -i failed"; }
  tps=()
  for i in 1 2 3; do
    "$pg_bin/pgbench" -n -c "$checkout_threads" -j 2 -T "$checkout_s" -h "$host" -p "$pg_port" \
      -U postgres pgbench >"$work_dir/pgbench-$i.out" 2>&1 || die "pgbench failed"
    tps+=("$(awk '/^tps = / { print $3; exit }' "$work_dir/pgbench-$i.out")")
    log "pgbench TPC-B run $i: ${tps[-1]} tps"
  done
  log "== checkout, all-in-one on PostgreSQL"
  shop_start all-in-one "$work_dir/postgres" --database-url="postgres://postgres@$host:$pg_port/shop"
  checkout_rows PostgreSQL 1000 "pgbench TPC-B $(spread %.0f "${tps[@]}") tps" "$(median "${tps[@]}")"
  bench_stop_all
fi

# ---------------------------------------------------------------------------
# Print.
# ---------------------------------------------------------------------------

echo
echo "Emporium vs references, $(nproc) CPUs, $(date -u +%Y-%m-%dT%H:%MZ)$([ "$quick" = 1 ] && echo ' (BENCH_QUICK: short runs)')"
echo "values: median (min-max) of 3 runs; wrk -t$threads -c$connections -d$duration; checkout_load $checkout_threads threads, ${checkout_s}s a run"
{
  printf 'measure\tEmporium\treference\tratio\ttarget\tmet?\t\n'
  printf '%s\n' "${rows[@]}"
} | awk -F '\t' '
  { for (i = 1; i < NF; i++) { cell[NR, i] = $i; if (length($i) > w[i]) w[i] = length($i) }
    if (NF - 1 > cols) cols = NF - 1 }
  END { for (r = 1; r <= NR; r++) { line = ""
          for (i = 1; i <= cols; i++) line = line sprintf("%-" w[i] "s  ", cell[r, i])
          sub(/ +$/, "", line); print line } }'
exit 0
