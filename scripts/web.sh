#!/usr/bin/env bash
# Builds the storefront and admin console (web/) into web/dist: `npm ci` when
# web/package-lock.json is newer than web/node_modules, the type check and
# `vite build`, then a .gz and a .br beside every text asset. Does nothing
# when no file under web/ (outside node_modules and dist) changed since the
# last build; EMPORIUM_WEB_FORCE=1 builds anyway.
set -euo pipefail
cd "$(dirname "$0")/../web"

stamp=node_modules/.cache/emporium-web.sha256
sources_hash() {
  find . \( -path ./node_modules -o -path ./dist \) -prune -o -type f -print0 |
    LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum | cut -d' ' -f1
}

hash=$(sources_hash)
if [ "${EMPORIUM_WEB_FORCE:-0}" != 1 ] && [ -f dist/index.html ] && [ -f dist/admin/index.html ] &&
  [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$hash" ]; then
  echo "web: up to date (web/dist)"
  exit 0
fi

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
npx --no-install tsc --noEmit
npx --no-install vite build --logLevel warn
node scripts/compress.mjs dist

mkdir -p "$(dirname "$stamp")"
echo "$hash" >"$stamp"
echo "web: built web/dist"
