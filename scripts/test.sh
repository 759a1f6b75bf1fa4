#!/usr/bin/env bash
# Runs the whole test suite against an existing build directory. Starts the
# servers the tests need (scripts/local-services.sh) on loopback for the
# duration of the run and stops them afterwards.
set -euo pipefail
build=${1:-build}
cd "$(dirname "$0")/.."

# Formatting first: it takes a second and fails fast.
git ls-files '*.cpp' '*.hpp' | xargs clang-format --dry-run --Werror

# Node tools for the API document checks (Redocly), pinned by package-lock.json.
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
# The browser tests' tools (playwright-core, axe-core, Lighthouse), pinned by
# tests/e2e/package-lock.json.
if [ ! -d tests/e2e/node_modules ] || [ tests/e2e/package-lock.json -nt tests/e2e/node_modules ]; then
  npm ci --prefix tests/e2e --no-audit --no-fund --loglevel=error
fi

# The fuzz targets' own tree (clang 14, ASan + UBSan), built before the
# suite so that its compiles do not compete with the timed tests; ctest's
# fuzz.* entries then run each target for 30 s.
JOBS=$(nproc) scripts/fuzz.sh build

# shellcheck source=scripts/test-services.sh
source scripts/test-services.sh
start_test_services

# JUnit XML beside the build (CI uploads it as a test report).
ctest --test-dir "$build" --output-on-failure -j "$(nproc)" --timeout 600 \
  --output-junit "$(cd "$build" && pwd)/ctest-junit.xml"

# Every header compiles on its own; clang-tidy finds nothing.
# (EMPORIUM_LINT=off skips clang-tidy, for CI, which runs it as a step of its own.)
cmake --build "$build" -j "$(nproc)" --target headers
if [ "${EMPORIUM_LINT:-on}" != off ]; then
  scripts/lint.sh "$build"
fi

# The unit and integration suites again under ASan + UBSan, with coverage
# (EMPORIUM_INSTRUMENTED=off skips this, for a quick local run).
if [ "${EMPORIUM_INSTRUMENTED:-both}" != off ]; then
  scripts/instrumented.sh "${EMPORIUM_INSTRUMENTED:-both}"
fi
