#!/usr/bin/env bash
# Measures the shop's product read, GET /api/products/{id}, through the
# gateway on PostgreSQL, with Redis, with the in-process cache and with no
# cache, side by side with `pgbench -S` on the same PostgreSQL server.
#
# Usage: bench/postgres_reads.sh PATH/TO/emporium
#
#   1. start a private PostgreSQL 15 and Redis on free loopback ports under
#      the scratch directory (scripts/local-services.sh, nothing else);
#   2. create one database per shop configuration, and a database `pgbench`
#      initialised with `pgbench -i -s $PGBENCH_SCALE` (TPC-B-like tables);
#   3. start three shops in the split shape (product, user, cart, order and
#      gateway processes, each service its own schema, --log-level=info, two
#      I/O threads each, the default pool of 8 connections per service), one
#      per configuration:
#        redis    --database-url=... --redis-url=...  (product reads cached
#                 in Redis, shared by processes)
#        lru      --database-url=...  (no shared cache: the in-process LRU,
#                 the default when redis_url is empty)
#        nocache  --database-url=... --cache-ttl=0s  (cache off: every read
#                 is a query; the uncached read path)
#      and pick each shop's first product;
#   4. warm everything up, then run rounds; each round runs, one at a time,
#      `pgbench -S -j 2 -T <wrk duration>` over TCP to 127.0.0.1 for every
#      client count in PGBENCH_CLIENTS, then wrk against each shop's gateway
#      (redis, lru, nocache); the product service's
#      emporium_cache_requests_total{cache="product"} is read from its
#      /metrics before and after each wrk run, so the hits and misses of
#      every round are known (with the cache off neither counts);
#   5. stop the shops, then count the committed transactions in each shop's
#      database over warm-up and rounds (pg_stat_database.xact_commit,
#      background work included) per request served: about 1 with the cache
#      off, near 0 with a cache;
#   6. report every round, the better round of each (higher req/s or tps),
#      and the ratios shop req/s / pgbench tps; stop everything.
#
# pgbench uses its default (simple) query protocol, one SELECT per
# transaction, and writes a per-transaction log (-l) for its p50/p99. Its
# default client counts are the product service's pool size (read from its
# /metrics: the only pool on this read path) and wrk's connection count.
# The shops are idle while pgbench runs, and all but the loaded shop are idle
# while wrk runs; wrk, the gateway, the product service and PostgreSQL share
# the machine's CPUs, as pgbench and PostgreSQL do.
#
# A measurement, not a test: exits 0 whatever the numbers, non-zero only when
# the setup fails. Everything listens and is loaded on 127.0.0.1 only;
# everything started (PostgreSQL and Redis included) is stopped on exit. A
# JSON copy of the results goes to bench/results/postgres_reads-<UTC
# time>.json (git-ignored).
#
# Environment (all optional):
#   BENCH_THREADS      wrk threads              (default 2)
#   BENCH_CONNECTIONS  wrk connections          (default 64)
#   BENCH_DURATION     wrk duration per round, and pgbench -T (default 10s)
#   BENCH_WARMUP       warm-up per shop and per pgbench client count (default 2s)
#   BENCH_ROUNDS       rounds                   (default 2)
#   BENCH_SERVE_ARGS   extra flags for every `emporium serve` (default none;
#                      not the storage or cache flags, which this script sets)
#   PGBENCH_CLIENTS    pgbench client counts    (default: "POOL CONNECTIONS",
#                      the product pool size and BENCH_CONNECTIONS)
#   PGBENCH_SCALE      pgbench -i scale factor  (default 10)
#   EMPORIUM_PG_BIN    PostgreSQL 15 binaries   (default /usr/lib/postgresql/15/bin)
#
# Needs: wrk, curl, PostgreSQL 15 (server, psql, pgbench) and redis-server
# (scripts/install-deps.sh installs them).
set -euo pipefail

# shellcheck disable=SC2034  # read by bench/lib.sh
bench_name=postgres_reads
# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

readonly pg_bin="${EMPORIUM_PG_BIN:-/usr/lib/postgresql/15/bin}"
readonly pgbench_scale="${PGBENCH_SCALE:-10}"
readonly services_script="$repo_root/scripts/local-services.sh"
readonly services_dir="$work_dir/services"
readonly configs="redis lru nocache"
declare -A config_title=(
  [redis]="(a) PostgreSQL + Redis cache"
  [lru]="(b) PostgreSQL + in-process LRU"
  [nocache]="(c) PostgreSQL, cache off"
)

