#!/usr/bin/env bash
# Runs the whole test suite against an existing build directory.
set -euo pipefail
build=${1:-build}
cd "$(dirname "$0")/.."
# Node tools for the API document checks (Redocly), pinned by package-lock.json.
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
ctest --test-dir "$build" --output-on-failure -j "$(nproc)" --timeout 600
