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
# Targets (issue 11): emporium req/s >= 0.95 x nginx req/s, and emporium p99 < 5 ms.
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

# shellcheck disable=SC2034  # read by bench/lib.sh
bench_name=http_vs_nginx
# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

readonly url_path=/healthz
readonly target_ratio=0.95  # emporium req/s / nginx req/s, at least
readonly target_p99_ms=5    # emporium p99, strictly below

# ---------------------------------------------------------------------------
# 1. Arguments and tools.
# ---------------------------------------------------------------------------

[ "$#" -eq 1 ] || die "usage: $0 PATH/TO/emporium"
emporium_bin="$(bench_executable "$1")"
readonly emporium_bin
bench_need_load_tools

# ---------------------------------------------------------------------------
# 2. Emporium, with its access log going to a file as nginx's does.
# ---------------------------------------------------------------------------

emporium_port="$(free_port 18181)" || die "no free port for emporium"
readonly emporium_port
mkdir -p "$work_dir/emporium-data"
"$emporium_bin" serve \
  --listen="$host:$emporium_port" \
  --admin-listen="$host:0" \
  --data-dir="$work_dir/emporium-data" \
  --log-level=info \
  --io-threads="$workers" \
  --drain-timeout=2s \
  >"$work_dir/emporium.log" 2>"$work_dir/emporium.err" &
emporium_pid=$!
bench_track "$emporium_pid" emporium
if ! wait_http "$emporium_port" "$emporium_pid" emporium "$url_path"; then
  cat "$work_dir/emporium.err" "$work_dir/emporium.log" >&2 || true
  die "emporium failed to start"
fi

# ---------------------------------------------------------------------------
# 3. nginx, serving emporium's exact /healthz body as a static file with the
#    same extra headers, so the bytes on the wire are comparable.
# ---------------------------------------------------------------------------

mkdir -p "$work_dir/nginx/html"
curl -fsS --max-time 5 -o "$work_dir/nginx/html$url_path" "http://$host:$emporium_port$url_path" \
  || die "could not fetch emporium's $url_path body"
extra_headers="$(mirror_headers "$emporium_port" "$url_path")"

nginx_port="$(free_port $((emporium_port + 1)))" || die "no free port for nginx"
readonly nginx_port
nginx_write_conf "$work_dir/nginx" "$nginx_port" "$url_path" "$extra_headers" bench/http_vs_nginx.sh
nginx_start "$work_dir/nginx" "$nginx_port" "$url_path"

# Same body byte for byte, or the comparison means nothing.
curl -fsS --max-time 5 -o "$work_dir/nginx-body" "http://$host:$nginx_port$url_path"
cmp -s "$work_dir/nginx-body" "$work_dir/nginx/html$url_path" \
  || die "nginx's $url_path body differs from emporium's"

# Response size (status line + headers + body) of each, shown for comparison.
# nginx-light cannot drop its "Server: nginx" and "Connection: keep-alive"
# lines, so nginx sends 39 bytes more per response than emporium.
emporium_bytes="$(response_bytes "$emporium_port" "$url_path")"
nginx_bytes="$(response_bytes "$nginx_port" "$url_path")"

# ---------------------------------------------------------------------------
# 4. Load: warm-up, then rounds of nginx, emporium, nginx, emporium.
# ---------------------------------------------------------------------------

log "emporium on $host:$emporium_port, nginx on $host:$nginx_port"
log "wrk: $threads threads, $connections connections, $duration per round, $rounds rounds, warm-up $warmup"
run_rounds "$url_path" nginx "$nginx_port" emporium "$emporium_port"

# Both servers must have paid for an access-log line per request.
emporium_log_lines="$(grep -c '"msg":"request"' "$work_dir/emporium.log" || true)"
nginx_log_lines="$(wc -l <"$work_dir/nginx/access.log")"

# ---------------------------------------------------------------------------
# 5. Report: every round, then the better round (higher req/s) of each.
# ---------------------------------------------------------------------------

nginx_best="$(best_round nginx)"
emporium_best="$(best_round emporium)"

read -r nginx_rps nginx_p50 nginx_p99 _ _ _ <<<"${results[nginx,$nginx_best]}"
read -r emporium_rps emporium_p50 emporium_p99 _ _ _ <<<"${results[emporium,$emporium_best]}"

ratio="$(awk -v e="$emporium_rps" -v n="$nginx_rps" 'BEGIN { printf "%.2f", (n > 0 ? e / n : 0) }')"
ratio_ok="$(awk -v r="$ratio" -v t="$target_ratio" 'BEGIN { print (r >= t ? "true" : "false") }')"
p99_ok="$(awk -v p="$emporium_p99" -v t="$target_p99_ms" 'BEGIN { print (p < t ? "true" : "false") }')"

# Any socket error or non-2xx/3xx answer makes the numbers suspect; say so.
total_errors="$(error_total "")"

echo
echo "GET $url_path on $host, wrk -t$threads -c$connections -d$duration --latency, $(nproc) CPUs"
echo "response bytes (headers + body): nginx $nginx_bytes, emporium $emporium_bytes"
echo "access-log lines written: nginx $nginx_log_lines, emporium $emporium_log_lines"
echo
print_all_rounds "" nginx emporium
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

# Prints the JSON object for server $1 (port $2, response bytes $3, best round $4,
# access-log lines $5).
server_json() {
  printf '    "%s": {\n      "port": %s,\n      "response_bytes": %s,\n      "access_log_lines": %s,\n      "best_round": %s,\n' \
    "$1" "$2" "$3" "$5" "$4"
  printf '      "best": %s,\n      "rounds": %s\n      ]\n    }' \
    "$(round_json "${results[$1,$4]}")" "$(rounds_json "$1" '        ')"
}

{
  printf '{\n'
  printf '  "benchmark": "http_vs_nginx",\n'
  printf '  "timestamp": "%s",\n' "$timestamp"
  printf '  "host": "%s",\n' "$host"
  printf '  "cpus": %s,\n' "$(nproc)"
  printf '  "url_path": "%s",\n' "$url_path"
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