[ "$#" -eq 1 ] || die "usage: $0 PATH/TO/emporium"
emporium_bin="$(bench_executable "$1")"
readonly emporium_bin
command -v wrk >/dev/null || die "wrk not found (Debian: wrk; see scripts/install-deps.sh)"
command -v curl >/dev/null || die "curl not found"
command -v redis-server >/dev/null || die "redis-server not found (see scripts/install-deps.sh)"
for tool in pgbench psql initdb pg_ctl; do
  [ -x "$pg_bin/$tool" ] || die "no $tool in $pg_bin (PostgreSQL 15; see scripts/install-deps.sh)"
done
[ -x "$services_script" ] || die "not found: $services_script"
[[ "$pgbench_scale" =~ ^[1-9][0-9]*$ ]] || die "PGBENCH_SCALE must be a positive whole number"

# Prints wrk duration $1 (N, Ns, Nm or Nh) in whole seconds, for pgbench -T.
seconds_of() {
  local v="$1" n
  case "$v" in
    *[0-9]) n="$v" ;;
    *s) n="${v%s}" ;;
    *m) n="${v%m}" ;;
    *h) n="${v%h}" ;;
    *) n="" ;;
  esac
  if ! [[ "$n" =~ ^[0-9]+$ ]] || [ "$n" -eq 0 ]; then
    die "cannot read '$v' as a duration (N, Ns, Nm or Nh)"
  fi
  case "$v" in
    *m) n=$((n * 60)) ;;
    *h) n=$((n * 3600)) ;;
  esac
  echo "$n"
}
duration_s="$(seconds_of "$duration")"
readonly duration_s
warmup_s="$(seconds_of "$warmup")"
readonly warmup_s

# ---------------------------------------------------------------------------
# PostgreSQL and Redis, stopped on exit after the processes using them.
# ---------------------------------------------------------------------------

services_started=0
pg_port="$(free_port 25432)" || die "no free port for PostgreSQL"
redis_port="$(free_port 26379)" || die "no free port for Redis"
readonly pg_port redis_port

# shellcheck disable=SC2317  # only reached through the EXIT trap
postgres_reads_cleanup() {
  stop_pid "$wrk_pid"
  bench_stop_all
  if [ "$services_started" -eq 1 ]; then
    EMPORIUM_TEST_SERVICES="postgres redis" EMPORIUM_PG_BIN="$pg_bin" \
      "$services_script" stop "$services_dir" 2>"$work_dir/services-stop.err" \
      || { cat "$work_dir/services-stop.err" >&2; log "could not stop PostgreSQL/Redis under $services_dir"; }
  fi
  bench_cleanup
}
trap postgres_reads_cleanup EXIT

# PostgreSQL runs as its own user when we are root: it must reach the directory.
chmod 711 "$work_dir"
mkdir -p "$services_dir"
log "starting PostgreSQL on $host:$pg_port and Redis on $host:$redis_port under $services_dir"
services_started=1
exports="$(EMPORIUM_TEST_SERVICES="postgres redis" EMPORIUM_PG_BIN="$pg_bin" \
  EMPORIUM_TEST_PG_PORT="$pg_port" EMPORIUM_TEST_REDIS_PORT="$redis_port" \
  "$services_script" start "$services_dir" 2>"$work_dir/services.err")" || {
  cat "$work_dir/services.err" >&2
  die "scripts/local-services.sh could not start PostgreSQL and Redis"
}
redis_url="$(printf '%s\n' "$exports" | sed -n 's/^export EMPORIUM_TEST_REDIS_URL=//p')"
readonly redis_url
[ -n "$redis_url" ] || die "scripts/local-services.sh printed no Redis URL"

pg_sql() {
  "$pg_bin/psql" -X -q -v ON_ERROR_STOP=1 -h "$host" -p "$pg_port" -U postgres "$@"
}

declare -A database_of=()
for config in $configs; do
  database_of[$config]="emporium_$config"
