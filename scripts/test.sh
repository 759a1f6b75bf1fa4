#!/usr/bin/env bash
# Runs the whole test suite against an existing build directory.
set -euo pipefail
build=${1:-build}
cd "$(dirname "$0")/.."
ctest --test-dir "$build" --output-on-failure -j "$(nproc)" --timeout 300
