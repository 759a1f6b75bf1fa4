#!/usr/bin/env bash
# Measures a real shop read, GET /api/products/{id}, against nginx serving the
# same bytes from a file, in both of Emporium's shapes.
#
# Usage: bench/shop_vs_nginx.sh PATH/TO/emporium
#
# For each shape (all-in-one, then split):
#   1. start the shop: one `emporium serve` process (all-in-one), or one
#      process per service plus a gateway (split), all on 127.0.0.1 with the
#      demo catalog, --log-level=info and two I/O threads each;
#   2. pick the first product of GET /api/products?limit=1 and fetch the
#      exact body of GET /api/products/{id} through the gateway port;
#   3. start nginx (two workers, JSON access log, as in bench/http_vs_nginx.sh)
#      serving that body at the same path with the same extra headers;
#   4. warm both up, then run wrk rounds, one server at a time: nginx,
#      emporium, nginx, emporium; report each round and the better round of
#      each (higher req/s), and the ratio emporium/nginx req/s;
#   5. stop everything before the next shape.
#
# In the split shape the request crosses the gateway and then the product
# service over HTTP, and both log it; in all-in-one the gateway routes in
# process. Only the gateway's port is loaded.
#
# A measurement, not a test: exits 0 whatever the numbers, non-zero only when
# the setup fails. Everything listens and is loaded on 127.0.0.1 only;
# everything started is stopped on exit. A JSON copy of the results goes to
# bench/results/shop_vs_nginx-<UTC time>.json (git-ignored).
#
# Environment (all optional):
#   BENCH_THREADS      wrk threads              (default 2)
#   BENCH_CONNECTIONS  wrk connections          (default 64)
#   BENCH_DURATION     wrk duration per round   (default 10s)
#   BENCH_WARMUP       wrk warm-up per server   (default 2s)
#   BENCH_ROUNDS       rounds per server        (default 2)
#   BENCH_SHAPES       shapes to run, in order  (default "all-in-one split")
#
# Needs: wrk, nginx, curl (scripts/install-deps.sh installs them).
set -euo pipefail

# shellcheck disable=SC2034  # read by bench/lib.sh
bench_name=shop_vs_nginx
# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"


[ "$#" -eq 1 ] || die "usage: $0 PATH/TO/emporium"
emporium_bin="$(bench_executable "$1")"
readonly emporium_bin
bench_need_load_tools
bench_check_shapes

# ---------------------------------------------------------------------------
# One shape: setup, load, report. Fills the shape's entries of `results` and
# the per-shape variables read by the summary and the JSON file.
# ---------------------------------------------------------------------------

declare -A product_of=() nginx_port_of=() gateway_port_of=() processes_of=()
declare -A nginx_bytes_of=() emporium_bytes_of=() nginx_lines_of=() emporium_lines_of=()
declare -A ratio_of=() body_bytes_of=()


run_shape() {
  local shape="$1" dir="$work_dir/$1" product_id path body_file extra_headers nginx_port
  local round name rps p50 p99 requests errors non2xx best n_best e_best
  local n_rps n_p50 n_p99 e_rps e_p50 e_p99 ratio shape_errors note

  log "== $shape: starting the shop"
  shop_start "$shape" "$dir"

  product_id="$(curl -fsS --max-time 5 "http://$host:$gateway_port/api/products?limit=1" \
    | grep -o '"id":"[^"]*"' | head -n 1 | cut -d'"' -f4)" || true
  [ -n "$product_id" ] || die "no product in the $shape shop's catalog"
  path="/api/products/$product_id"

  # nginx serves emporium's exact body, as a file at the same path.
  body_file="$dir/nginx/html$path"
  mkdir -p "$(dirname "$body_file")"
  curl -fsS --max-time 5 -o "$body_file" "http://$host:$gateway_port$path" \
    || die "could not fetch $path from the $shape shop"
  extra_headers="$(mirror_headers "$gateway_port" "$path")"
  nginx_port="$(free_port 18281)" || die "no free port for nginx"
  nginx_write_conf "$dir/nginx" "$nginx_port" "$path" "$extra_headers" bench/shop_vs_nginx.sh
  nginx_start "$dir/nginx" "$nginx_port" "$path"

  curl -fsS --max-time 5 -o "$dir/nginx-body" "http://$host:$nginx_port$path"
  cmp -s "$dir/nginx-body" "$body_file" || die "nginx's $path body differs from emporium's"
  # The product must not change under load (stock, updatedAt): compare again after.
  nginx_bytes_of[$shape]="$(response_bytes "$nginx_port" "$path")"
  emporium_bytes_of[$shape]="$(response_bytes "$gateway_port" "$path")"
  body_bytes_of[$shape]="$(wc -c <"$body_file")"

  log "$shape: emporium gateway on $host:$gateway_port ($shop_processes), nginx on $host:$nginx_port"
  log "$shape: GET $path; wrk: $threads threads, $connections connections, $duration per round, $rounds rounds, warm-up $warmup"
  run_rounds "$path" "$shape/nginx" "$nginx_port" "$shape/emporium" "$gateway_port"

  curl -fsS --max-time 5 -o "$dir/emporium-body-after" "http://$host:$gateway_port$path" \
    || die "could not fetch $path from the $shape shop after the load"
  cmp -s "$dir/emporium-body-after" "$body_file" \
    || log "WARNING: $shape: emporium's $path body changed during the run"

  # Stop everything (flushing the logs), then count access-log lines.
  bench_stop_all
  nginx_lines_of[$shape]="$(wc -l <"$dir/nginx/access.log")"
  emporium_lines_of[$shape]="$(cat "$dir"/*.log | grep -c '"msg":"request"' || true)"

  product_of[$shape]="$product_id"
  nginx_port_of[$shape]="$nginx_port"
  gateway_port_of[$shape]="$gateway_port"
  processes_of[$shape]="$shop_processes"

  n_best="$(best_round "$shape/nginx")"
  e_best="$(best_round "$shape/emporium")"
  read -r n_rps n_p50 n_p99 _ _ _ <<<"${results[$shape/nginx,$n_best]}"
  read -r e_rps e_p50 e_p99 _ _ _ <<<"${results[$shape/emporium,$e_best]}"
  ratio="$(awk -v e="$e_rps" -v n="$n_rps" 'BEGIN { printf "%.2f", (n > 0 ? e / n : 0) }')"
  ratio_of[$shape]="$ratio"
  shape_errors="$(error_total "$shape/")"

  echo
  echo "== $shape: $shop_processes"
  echo "GET $path through the gateway on $host, wrk -t$threads -c$connections -d$duration --latency, $(nproc) CPUs"
  echo "response bytes (headers + body): nginx ${nginx_bytes_of[$shape]}, emporium ${emporium_bytes_of[$shape]} (body ${body_bytes_of[$shape]})"
  if [ "$shape" = split ]; then
    note="all processes; the gateway and the product service each log every request"
  else
    note="one process"
  fi
  echo "access-log lines written: nginx ${nginx_lines_of[$shape]}, emporium ${emporium_lines_of[$shape]} ($note)"
  echo
  print_all_rounds "$shape/" nginx emporium
  echo
  echo "Better round of each (higher req/s):"
  printf '%-10s %12s %10s %10s\n' name "req/s" "p50 ms" "p99 ms"
  printf '%-10s %12s %10s %10s\n' nginx "$n_rps" "$n_p50" "$n_p99"
  printf '%-10s %12s %10s %10s\n' emporium "$e_rps" "$e_p50" "$e_p99"
  echo
  echo "ratio emporium/nginx req/s ($shape): $ratio"
  if [ "$shape_errors" -gt 0 ]; then
    echo "WARNING: $shape_errors socket errors or non-2xx/3xx responses; see the rounds above"
  fi
}