done
for db in "${database_of[@]}" pgbench; do
  pg_sql -d postgres -c "CREATE DATABASE $db" >/dev/null || die "cannot create database $db"
done
pg_version="$(pg_sql -d postgres -tAc "SHOW server_version")"
readonly pg_version
redis_version="$(redis-server --version | sed -n 's/.* v=\([^ ]*\).*/\1/p')"
readonly redis_version
emporium_version="$("$emporium_bin" version)"
readonly emporium_version

log "pgbench -i -s $pgbench_scale (database pgbench)"
"$pg_bin/pgbench" -i -q -s "$pgbench_scale" -h "$host" -p "$pg_port" -U postgres pgbench \
  >"$work_dir/pgbench-init.log" 2>&1 || {
  cat "$work_dir/pgbench-init.log" >&2
  die "pgbench -i failed"
}

# ---------------------------------------------------------------------------
# The three shops, all started before any load and loaded one at a time.
# ---------------------------------------------------------------------------

declare -A gateway_port_of=() product_port_of=() product_of=() body_bytes_of=()
declare -A cache_backend_of=() cache_enabled_of=() flags_of=() pool_of=()
declare -A cache_round=() cache_total=()  # "hit miss error" deltas: label,round / label
declare -A xacts_of=() requests_of=()  # database transactions / shop requests, warm-up included

# Prints "hit miss error" from emporium_cache_requests_total{cache="product"}
# on the /metrics of the process on port $1.
cache_counts() {
  curl -fsS --max-time 5 "http://$host:$1/metrics" | awk '
    /^emporium_cache_requests_total\{/ && /cache="product"/ {
      if ($0 ~ /result="hit"/) hit = $NF
      else if ($0 ~ /result="miss"/) miss = $NF
      else if ($0 ~ /result="error"/) err = $NF
    }
    END { printf "%.0f %.0f %.0f\n", hit, miss, err }'
}

# Prints "a-b" element-wise for two "hit miss error" triples.
counts_delta() {
  local h1 m1 e1 h0 m0 e0
  read -r h1 m1 e1 <<<"$1"
  read -r h0 m0 e0 <<<"$2"
  echo "$((h1 - h0)) $((m1 - m0)) $((e1 - e0))"
}

# Prints pg_stat_database.xact_commit of database $1 (a backend's counts
# reach it when the backend goes idle for a while or exits).
xact_commit() {
  pg_sql -d postgres -tAc "SELECT xact_commit FROM pg_stat_database WHERE datname = '$1'"
}

# Prints the value of the gauge line starting with $2 on port $1's /metrics.
metric_value() {
  curl -fsS --max-time 5 "http://$host:$1/metrics" | awk -v name="$2" \
    'index($0, name) == 1 { printf "%.0f\n", $NF; exit }'
}

for config in $configs; do
  url="postgres://postgres@$host:$pg_port/${database_of[$config]}"
  case "$config" in
    redis) flags=(--database-url="$url" --redis-url="$redis_url") ;;
    lru) flags=(--database-url="$url") ;;
    nocache) flags=(--database-url="$url" --cache-ttl=0s) ;;
  esac
  flags_of[$config]="${flags[*]}"
  log "== $config: starting the split shop (${flags[*]})"
  shop_start split "$work_dir/$config" "${flags[@]}"
  gateway_port_of[$config]="$gateway_port"
  # The product process's admin port: /metrics is served there only.
  product_port_of[$config]="${shop_admin_ports[product]}"

  # What the product service says it runs with.
  line="$(grep -m1 '"msg":"product cache"' "$work_dir/$config/product.log" || true)"
  cache_backend_of[$config]="$(printf '%s\n' "$line" | sed -n 's/.*"backend":"\([^"]*\)".*/\1/p')"
  cache_enabled_of[$config]="$(printf '%s\n' "$line" | sed -n 's/.*"enabled":\([a-z]*\).*/\1/p')"
  case "$config:${cache_backend_of[$config]}:${cache_enabled_of[$config]}" in
    redis:redis:true | lru:memory:true | nocache:*:false) ;;
    *) die "$config: the product service reports cache backend '${cache_backend_of[$config]}', enabled '${cache_enabled_of[$config]}'" ;;
  esac
  pool_of[$config]="$(metric_value "${product_port_of[$config]}" 'emporium_db_pool_size{service="product"}')"
  [ -n "${pool_of[$config]}" ] || die "$config: no emporium_db_pool_size for the product service"

  product_of[$config]="$(curl -fsS --max-time 5 "http://$host:$gateway_port/api/products?limit=1" \
    | grep -o '"id":"[^"]*"' | head -n 1 | cut -d'"' -f4)" || true
  [ -n "${product_of[$config]}" ] || die "no product in the $config shop's catalog"
  curl -fsS --max-time 5 -o "$work_dir/$config/body" \
    "http://$host:$gateway_port/api/products/${product_of[$config]}" \
    || die "could not fetch the product from the $config shop"
  body_bytes_of[$config]="$(wc -c <"$work_dir/$config/body")"
