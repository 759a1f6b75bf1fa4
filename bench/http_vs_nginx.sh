#!/usr/bin/env bash
# Measures Emporium's HTTP stack against nginx on the same machine, side by side.
#
# Usage: bench/http_vs_nginx.sh PATH/TO/emporium
#
# Both servers answer GET /healthz with the same body and the same extra
# headers, both write a JSON access-log line per request to a file, and both
# run with two workers (nginx worker processes, Emporium I/O threads). wrk
# loads each in turn, never both at once: nginx, emporium, nginx, emporium.
# For each server the round with the higher req/s is reported (all rounds are
# printed and kept in the JSON file as well).
#
# Targets: emporium req/s >= 0.80 x nginx req/s, and emporium p99 < 5 ms.
# This is a measurement, not a test: it exits 0 whether or not the targets
# hold, and non-zero only when the setup fails. Everything listens and is
# loaded on 127.0.0.1 only; everything started is stopped on exit.
#
# Environment (all optional):
#   BENCH_THREADS      wrk threads              (default 2)
#   BENCH_CONNECTIONS  wrk connections          (default 64)
#   BENCH_DURATION     wrk duration per round   (default 10s)
#   BENCH_WARMUP       wrk warm-up per server   (default 2s)
#   BENCH_ROUNDS       rounds per server        (default 2)
#
# Needs: wrk, nginx, curl (scripts/install-deps.sh installs them).
set -euo pipefail

readonly threads="${BENCH_THREADS:-2}"
readonly connections="${BENCH_CONNECTIONS:-64}"
readonly duration="${BENCH_DURATION:-10s}"
readonly warmup="${BENCH_WARMUP:-2s}"
readonly rounds="${BENCH_ROUNDS:-2}"
readonly host=127.0.0.1
readonly workers=2          # nginx worker_processes == emporium --io-threads
readonly target_ratio=0.80  # emporium req/s / nginx req/s, at least
readonly target_p99_ms=5    # emporium p99, strictly below

die() {
  echo "http_vs_nginx: $*" >&2
  exit 1
}

log() {
  echo "http_vs_nginx: $*" >&2
}

# ---------------------------------------------------------------------------
# 1. Arguments and tools.
# ---------------------------------------------------------------------------

[ "$#" -eq 1 ] || die "usage: $0 PATH/TO/emporium"
[ -x "$1" ] || die "not an executable file: $1"
emporium_bin="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
readonly emporium_bin

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readonly repo_root

# nginx lives in /usr/sbin, which is not on every user's PATH.
nginx_bin="$(PATH="$PATH:/usr/sbin:/usr/local/sbin" command -v nginx || true)"
readonly nginx_bin
[ -n "$nginx_bin" ] || die "nginx not found (Debian: nginx-light; see scripts/install-deps.sh)"
command -v wrk >/dev/null || die "wrk not found (Debian: wrk; see scripts/install-deps.sh)"
command -v curl >/dev/null || die "curl not found"

# ---------------------------------------------------------------------------
# 2. Scratch directory and cleanup. Only processes started here are stopped,
#    by the PIDs recorded when they were started.
# ---------------------------------------------------------------------------

work_dir="$(mktemp -d -t emporium-bench.XXXXXX)"
readonly work_dir
emporium_pid=""
nginx_pid=""
wrk_pid=""

# Sends SIGTERM to PID, waits up to 5 s for it to exit, then SIGKILLs it.
# shellcheck disable=SC2317  # only reached through the EXIT trap
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

