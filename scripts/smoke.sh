#!/usr/bin/env bash
# The shop's journey through a public URL, as a customer: the catalog, sign
# up, sign in, add to the cart, place an order, see it in the order history.
# The CD pipeline runs it after each deploy (staging, then prod).
#
#   scripts/smoke.sh https://staging.shop.example.com
#
# Creates one account (smoke+<time>@example.com) and one order of the
# cheapest product in stock; prints each step, fails on the first wrong answer.
# Needs curl and python3.
set -euo pipefail
base=${1:?usage: smoke.sh BASE_URL}
base=${base%/}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

step() { echo "smoke: $*" >&2; }
call() { # METHOD PATH EXPECTED_STATUS[|OTHER...] [BODY] -> body in $tmp/body
  local method=$1 path=$2 want=$3 body=${4:-}
  local args=(-sS --max-time 15 -o "$tmp/body" -w '%{http_code}' -X "$method" -H 'Content-Type: application/json')
  [ -n "${token:-}" ] && args+=(-H "Authorization: Bearer $token")
  [ -n "$body" ] && args+=(--data "$body")
  local got
  got=$(curl "${args[@]}" "$base$path")
  if [[ ! "$got" =~ ^($want)$ ]]; then
    step "FAIL $method $path: status $got, expected $want: $(head -c 500 "$tmp/body")"
    exit 1
  fi
}
json() { python3 -c "import json,sys; d=json.load(open('$tmp/body')); print($1)"; }

step "waiting for $base/readyz"
for _ in $(seq 1 60); do
  if curl -sf --max-time 5 -o /dev/null "$base/readyz"; then break; fi
  sleep 5
done
call GET /readyz 200

call GET '/api/products?limit=50' 200
product=$(json "next(p['id'] for p in sorted(d['products'], key=lambda p: float(p['price'])) if p.get('stock', 0) > 0)")
step "catalog answers; product $product in stock"

email="smoke+$(date +%s)@example.com"
password="smoke-$(date +%s)-password"
# 201 in development mode; 202 in production, where registration answers
# alike for new and registered addresses.
call POST /api/users/register '201|202' "{\"email\":\"$email\",\"password\":\"$password\"}"
call POST /api/users/login 200 "{\"email\":\"$email\",\"password\":\"$password\"}"
token=$(json "d['token']")
user=$(json "d['user']['id']")
step "signed up and in as $email"

call POST "/api/cart/$user/items" 201 "{\"productId\":\"$product\",\"quantity\":1}"
call POST /api/orders 201 "{\"userId\":\"$user\",\"shippingAddress\":{\"street\":\"1 Main St\",\"city\":\"Springfield\",\"state\":\"IL\",\"zipCode\":\"62701\",\"country\":\"US\"}}"
order=$(json "d['id']")
step "order $order placed"

call GET /api/orders 200
json "[o['id'] for o in d].index('$order')" >/dev/null
call GET "/api/cart/$user" 200
[ "$(json "len(d['items'])")" = 0 ] || { step "FAIL the cart is not empty after the order"; exit 1; }
step "OK: the order is in the history and the cart is empty"