done

if [ -n "${PGBENCH_CLIENTS:-}" ]; then
  pgbench_clients="$PGBENCH_CLIENTS"
elif [ "${pool_of[nocache]}" = "$connections" ]; then
  pgbench_clients="$connections"
else
  pgbench_clients="${pool_of[nocache]} $connections"
fi
readonly pgbench_clients
for c in $pgbench_clients; do
  [[ "$c" =~ ^[1-9][0-9]*$ ]] || die "PGBENCH_CLIENTS: '$c' is not a positive whole number"
done

# ---------------------------------------------------------------------------
# pgbench -S, in the background and waited for (a signal stops it at once).
# ---------------------------------------------------------------------------

declare -A pg_results=()  # "clients,round" -> "tps p50 p99 avg transactions failed"

# run_pgbench CLIENTS SECONDS PREFIX [LOG]: runs pgbench -S, output to
# PREFIX.out; with LOG=log also its per-transaction log PREFIX.*.
run_pgbench() {
  local clients="$1" secs="$2" prefix="$3" rc=0 pid
  local -a log_args=()
  if [ "${4:-}" = log ]; then
    log_args=(-l --log-prefix="$prefix")
  fi
  "$pg_bin/pgbench" -S -n -c "$clients" -j 2 -T "$secs" "${log_args[@]+"${log_args[@]}"}" \
    -h "$host" -p "$pg_port" -U postgres pgbench >"$prefix.out" 2>&1 &
  pid=$!
  bench_track "$pid" pgbench
  wait "$pid" || rc=$?
  bench_stop "$pid"
  if [ "$rc" -ne 0 ]; then
    cat "$prefix.out" >&2
    die "pgbench -c $clients failed (exit $rc)"
  fi
}

# Prints "tps p50_ms p99_ms avg_ms transactions failed" for the run with
# output PREFIX.out and per-transaction log PREFIX.* (latency in us, 3rd field).
parse_pgbench() {
  local prefix="$1" tps avg txns failed p50 p99
  tps="$(sed -n 's/^tps = \([0-9.]*\) .*/\1/p' "$prefix.out")"
  avg="$(sed -n 's/^latency average = \([0-9.]*\) ms.*/\1/p' "$prefix.out")"
  txns="$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$prefix.out")"
  failed="$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' "$prefix.out")"
  [ -n "$tps" ] && [ -n "$avg" ] && [ -n "$txns" ] || return 1
  read -r p50 p99 < <(cat "$prefix".[0-9]* | awk '{ print $3 }' | sort -n | awk '
    { v[NR] = $1 }
    END {
      if (NR == 0) { print "-1 -1"; exit }
      i50 = int(NR * 0.50 + 0.999999); i99 = int(NR * 0.99 + 0.999999)
      printf "%.3f %.3f\n", v[i50] / 1000, v[i99] / 1000
    }')
  printf '%.2f %s %s %s %s %s\n' "$tps" "$p50" "$p99" "$avg" "$txns" "${failed:-0}"
}

# Prints the round with the highest tps for pgbench with $1 clients.
best_pg_round() {
  local best=1 r
  for r in $(seq "$rounds"); do
    if awk -v a="${pg_results[$1,$r]%% *}" -v b="${pg_results[$1,$best]%% *}" 'BEGIN { exit !(a > b) }'; then
      best=$r
    fi
  done
  echo "$best"
}

# ---------------------------------------------------------------------------
# Load.
# ---------------------------------------------------------------------------

