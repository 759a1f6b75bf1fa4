# shellcheck shell=bash
# Shared helpers for the bench/ scripts. Not run on its own: a script sets
# `bench_name` (the prefix of its log lines) and `set -euo pipefail`, then
# sources this file:
#
#   bench_name=my_bench
#   # shellcheck source=bench/lib.sh
#   . "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
#
# What it gives:
#   - the wrk knobs from the environment (threads, connections, duration,
#     warmup, rounds), host (127.0.0.1), workers (2) and repo_root;
#   - die / log, and bench_need_load_tools (nginx_bin, wrk, curl);
#   - work_dir, a scratch directory removed on exit, and an EXIT trap that
#     stops every process registered with bench_track (by PID, newest first)
#     and any wrk still running;
#   - free_port, wait_http, wait_listening;
#   - the shop: shapes (BENCH_SHAPES), bench_check_shapes, shop_start (needs
#     emporium_bin; optional extra `serve` flags, and BENCH_SERVE_ARGS), with
#     a fixed JWT secret and admin account;
#   - nginx: mirror_headers, nginx_write_conf, nginx_start, response_bytes;
#   - wrk: run_wrk, parse_wrk, run_rounds (warm-up, then rounds, filling the
#     global `results`), print_all_rounds, best_round, round_json, rounds_json, error_total.
#
# Environment (all optional):
#   BENCH_THREADS      wrk threads              (default 2)
#   BENCH_CONNECTIONS  wrk connections          (default 64)
#   BENCH_DURATION     wrk duration per round   (default 10s)
#   BENCH_WARMUP       wrk warm-up per server   (default 2s)
#   BENCH_ROUNDS       rounds per server        (default 2)
#   BENCH_SHAPES       shop shapes, in order    (default "all-in-one split")
#   BENCH_SERVE_ARGS   extra flags for every `emporium serve` the shop runs,
#                      split on spaces (default none), e.g. storage:
#                      "--database-url=postgres://postgres@127.0.0.1:5432/shop"

# Variables set here are read by the sourcing script, and emporium_bin is set
# by it: SC2034 and SC2154 do not apply.
# shellcheck disable=SC2034,SC2154

readonly threads="${BENCH_THREADS:-2}"
readonly connections="${BENCH_CONNECTIONS:-64}"
readonly duration="${BENCH_DURATION:-10s}"
readonly warmup="${BENCH_WARMUP:-2s}"
readonly rounds="${BENCH_ROUNDS:-2}"
readonly host=127.0.0.1
readonly workers=2  # nginx worker_processes == emporium --io-threads

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readonly repo_root

die() {
  echo "${bench_name:-bench}: $*" >&2
  exit 1
}

log() {
  echo "${bench_name:-bench}: $*" >&2
}

# Sets nginx_bin and checks that wrk and curl are on PATH.
bench_need_load_tools() {
  # nginx lives in /usr/sbin, which is not on every user's PATH.
  nginx_bin="$(PATH="$PATH:/usr/sbin:/usr/local/sbin" command -v nginx || true)"
  readonly nginx_bin
  [ -n "$nginx_bin" ] || die "nginx not found (Debian: nginx-light; see scripts/install-deps.sh)"
  command -v wrk >/dev/null || die "wrk not found (Debian: wrk; see scripts/install-deps.sh)"
  command -v curl >/dev/null || die "curl not found"
}

# Prints the absolute path of executable $1, or dies.
bench_executable() {
  [ -x "$1" ] || die "not an executable file: $1"
  echo "$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
}

# ---------------------------------------------------------------------------
# Scratch directory and cleanup. Only processes started by the script are
# stopped, by the PIDs recorded when they were started.
# ---------------------------------------------------------------------------

work_dir="$(mktemp -d -t emporium-bench.XXXXXX)"
readonly work_dir
wrk_pid=""
bench_wrk_headers=()        # extra request headers for every wrk run ("Name: value")
bench_pids=()               # tracked PIDs, in start order
declare -gA bench_pid_names=()  # PID -> name, for messages
declare -gA results=()          # "label,round" -> "rps p50 p99 requests errors non2xx"