for shape in $shapes; do
  run_shape "$shape"
done

# ---------------------------------------------------------------------------
# Summary and JSON copy.
# ---------------------------------------------------------------------------

echo
echo "Summary: GET /api/products/{id}, better round of each (higher req/s)"
printf '%-11s %12s %8s %8s %14s %8s %8s %7s\n' shape "nginx req/s" "p50 ms" "p99 ms" \
  "emporium req/s" "p50 ms" "p99 ms" ratio
for shape in $shapes; do
  read -r n_rps n_p50 n_p99 _ _ _ <<<"${results[$shape/nginx,$(best_round "$shape/nginx")]}"
  read -r e_rps e_p50 e_p99 _ _ _ <<<"${results[$shape/emporium,$(best_round "$shape/emporium")]}"
  printf '%-11s %12s %8s %8s %14s %8s %8s %7s\n' "$shape" "$n_rps" "$n_p50" "$n_p99" \
    "$e_rps" "$e_p50" "$e_p99" "${ratio_of[$shape]}"
done

timestamp="$(date -u +%Y%m%dT%H%M%SZ)"
results_dir="$repo_root/bench/results"
results_file="$results_dir/shop_vs_nginx-$timestamp.json"
mkdir -p "$results_dir"

# Prints the JSON object for label $1 (port $2, response bytes $3,
# access-log lines $4).
server_json() {
  local best
  best="$(best_round "$1")"
  printf '{\n        "port": %s,\n        "response_bytes": %s,\n        "access_log_lines": %s,\n        "best_round": %s,\n' \
    "$2" "$3" "$4" "$best"
  printf '        "best": %s,\n        "rounds": %s\n        ]\n      }' \
    "$(round_json "${results[$1,$best]}")" "$(rounds_json "$1" '          ')"
}

{
  printf '{\n'
  printf '  "benchmark": "shop_vs_nginx",\n'
  printf '  "timestamp": "%s",\n' "$timestamp"
  printf '  "host": "%s",\n' "$host"
  printf '  "cpus": %s,\n' "$(nproc)"
  printf '  "url_path": "/api/products/{id}",\n'
  printf '  "wrk": {"threads": %s, "connections": %s, "duration": "%s", "warmup": "%s", "rounds": %s},\n' \
    "$threads" "$connections" "$duration" "$warmup" "$rounds"
  printf '  "selection": "per server, the round with the higher req/s",\n'
  printf '  "shapes": {'
  sep=""
  for shape in $shapes; do
    printf '%s\n    "%s": {\n' "$sep" "$shape"
    printf '      "processes": "%s",\n' "${processes_of[$shape]}"
    printf '      "product_id": "%s",\n' "${product_of[$shape]}"
    printf '      "body_bytes": %s,\n' "${body_bytes_of[$shape]}"
    printf '      "nginx": %s,\n' "$(server_json "$shape/nginx" "${nginx_port_of[$shape]}" \
      "${nginx_bytes_of[$shape]}" "${nginx_lines_of[$shape]}")"
    printf '      "emporium": %s,\n' "$(server_json "$shape/emporium" "${gateway_port_of[$shape]}" \
      "${emporium_bytes_of[$shape]}" "${emporium_lines_of[$shape]}")"
    printf '      "ratio_req_per_s": %s,\n' "${ratio_of[$shape]}"
    printf '      "errors_total": %s\n' "$(error_total "$shape/")"
    printf '    }'
    sep=","
  done
  printf '\n  }\n'
  printf '}\n'
} >"$results_file"

echo
echo "results: ${results_file#"$repo_root"/}"
exit 0