log "wrk: $threads threads, $connections connections, $duration per round, $rounds rounds, warm-up $warmup"
log "pgbench -S -j 2 -T $duration_s, clients: $pgbench_clients"
load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
readonly load_before

declare -A xacts_start=()
for config in $configs; do
  xacts_start[$config]="$(xact_commit "${database_of[$config]}")"
  log "warming up $config ($warmup)"
  file="$work_dir/wrk-$config-warmup.txt"
  run_wrk "${gateway_port_of[$config]}" "$warmup" "$file" "/api/products/${product_of[$config]}" \
    || { cat "$file" >&2; die "wrk warm-up against $config failed"; }
  parsed="$(parse_wrk <"$file")" || { cat "$file" >&2; die "could not parse wrk output for $config"; }
  read -r _ _ _ requests _ <<<"$parsed"
  requests_of[$config]="$requests"
done
for c in $pgbench_clients; do
  log "warming up pgbench -c $c (${warmup_s}s)"
  run_pgbench "$c" "$warmup_s" "$work_dir/pgbench-c$c-warmup"
done
declare -A cache_start=()
for config in $configs; do
  cache_start[$config]="$(cache_counts "${product_port_of[$config]}")" \
    || die "cannot read the $config product service's /metrics"
done

for round in $(seq "$rounds"); do
  for c in $pgbench_clients; do
    log "round $round/$rounds: pgbench -S -c $c"
    prefix="$work_dir/pgbench-c$c-$round"
    run_pgbench "$c" "$duration_s" "$prefix" log
    pg_results[$c,$round]="$(parse_pgbench "$prefix")" \
      || { cat "$prefix.out" >&2; die "could not parse pgbench output"; }
    rm -f "$prefix".[0-9]*
  done
  for config in $configs; do
    log "round $round/$rounds: $config"
    file="$work_dir/wrk-$config-$round.txt"
    before="$(cache_counts "${product_port_of[$config]}")" || die "cannot read $config's /metrics"
    run_wrk "${gateway_port_of[$config]}" "$duration" "$file" "/api/products/${product_of[$config]}" \
      || { cat "$file" >&2; die "wrk against $config failed"; }
    after="$(cache_counts "${product_port_of[$config]}")" || die "cannot read $config's /metrics"
    results[$config,$round]="$(parse_wrk <"$file")" \
      || { cat "$file" >&2; die "could not parse wrk output for $config"; }
    read -r _ _ _ requests _ <<<"${results[$config,$round]}"
    requests_of[$config]=$((requests_of[$config] + requests))
    cache_round[$config,$round]="$(counts_delta "$after" "$before")"
    bench_check_alive
  done
done

load_after="$(cut -d' ' -f1-3 /proc/loadavg)"
readonly load_after
for config in $configs; do
  cache_total[$config]="$(counts_delta "$(cache_counts "${product_port_of[$config]}")" "${cache_start[$config]}")"
  curl -fsS --max-time 5 -o "$work_dir/$config/body-after" \
    "http://$host:${gateway_port_of[$config]}/api/products/${product_of[$config]}" \
    || die "could not fetch the product from the $config shop after the load"
  cmp -s "$work_dir/$config/body" "$work_dir/$config/body-after" \
    || log "WARNING: $config: the product's body changed during the run"
done
# Stopped shops have flushed their backends' statistics.
bench_stop_all
declare -A xacts_per_request=()
for config in $configs; do
  xacts_of[$config]=$(($(xact_commit "${database_of[$config]}") - xacts_start[$config]))
  xacts_per_request[$config]="$(awk -v x="${xacts_of[$config]}" -v r="${requests_of[$config]}" \
    'BEGIN { printf "%.3f", (r > 0 ? x / r : 0) }')"
done

# ---------------------------------------------------------------------------
# Report.
# ---------------------------------------------------------------------------

declare -A ratio_of=()  # config,clients -> shop req/s / pgbench tps
for config in $configs; do
  read -r e_rps _ <<<"${results[$config,$(best_round "$config")]}"
  for c in $pgbench_clients; do
    read -r tps _ <<<"${pg_results[$c,$(best_pg_round "$c")]}"
    ratio_of[$config,$c]="$(awk -v e="$e_rps" -v t="$tps" 'BEGIN { printf "%.3f", (t > 0 ? e / t : 0) }')"
  done