# Sends SIGTERM to PID, waits up to 5 s for it to exit, then SIGKILLs it.
stop_pid() {
  local pid="$1"
  [ -n "$pid" ] || return 0
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 50); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
}

# Registers PID $1 (a child of this shell) under name $2 for the exit trap.
bench_track() {
  bench_pids+=("$1")
  bench_pid_names[$1]="$2"
}

# Stops tracked PID $1 now and forgets it.
bench_stop() {
  local pid="$1" keep=() p
  stop_pid "$pid"
  for p in "${bench_pids[@]}"; do
    [ "$p" = "$pid" ] || keep+=("$p")
  done
  bench_pids=("${keep[@]+"${keep[@]}"}")
  unset "bench_pid_names[$pid]"
}

# Stops every tracked process, newest first.
bench_stop_all() {
  local i
  for ((i = ${#bench_pids[@]} - 1; i >= 0; i--)); do
    stop_pid "${bench_pids[$i]}"
  done
  bench_pids=()
  bench_pid_names=()
}

# Dies naming the first tracked process that is no longer running.
bench_check_alive() {
  local p
  for p in "${bench_pids[@]}"; do
    kill -0 "$p" 2>/dev/null || die "${bench_pid_names[$p]} exited during the run"
  done
}

# shellcheck disable=SC2317  # only reached through the EXIT trap
bench_cleanup() {
  stop_pid "$wrk_pid"
  bench_stop_all
  rm -rf "$work_dir"
}
trap bench_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------------------
# Ports and readiness.
# ---------------------------------------------------------------------------

# Prints the first port from $1 upwards on which nothing on $host accepts.
free_port() {
  local port="$1"
  while [ "$port" -lt 65535 ]; do
    if ! (: <"/dev/tcp/$host/$port") 2>/dev/null; then
      echo "$port"
      return 0
    fi
    port=$((port + 1))
  done
  return 1
}

# Waits up to 10 s until http://$host:$1$4 answers 2xx (path $4, default
# /healthz); fails early if PID $2 has exited. $3 names the server.
wait_http() {
  local port="$1" pid="$2" name="$3" path="${4:-/healthz}"
  for _ in $(seq 100); do
    kill -0 "$pid" 2>/dev/null || return 1
    if curl -fsS -o /dev/null --max-time 1 "http://$host:$port$path" 2>/dev/null; then
      return 0
    fi
    sleep 0.1
  done
  log "$name did not answer $path on port $port within 10 s"
  return 1
}

# Waits up to 20 s for emporium's {"msg":"listening",...,"port":N} line in
# log file $1 (its stdout) and prints N; fails early if PID $2 has exited.
wait_listening() {
  local file="$1" pid="$2" name="$3" line
  for _ in $(seq 200); do
    line="$(grep -m1 '"msg":"listening"' "$file" 2>/dev/null || true)"
    if [ -n "$line" ]; then
      printf '%s\n' "$line" | sed -n 's/.*"port":\([0-9][0-9]*\).*/\1/p'
      return 0
    fi
    kill -0 "$pid" 2>/dev/null || { log "$name exited before listening"; return 1; }
    sleep 0.1
  done
  log "$name did not report listening within 20 s"
  return 1
}

# ---------------------------------------------------------------------------
# The shop, in either shape, from `emporium serve` ($emporium_bin).
# ---------------------------------------------------------------------------

readonly shapes="${BENCH_SHAPES:-all-in-one split}"
readonly shop_jwt_secret="emporium-bench-jwt-secret-0123456789abcdef"
readonly shop_admin_email=admin@bench.test
readonly shop_admin_password=admin-password-1
read -r -a bench_serve_args <<<"${BENCH_SERVE_ARGS:-}"
readonly bench_serve_args
declare -gA shop_ports=()  # service name (all, product, ..., gateway) -> port
declare -gA shop_admin_ports=()  # the same -> its admin_listen port (/metrics)

# Reads text on stdin and prints it with URL passwords (scheme://user:PASS@)
# replaced by ***, for logs and result files.
bench_redact() {
  sed -E 's#(://[^:/@]*):[^@/]*@#\1:***@#g'
}

# Dies unless every word of $shapes is a known shape.
bench_check_shapes() {
  local shape
  [ -n "$shapes" ] || die "BENCH_SHAPES is empty"
  for shape in $shapes; do
    case "$shape" in
      all-in-one | split) ;;
      *) die "unknown shape '$shape' in BENCH_SHAPES (all-in-one, split)" ;;
    esac
  done
}

# shop_service DIR NAME ARGS...: starts `emporium serve ARGS...` on port 0
# with the common flags (secret, admin, --log-level=info, $workers I/O
# threads, the edge's per-client rate limits off: the load comes from one
# address; then $BENCH_SERVE_ARGS), logging to DIR/NAME.log (stdout: the
# JSON log, access log included) and DIR/NAME.err; tracks it, sets
# service_port and shop_ports[NAME].
shop_service() {
  local dir="$1" name="$2" pid
  shift 2
  "$emporium_bin" serve \
    --listen="$host:0" \
    --admin-listen="$host:0" \
    --jwt-secret="$shop_jwt_secret" \
    --admin-email="$shop_admin_email" \
    --admin-password="$shop_admin_password" \
    --log-level=info \
    --io-threads="$workers" \
    --drain-timeout=2s \
    --rate-limit-sign-in=off --rate-limit-signup=off --rate-limit-refresh=off \
    --rate-limit-password=off --rate-limit-read=off --rate-limit-write=off \
    "${bench_serve_args[@]+"${bench_serve_args[@]}"}" \
    "$@" >"$dir/$name.log" 2>"$dir/$name.err" &
  pid=$!
  bench_track "$pid" "emporium $name"
  service_port="$(wait_listening "$dir/$name.log" "$pid" "emporium $name")" || {
    cat "$dir/$name.err" "$dir/$name.log" >&2 || true
    die "emporium $name failed to start"
  }
  shop_ports[$name]="$service_port"
  # /metrics is on the admin listener (logged before "listening").
  shop_admin_ports[$name]="$(grep -m1 '"msg":"admin listening"' "$dir/$name.log" |
    sed -n 's/.*"port":\([0-9][0-9]*\).*/\1/p')"
}