# shellcheck disable=SC2317  # only reached through the EXIT trap
cleanup() {
  stop_pid "$wrk_pid"
  stop_pid "$emporium_pid"
  stop_pid "$nginx_pid"
  rm -rf "$work_dir"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

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

# Waits up to 10 s until http://$host:$1/healthz answers 200; fails early if
# PID $2 has exited.
wait_healthy() {
  local port="$1" pid="$2" name="$3"
  for _ in $(seq 100); do
    kill -0 "$pid" 2>/dev/null || return 1
    if curl -fsS -o /dev/null --max-time 1 "http://$host:$port/healthz" 2>/dev/null; then
      return 0
    fi
    sleep 0.1
  done
  log "$name did not answer /healthz on port $port within 10 s"
  return 1
}

# ---------------------------------------------------------------------------
# 3. Emporium, with its access log going to a file as nginx's does.
# ---------------------------------------------------------------------------

emporium_port="$(free_port 18181)" || die "no free port for emporium"
readonly emporium_port
mkdir -p "$work_dir/emporium-data"
"$emporium_bin" serve \
  --listen="$host:$emporium_port" \
  --data-dir="$work_dir/emporium-data" \
  --log-level=info \
  --io-threads="$workers" \
  --drain-timeout=2s \
  >"$work_dir/emporium.log" 2>"$work_dir/emporium.err" &
emporium_pid=$!
if ! wait_healthy "$emporium_port" "$emporium_pid" emporium; then
  cat "$work_dir/emporium.err" "$work_dir/emporium.log" >&2 || true
  die "emporium failed to start"
fi

# ---------------------------------------------------------------------------
# 4. nginx, serving emporium's exact /healthz body as a static file with the
#    same extra headers, so the bytes on the wire are comparable.
# ---------------------------------------------------------------------------

mkdir -p "$work_dir/nginx/html" "$work_dir/nginx/tmp"
curl -fsS --max-time 5 -o "$work_dir/nginx/html/healthz" "http://$host:$emporium_port/healthz" \
  || die "could not fetch emporium's /healthz body"

# Reads header NAME from emporium's /healthz response, so nginx sends the
# same value whatever emporium's middleware says today.
emporium_headers="$(curl -fsS --max-time 5 -D - -o /dev/null "http://$host:$emporium_port/healthz" | tr -d '\r')"
header_value() {
  printf '%s\n' "$emporium_headers" | awk -v name="$1" '
    BEGIN { name = tolower(name) }
    { i = index($0, ":"); if (i && tolower(substr($0, 1, i - 1)) == name) { print substr($0, i + 2); exit } }'
}
extra_headers=""
for name in X-Content-Type-Options X-Frame-Options Referrer-Policy Content-Security-Policy Cache-Control; do
  value="$(header_value "$name")"
  [ -n "$value" ] || die "emporium's /healthz has no $name header"
  [[ "$value" != *\"* ]] || die "unexpected double quote in emporium's $name header"
  extra_headers+="      add_header $name \"$value\" always;"$'\n'
done

nginx_port="$(free_port $((emporium_port + 1)))" || die "no free port for nginx"
readonly nginx_port

# "user" only matters (and is only accepted quietly) when the master is root.
user_line=""
if [ "$(id -u)" -eq 0 ]; then
  user_line="user root;"
fi

cat >"$work_dir/nginx/nginx.conf" <<EOF
# Generated by bench/http_vs_nginx.sh; every path is under $work_dir/nginx.
$user_line
daemon off;
master_process on;
worker_processes $workers;
pid $work_dir/nginx/nginx.pid;
error_log $work_dir/nginx/error.log warn;

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
  access_log $work_dir/nginx/access.log emporium_json;

  client_body_temp_path $work_dir/nginx/tmp/body;
  proxy_temp_path       $work_dir/nginx/tmp/proxy;
  fastcgi_temp_path     $work_dir/nginx/tmp/fastcgi;
  uwsgi_temp_path       $work_dir/nginx/tmp/uwsgi;
  scgi_temp_path        $work_dir/nginx/tmp/scgi;

  keepalive_requests 100000;
  keepalive_timeout 60s;
  sendfile on;
  tcp_nodelay on;
  server_tokens off;
  open_file_cache max=16 inactive=60s;

  server {
    # reuseport lets the kernel spread connections over both workers, as
    # emporium's shared acceptor does over its I/O threads.
    listen $host:$nginx_port reuseport;
    root $work_dir/nginx/html;

    location = /healthz {
      default_type application/json;
      # Drop what a static file adds and emporium does not send.
      etag off;
      max_ranges 0;
      add_header Last-Modified "";
      add_header X-Request-Id \$request_id always;
$extra_headers    }
  }
}
EOF

"$nginx_bin" -p "$work_dir/nginx" -c "$work_dir/nginx/nginx.conf" -e "$work_dir/nginx/error.log" \
  >"$work_dir/nginx/stdout.log" 2>&1 &
nginx_pid=$!
if ! wait_healthy "$nginx_port" "$nginx_pid" nginx; then
  cat "$work_dir/nginx/stdout.log" "$work_dir/nginx/error.log" >&2 2>/dev/null || true
  die "nginx failed to start"
fi

# Same body byte for byte, or the comparison means nothing.
curl -fsS --max-time 5 -o "$work_dir/nginx-body" "http://$host:$nginx_port/healthz"
cmp -s "$work_dir/nginx-body" "$work_dir/nginx/html/healthz" \
  || die "nginx's /healthz body differs from emporium's"

# Response size (status line + headers + body) of each, shown for comparison.
# nginx-light cannot drop its "Server: nginx" and "Connection: keep-alive"
# lines, so nginx sends 39 bytes more per response than emporium.
response_bytes() {
  curl -fsS --max-time 5 -o /dev/null -w '%{size_header} %{size_download}' "http://$host:$1/healthz" \
    | awk '{ print $1 + $2 }'
}
emporium_bytes="$(response_bytes "$emporium_port")"
nginx_bytes="$(response_bytes "$nginx_port")"

# ---------------------------------------------------------------------------
# 5. Load. One wrk at a time; servers are never loaded concurrently.
# ---------------------------------------------------------------------------

# Runs wrk against port $1 for duration $2, writing its output to file $3.
# wrk runs in the background and is waited for, so that a signal to this
# script stops it at once (the trap runs, and stops wrk by its PID).
run_wrk() {
  local rc=0
  wrk --threads "$threads" --connections "$connections" --duration "$2" \
    --timeout 5s --latency "http://$host:$1/healthz" >"$3" 2>&1 &
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

log "emporium on $host:$emporium_port, nginx on $host:$nginx_port"
log "wrk: $threads threads, $connections connections, $duration per round, $rounds rounds, warm-up $warmup"

for name in nginx emporium; do
  port_var="${name}_port"
  log "warming up $name ($warmup)"
  run_wrk "${!port_var}" "$warmup" "$work_dir/wrk-$name-warmup.txt" \
    || { cat "$work_dir/wrk-$name-warmup.txt" >&2; die "wrk warm-up against $name failed"; }
done

# results[name,round] = "rps p50 p99 requests errors non2xx"
declare -A results
for round in $(seq "$rounds"); do
  for name in nginx emporium; do
    port_var="${name}_port"
    log "round $round/$rounds: $name"
    wrk_out="$work_dir/wrk-$name-$round.txt"
    run_wrk "${!port_var}" "$duration" "$wrk_out" \
      || { cat "$wrk_out" >&2; die "wrk against $name failed"; }
    results[$name,$round]="$(parse_wrk <"$wrk_out")" \
      || { cat "$wrk_out" >&2; die "could not parse wrk output for $name"; }
    pid_var="${name}_pid"
    kill -0 "${!pid_var}" 2>/dev/null || die "$name exited during the run"
  done
done

# Both servers must have paid for an access-log line per request.
emporium_log_lines="$(grep -c '"msg":"request"' "$work_dir/emporium.log" || true)"
nginx_log_lines="$(wc -l <"$work_dir/nginx/access.log")"

# ---------------------------------------------------------------------------
# 6. Report: every round, then the better round (higher req/s) of each.
# ---------------------------------------------------------------------------

# Prints the round with the highest req/s for server $1.
best_round() {
  local best=1 r
  for r in $(seq "$rounds"); do
    if awk -v a="${results[$1,$r]%% *}" -v b="${results[$1,$best]%% *}" 'BEGIN { exit !(a > b) }'; then
      best=$r
    fi
  done
  echo "$best"
}
nginx_best="$(best_round nginx)"
emporium_best="$(best_round emporium)"

read -r nginx_rps nginx_p50 nginx_p99 _ _ _ <<<"${results[nginx,$nginx_best]}"
read -r emporium_rps emporium_p50 emporium_p99 _ _ _ <<<"${results[emporium,$emporium_best]}"

ratio="$(awk -v e="$emporium_rps" -v n="$nginx_rps" 'BEGIN { printf "%.2f", (n > 0 ? e / n : 0) }')"
ratio_ok="$(awk -v r="$ratio" -v t="$target_ratio" 'BEGIN { print (r >= t ? "true" : "false") }')"
p99_ok="$(awk -v p="$emporium_p99" -v t="$target_p99_ms" 'BEGIN { print (p < t ? "true" : "false") }')"

# Any socket error or non-2xx/3xx answer makes the numbers suspect; say so.
total_errors=0
for key in "${!results[@]}"; do
  read -r _ _ _ _ errors non2xx <<<"${results[$key]}"
  total_errors=$((total_errors + errors + non2xx))
done

print_row() {
  printf '%-10s %6s %12s %10s %10s %12s %8s\n' "$@"
}
echo
echo "GET /healthz on $host, wrk -t$threads -c$connections -d$duration --latency, $(nproc) CPUs"
echo "response bytes (headers + body): nginx $nginx_bytes, emporium $emporium_bytes"
echo "access-log lines written: nginx $nginx_log_lines, emporium $emporium_log_lines"
echo
echo "All rounds:"
print_row name round "req/s" "p50 ms" "p99 ms" requests errors
for round in $(seq "$rounds"); do
  for name in nginx emporium; do
    read -r rps p50 p99 requests errors non2xx <<<"${results[$name,$round]}"
    print_row "$name" "$round" "$rps" "$p50" "$p99" "$requests" "$((errors + non2xx))"
  done
done
echo
echo "Better round of each (higher req/s):"
printf '%-10s %12s %10s %10s\n' name "req/s" "p50 ms" "p99 ms"
printf '%-10s %12s %10s %10s\n' nginx "$nginx_rps" "$nginx_p50" "$nginx_p99"
printf '%-10s %12s %10s %10s\n' emporium "$emporium_rps" "$emporium_p50" "$emporium_p99"
echo
echo "ratio emporium/nginx req/s: $ratio"
echo "target ratio >= $target_ratio: $([ "$ratio_ok" = true ] && echo MET || echo MISSED)"
echo "target emporium p99 < $target_p99_ms ms: $([ "$p99_ok" = true ] && echo MET || echo MISSED)"
if [ "$total_errors" -gt 0 ]; then
  echo "WARNING: $total_errors socket errors or non-2xx/3xx responses; see the rounds above"
fi

# JSON copy of the results; bench/results/ is git-ignored.
timestamp="$(date -u +%Y%m%dT%H%M%SZ)"
results_dir="$repo_root/bench/results"
results_file="$results_dir/http_vs_nginx-$timestamp.json"
mkdir -p "$results_dir"

# Prints one JSON object for "rps p50 p99 requests errors non2xx".
round_json() {
  read -r rps p50 p99 requests errors non2xx <<<"$1"
  printf '{"req_per_s": %s, "p50_ms": %s, "p99_ms": %s, "requests": %s, "socket_errors": %s, "non_2xx_3xx": %s}' \
    "$rps" "$p50" "$p99" "$requests" "$errors" "$non2xx"
}
# Prints the JSON object for server $1 (port $2, response bytes $3, best round $4,
# access-log lines $5).
server_json() {
  local r sep=""
  printf '    "%s": {\n      "port": %s,\n      "response_bytes": %s,\n      "access_log_lines": %s,\n      "best_round": %s,\n' \
    "$1" "$2" "$3" "$5" "$4"
  printf '      "best": %s,\n      "rounds": [' "$(round_json "${results[$1,$4]}")"
  for r in $(seq "$rounds"); do
    printf '%s\n        %s' "$sep" "$(round_json "${results[$1,$r]}")"
    sep=","
  done
  printf '\n      ]\n    }'
}

{
  printf '{\n'
  printf '  "benchmark": "http_vs_nginx",\n'
  printf '  "timestamp": "%s",\n' "$timestamp"
  printf '  "host": "%s",\n' "$host"
  printf '  "cpus": %s,\n' "$(nproc)"
  printf '  "url_path": "/healthz",\n'
  printf '  "wrk": {"threads": %s, "connections": %s, "duration": "%s", "warmup": "%s", "rounds": %s},\n' \
    "$threads" "$connections" "$duration" "$warmup" "$rounds"
  printf '  "selection": "per server, the round with the higher req/s",\n'
  printf '  "servers": {\n'
  server_json nginx "$nginx_port" "$nginx_bytes" "$nginx_best" "$nginx_log_lines"
  printf ',\n'
  server_json emporium "$emporium_port" "$emporium_bytes" "$emporium_best" "$emporium_log_lines"
  printf '\n  },\n'
  printf '  "ratio_req_per_s": %s,\n' "$ratio"
  printf '  "targets": {"ratio_min": %s, "ratio_met": %s, "emporium_p99_ms_max": %s, "p99_met": %s},\n' \
    "$target_ratio" "$ratio_ok" "$target_p99_ms" "$p99_ok"
  printf '  "errors_total": %s\n' "$total_errors"
  printf '}\n'
} >"$results_file"

echo
echo "results: ${results_file#"$repo_root"/}"
exit 0