done

echo
echo "GET /api/products/{id} through the gateway, split shape (product, user, cart, order, gateway"
echo "processes), on PostgreSQL $pg_version; Redis $redis_version; $emporium_version"
echo "wrk -t$threads -c$connections -d$duration --latency; pgbench -S -j 2 -T $duration_s over TCP to $host"
echo "(simple protocol, scale $pgbench_scale); product service pool: ${pool_of[nocache]} connections; $(nproc) CPUs"
echo "load average (1/5/15 min): $load_before before the load, $load_after after"
echo
echo "All rounds:"
printf '%-12s %5s %12s %8s %8s %10s %6s %10s %8s\n' name round "req/s|tps" "p50 ms" "p99 ms" \
  requests errors "cache hit" miss
for round in $(seq "$rounds"); do
  for c in $pgbench_clients; do
    read -r tps p50 p99 _ txns failed <<<"${pg_results[$c,$round]}"
    printf '%-12s %5s %12s %8s %8s %10s %6s %10s %8s\n' "pgbench-c$c" "$round" "$tps" "$p50" "$p99" \
      "$txns" "$failed" - -
  done
  for config in $configs; do
    read -r rps p50 p99 requests errors non2xx <<<"${results[$config,$round]}"
    read -r hit miss _ <<<"${cache_round[$config,$round]}"
    printf '%-12s %5s %12s %8s %8s %10s %6s %10s %8s\n' "$config" "$round" "$rps" "$p50" "$p99" \
      "$requests" "$((errors + non2xx))" "$hit" "$miss"
  done
done

echo
echo "Better round of each (higher req/s or tps); cache counts over all measured rounds:"
printf '%-34s %12s %8s %8s %10s %8s %6s\n' "" "req/s|tps" "p50 ms" "p99 ms" "cache hit" miss error
for config in $configs; do
  read -r rps p50 p99 _ <<<"${results[$config,$(best_round "$config")]}"
  read -r hit miss err <<<"${cache_total[$config]}"
  printf '%-34s %12s %8s %8s %10s %8s %6s\n' "${config_title[$config]}" "$rps" "$p50" "$p99" \
    "$hit" "$miss" "$err"
done
for c in $pgbench_clients; do
  read -r tps p50 p99 _ <<<"${pg_results[$c,$(best_pg_round "$c")]}"
  printf '%-34s %12s %8s %8s %10s %8s %6s\n' "pgbench -S -c $c -j 2" "$tps" "$p50" "$p99" - - -
done
echo
echo "Queries reaching PostgreSQL: the shop database's committed transactions over"
echo "warm-up and rounds (pg_stat_database.xact_commit; background work included):"
printf '%-34s %12s %12s %12s\n' "" requests transactions "per request"
for config in $configs; do
  printf '%-34s %12s %12s %12s\n' "${config_title[$config]}" "${requests_of[$config]}" \
    "${xacts_of[$config]}" "${xacts_per_request[$config]}"
done
echo
echo "Ratios, shop req/s / pgbench tps:"
printf '%-34s' ""
for c in $pgbench_clients; do
  printf ' %12s' "vs -c $c"
done
echo
for config in $configs; do
  printf '%-34s' "${config_title[$config]}"
  for c in $pgbench_clients; do
    printf ' %12s' "${ratio_of[$config,$c]}"
  done
  echo
done
total_errors="$(error_total "")"
if [ "$total_errors" -gt 0 ]; then
  echo "WARNING: $total_errors socket errors or non-2xx/3xx responses; see the rounds above"
fi

# ---------------------------------------------------------------------------
# JSON copy.
# ---------------------------------------------------------------------------

timestamp="$(date -u +%Y%m%dT%H%M%SZ)"
results_dir="$repo_root/bench/results"
results_file="$results_dir/postgres_reads-$timestamp.json"
mkdir -p "$results_dir"

# Prints one JSON object for "tps p50 p99 avg transactions failed".
pg_round_json() {
  local tps p50 p99 avg txns failed
  read -r tps p50 p99 avg txns failed <<<"$1"
  printf '{"tps": %s, "p50_ms": %s, "p99_ms": %s, "latency_avg_ms": %s, "transactions": %s, "failed": %s}' \
    "$tps" "$p50" "$p99" "$avg" "$txns" "$failed"
}