# shop_start SHAPE DIR [FLAG...]: starts the shop in SHAPE (all-in-one: one
# process; split: product, user, cart, order and gateway processes wired by
# URL) with everything under DIR and the extra `serve` FLAGs on every
# process (e.g. --database-url=... --redis-url=...), and waits until
# GET /api/products?limit=1 answers through the gateway. Sets gateway_port,
# shop_ports (this shop's processes only) and shop_processes (a description).
shop_start() {
  local shape="$1" dir="$2" p_url u_url c_url o_url
  shift 2
  local -a extra=("$@")
  mkdir -p "$dir"
  shop_ports=()
  shop_admin_ports=()
  if [ "$shape" = all-in-one ]; then
    shop_service "$dir" all --data-dir="$dir/data" "${extra[@]+"${extra[@]}"}"
    shop_processes="1 process (all services and the gateway)"
  else
    shop_service "$dir" product --services=product --data-dir="$dir/product" \
      "${extra[@]+"${extra[@]}"}"
    p_url="http://$host:$service_port"
    shop_service "$dir" user --services=user --data-dir="$dir/user" "${extra[@]+"${extra[@]}"}"
    u_url="http://$host:$service_port"
    shop_service "$dir" cart --services=cart --data-dir="$dir/cart" --product-url="$p_url" \
      "${extra[@]+"${extra[@]}"}"
    c_url="http://$host:$service_port"
    shop_service "$dir" order --services=order --data-dir="$dir/order" \
      --product-url="$p_url" --cart-url="$c_url" "${extra[@]+"${extra[@]}"}"
    o_url="http://$host:$service_port"
    shop_service "$dir" gateway --services=gateway --data-dir="$dir/gateway" \
      --product-url="$p_url" --user-url="$u_url" --cart-url="$c_url" --order-url="$o_url" \
      "${extra[@]+"${extra[@]}"}"
    shop_processes="5 processes (product, user, cart, order, gateway)"
  fi
  gateway_port="$service_port"
  wait_http "$gateway_port" "${bench_pids[-1]}" "the $shape shop" "/api/products?limit=1" \
    || die "the $shape shop does not answer GET /api/products?limit=1"
}