# Prints {"hit": H, "miss": M, "error": E} for "H M E".
cache_json() {
  local hit miss err
  read -r hit miss err <<<"$1"
  printf '{"hit": %s, "miss": %s, "error": %s}' "$hit" "$miss" "$err"
}

{
  printf '{\n'
  printf '  "benchmark": "postgres_reads",\n'
  printf '  "timestamp": "%s",\n' "$timestamp"
  printf '  "host": "%s",\n' "$host"
  printf '  "cpus": %s,\n' "$(nproc)"
  printf '  "load_average_before": "%s",\n' "$load_before"
  printf '  "load_average_after": "%s",\n' "$load_after"
  printf '  "emporium": "%s",\n' "$emporium_version"
  printf '  "postgres": "%s",\n' "$pg_version"
  printf '  "redis": "%s",\n' "$redis_version"
  printf '  "shape": "split",\n'
  printf '  "url_path": "/api/products/{id}",\n'
  printf '  "wrk": {"threads": %s, "connections": %s, "duration": "%s", "warmup": "%s", "rounds": %s},\n' \
    "$threads" "$connections" "$duration" "$warmup" "$rounds"
  printf '  "pgbench": {"mode": "-S", "protocol": "simple", "scale": %s, "threads": 2, "seconds": %s, "clients": {' \
    "$pgbench_scale" "$duration_s"
  sep=""
  for c in $pgbench_clients; do
    best="$(best_pg_round "$c")"
    printf '%s\n    "%s": {"best_round": %s, "best": %s, "rounds": [' "$sep" "$c" "$best" \
      "$(pg_round_json "${pg_results[$c,$best]}")"
    rsep=""
    for r in $(seq "$rounds"); do
      printf '%s\n      %s' "$rsep" "$(pg_round_json "${pg_results[$c,$r]}")"
      rsep=","
    done
    printf '\n    ]}'
    sep=","
  done
  printf '\n  }},\n'
  printf '  "selection": "per configuration and per pgbench client count, the round with the higher req/s or tps",\n'
  printf '  "configurations": {'
  sep=""
  for config in $configs; do
    best="$(best_round "$config")"
    printf '%s\n    "%s": {\n' "$sep" "$config"
    printf '      "title": "%s",\n' "${config_title[$config]}"
    printf '      "flags": "%s",\n' "$(printf '%s' "${flags_of[$config]}" | bench_redact)"
    printf '      "cache_backend": "%s",\n' "${cache_backend_of[$config]}"
    printf '      "cache_enabled": %s,\n' "${cache_enabled_of[$config]}"
    printf '      "product_pool_size": %s,\n' "${pool_of[$config]}"
    printf '      "product_id": "%s",\n' "${product_of[$config]}"
    printf '      "body_bytes": %s,\n' "${body_bytes_of[$config]}"
    printf '      "best_round": %s,\n' "$best"
    printf '      "best": %s,\n' "$(round_json "${results[$config,$best]}")"
    printf '      "rounds": %s\n      ],\n' "$(rounds_json "$config" '        ')"
    printf '      "cache_per_round": ['
    rsep=""
    for r in $(seq "$rounds"); do
      printf '%s%s' "$rsep" "$(cache_json "${cache_round[$config,$r]}")"
      rsep=", "
    done
    printf '],\n'
    printf '      "cache_measured_rounds": %s,\n' "$(cache_json "${cache_total[$config]}")"
    printf '      "database_transactions": {"requests": %s, "xact_commit": %s, "per_request": %s, "over": "warm-up and rounds"},\n' \
      "${requests_of[$config]}" "${xacts_of[$config]}" "${xacts_per_request[$config]}"
    printf '      "ratio_to_pgbench_tps": {'
    rsep=""
    for c in $pgbench_clients; do
      printf '%s"%s": %s' "$rsep" "$c" "${ratio_of[$config,$c]}"
      rsep=", "
    done
    printf '},\n'
    printf '      "errors_total": %s\n' "$(error_total "$config,")"
    printf '    }'
    sep=","
  done
  printf '\n  }\n'
  printf '}\n'
} >"$results_file"

echo
echo "results: ${results_file#"$repo_root"/}"
exit 0