# ---------------------------------------------------------------------------
# nginx, serving a file with the same extra headers as emporium.
# ---------------------------------------------------------------------------

# Prints an nginx `add_header NAME "VALUE" always;` line (indented for the
# location block) for each header emporium sends on GET http://$host:$1$2
# among X-Content-Type-Options, X-Frame-Options, Referrer-Policy,
# Content-Security-Policy and Cache-Control; dies if one is missing.
mirror_headers() {
  local headers name value
  headers="$(curl -fsS --max-time 5 -D - -o /dev/null "http://$host:$1$2" | tr -d '\r')" \
    || die "could not fetch emporium's $2 headers"
  for name in X-Content-Type-Options X-Frame-Options Referrer-Policy Content-Security-Policy Cache-Control; do
    value="$(printf '%s\n' "$headers" | awk -v name="$name" '
      BEGIN { name = tolower(name) }
      { i = index($0, ":"); if (i && tolower(substr($0, 1, i - 1)) == name) { print substr($0, i + 2); exit } }')"
    [ -n "$value" ] || die "emporium's $2 has no $name header"
    [[ "$value" != *\"* ]] || die "unexpected double quote in emporium's $name header"
    printf '      add_header %s "%s" always;\n' "$name" "$value"
  done
}

# Writes $1/nginx.conf: nginx on $host:$2 with $workers worker processes,
# answering `location = $3` from the file $1/html$3 as application/json, with
# the add_header lines $4 (from mirror_headers), a JSON access log at
# $1/access.log and everything else under $1. $5 names the generating script.
nginx_write_conf() {
  local dir="$1" port="$2" path="$3" extra_headers="$4" generator="$5" user_line=""
  mkdir -p "$dir/html" "$dir/tmp"
  # "user" only matters (and is only accepted quietly) when the master is root.
  if [ "$(id -u)" -eq 0 ]; then
    user_line="user root;"
  fi
  cat >"$dir/nginx.conf" <<EOF
# Generated by $generator; every path is under $dir.
$user_line
daemon off;
master_process on;
worker_processes $workers;
pid $dir/nginx.pid;
error_log $dir/error.log warn;

events {
  worker_connections 4096;
}

http {
  # One JSON line per request, shaped like emporium's access log
  # (nginx's \$request_time is in seconds, with millisecond resolution).
  log_format emporium_json escape=json
    '{"time":"\$time_iso8601","level":"info","msg":"request",'
    '"method":"\$request_method","route":"\$uri","status":\$status,'
    '"bytes":\$body_bytes_sent,"duration_s":\$request_time,'
    '"request_id":"\$request_id","remote":"\$remote_addr:\$remote_port"}';
  access_log $dir/access.log emporium_json;

  client_body_temp_path $dir/tmp/body;
  proxy_temp_path       $dir/tmp/proxy;
  fastcgi_temp_path     $dir/tmp/fastcgi;
  uwsgi_temp_path       $dir/tmp/uwsgi;
  scgi_temp_path        $dir/tmp/scgi;

  keepalive_requests 100000;
  keepalive_timeout 60s;
  sendfile on;
  tcp_nodelay on;
  server_tokens off;
  open_file_cache max=16 inactive=60s;

  server {
    # reuseport lets the kernel spread connections over both workers, as
    # emporium's shared acceptor does over its I/O threads.
    listen $host:$port reuseport;
    root $dir/html;

    location = $path {
      default_type application/json;
      # Drop what a static file adds and emporium does not send.
      etag off;
      max_ranges 0;
      add_header Last-Modified "";
      add_header X-Request-Id \$request_id always;
$extra_headers
    }
  }
}
EOF
}

# Starts nginx with $1/nginx.conf, tracks it, sets nginx_pid and waits until
# it answers $3 on port $2; dies if it does not.
nginx_start() {
  local dir="$1" port="$2" path="$3"
  "$nginx_bin" -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log" >"$dir/stdout.log" 2>&1 &
  nginx_pid=$!
  bench_track "$nginx_pid" nginx
  if ! wait_http "$port" "$nginx_pid" nginx "$path"; then
    cat "$dir/stdout.log" "$dir/error.log" >&2 2>/dev/null || true
    die "nginx failed to start"
  fi
}

# Prints the response size (status line + headers + body) of GET
# http://$host:$1$2.
response_bytes() {
  curl -fsS --max-time 5 -o /dev/null -w '%{size_header} %{size_download}' "http://$host:$1$2" \
    | awk '{ print $1 + $2 }'
}

# ---------------------------------------------------------------------------
# Load. One wrk at a time; servers are never loaded concurrently.
# ---------------------------------------------------------------------------

# Runs wrk against http://$host:$1$4 for duration $2, writing its output to
# file $3, sending the headers of bench_wrk_headers. wrk runs in the
# background and is waited for, so that a signal to the script stops it at
# once (the trap runs, and stops wrk by its PID).
run_wrk() {
  local rc=0 h
  local -a header_args=()
  for h in "${bench_wrk_headers[@]+"${bench_wrk_headers[@]}"}"; do
    header_args+=(--header "$h")
  done
  wrk --threads "$threads" --connections "$connections" --duration "$2" \
    --timeout 5s --latency "${header_args[@]+"${header_args[@]}"}" "http://$host:$1$4" >"$3" 2>&1 &
  wrk_pid=$!
  wait "$wrk_pid" || rc=$?
  wrk_pid=""
  return "$rc"
}

# Reads wrk --latency output on stdin and prints one line:
#   req_per_s p50_ms p99_ms requests socket_errors non_2xx_3xx
parse_wrk() {
  awk '
    # wrk prints durations as e.g. 812.00us, 1.20ms, 2.01s, 1.50m.
    function to_ms(v) {
      if (v ~ /us$/) { sub(/us$/, "", v); return v / 1000 }
      if (v ~ /ms$/) { sub(/ms$/, "", v); return v + 0 }
      if (v ~ /s$/)  { sub(/s$/, "", v);  return v * 1000 }
      if (v ~ /m$/)  { sub(/m$/, "", v);  return v * 60000 }
      if (v ~ /h$/)  { sub(/h$/, "", v);  return v * 3600000 }
      return -1
    }
    /Latency Distribution/ { in_dist = 1; next }
    in_dist && $1 == "50%" { p50 = to_ms($2) }
    in_dist && $1 == "99%" { p99 = to_ms($2); in_dist = 0 }
    $2 == "requests" && $3 == "in" { requests = $1 }
    /^ *Socket errors:/ {
      gsub(/,/, "")
      errors = $4 + $6 + $8 + $10
    }
    /^ *Non-2xx or 3xx responses:/ { non2xx = $NF }
    /^Requests\/sec:/ { rps = $2 }
    END {
      if (rps == "" || p50 == "" || p99 == "") { exit 1 }
      printf "%.2f %.3f %.3f %d %d %d\n", rps, p50, p99, requests, errors + 0, non2xx + 0
    }'
}

# run_rounds PATH LABEL PORT [LABEL PORT ...]
# Warms each server up for $warmup, then runs $rounds rounds, each loading
# every server in the order given for $duration, against URL path PATH.
# Fills results[LABEL,ROUND]; keeps wrk's output as
# $work_dir/wrk-LABEL-ROUND.txt (slashes in LABEL become dashes). Dies if
# wrk fails or a tracked process exits.
run_rounds() {
  local path="$1" i label port file round
  shift
  local -a labels=() ports=()
  while [ "$#" -ge 2 ]; do
    labels+=("$1")
    ports+=("$2")
    shift 2
  done
  for i in "${!labels[@]}"; do
    label="${labels[$i]}"
    file="$work_dir/wrk-${label//\//-}-warmup.txt"
    log "warming up $label ($warmup)"
    run_wrk "${ports[$i]}" "$warmup" "$file" "$path" \
      || { cat "$file" >&2; die "wrk warm-up against $label failed"; }
  done
  for round in $(seq "$rounds"); do
    for i in "${!labels[@]}"; do
      label="${labels[$i]}"
      port="${ports[$i]}"
      file="$work_dir/wrk-${label//\//-}-$round.txt"
      log "round $round/$rounds: $label"
      run_wrk "$port" "$duration" "$file" "$path" \
        || { cat "$file" >&2; die "wrk against $label failed"; }
      results[$label,$round]="$(parse_wrk <"$file")" \
        || { cat "$file" >&2; die "could not parse wrk output for $label"; }
      bench_check_alive
    done
  done
}

# Prints the "All rounds" table: for each round, a row per server NAME...
# whose results are under label PREFIX+NAME (e.g. PREFIX "split/").
print_all_rounds() {
  local prefix=$1 round name rps p50 p99 requests errors non2xx
  shift
  local row='%-10s %6s %12s %10s %10s %12s %8s\n'
  echo "All rounds:"
  # shellcheck disable=SC2059
  printf "$row" name round "req/s" "p50 ms" "p99 ms" requests errors
  for round in $(seq "$rounds"); do
    for name in "$@"; do
      read -r rps p50 p99 requests errors non2xx <<<"${results[$prefix$name,$round]}"
      # shellcheck disable=SC2059
      printf "$row" "$name" "$round" "$rps" "$p50" "$p99" "$requests" "$((errors + non2xx))"
    done
  done
}

# Prints the round with the highest req/s for label $1.
best_round() {
  local best=1 r
  for r in $(seq "$rounds"); do
    if awk -v a="${results[$1,$r]%% *}" -v b="${results[$1,$best]%% *}" 'BEGIN { exit !(a > b) }'; then
      best=$r
    fi
  done
  echo "$best"
}

# Prints one JSON object for "rps p50 p99 requests errors non2xx".
round_json() {
  local rps p50 p99 requests errors non2xx
  read -r rps p50 p99 requests errors non2xx <<<"$1"
  printf '{"req_per_s": %s, "p50_ms": %s, "p99_ms": %s, "requests": %s, "socket_errors": %s, "non_2xx_3xx": %s}' \
    "$rps" "$p50" "$p99" "$requests" "$errors" "$non2xx"
}

# Prints the JSON "rounds" array (one object per round) for label $1,
# each element on its own line indented by $2.
rounds_json() {
  local r sep=""
  printf '['
  for r in $(seq "$rounds"); do
    printf '%s\n%s%s' "$sep" "$2" "$(round_json "${results[$1,$r]}")"
    sep=","
  done
}

# Prints the sum of socket errors and non-2xx/3xx answers over every result
# whose label starts with $1 (all results when $1 is empty).
error_total() {
  local key total=0 errors non2xx
  for key in "${!results[@]}"; do
    [[ "$key" == "$1"* ]] || continue
    read -r _ _ _ _ errors non2xx <<<"${results[$key]}"
    total=$((total + errors + non2xx))
  done
  echo "$total"
}
