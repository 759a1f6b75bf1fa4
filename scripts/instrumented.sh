#!/usr/bin/env bash
# Builds an instrumented tree and runs the unit and integration suites on it.
#   scripts/instrumented.sh sanitize   ASan + UBSan (-fno-sanitize-recover=all): any finding fails
#   scripts/instrumented.sh coverage   gcov counters, then gcovr prints line and branch coverage
#   scripts/instrumented.sh both       one build with both (what `make test` runs)
# The servers the integration tests need must be running already (scripts/test.sh
# starts them; this script starts them itself when EMPORIUM_TEST_SERVICES_DIR is unset).
set -euo pipefail
mode=${1:-both}
cd "$(dirname "$0")/.."
root=$(pwd)
build=${EMPORIUM_INSTRUMENTED_BUILD:-build-$mode}

flags="-g -O1 -fno-omit-frame-pointer"
link=""
case "$mode" in
  sanitize | both)
    flags+=" -fsanitize=address,undefined -fno-sanitize-recover=all"
    link+=" -fsanitize=address,undefined"
    ;;&
  coverage | both)
    # The counters are updated from many threads: atomic updates, or they race.
    flags+=" --coverage -fprofile-update=atomic"
    link+=" --coverage"
    ;;
  sanitize) ;;
  coverage) ;;
  *)
    echo "usage: $0 sanitize|coverage|both" >&2
    exit 2
    ;;
esac

cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DEMPORIUM_WERROR=ON \
  -DCMAKE_CXX_FLAGS="$flags" -DCMAKE_EXE_LINKER_FLAGS="$link" >/dev/null
cmake --build "$build" -j "$(nproc)" --target emporium unit_tests integration_tests

# shellcheck source=scripts/test-services.sh
source scripts/test-services.sh
start_test_services

# Every finding ends the process with a report; leaks are findings too.
export ASAN_OPTIONS="abort_on_error=0:halt_on_error=1:detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
find "$build" -name '*.gcda' -delete
# The node checks (OpenAPI, manifests, podman, delivery files, the browser)
# test documents, files, the image and the web app through the binary: the
# plain build runs them. The fuzz targets have their own instrumented tree.
# The latency-ratio test (reads during a login flood) measures the server's
# speed, which the sanitizers and counters change many times over: it runs in
# the plain suite only.
ctest --test-dir "$build" --output-on-failure -j "$(nproc)" --timeout 900 \
  -E '^(openapi|deploy|delivery|e2e|fuzz)\.|^ServerShedding\.CatalogReadsKeepTheirLatencyDuringALoginFlood$'

if [ "$mode" != sanitize ]; then
  echo "coverage of src/ and lib/ (unit and integration suites):"
  gcovr --root "$root" --object-directory "$build" --filter "$root/src/" --filter "$root/lib/" \
    --exclude-unreachable-branches --exclude-throw-branches --gcov-ignore-parse-errors \
    --print-summary --txt "$build/coverage.txt" --html-details "$build/coverage.html" -j "$(nproc)"
  echo "per file: $build/coverage.txt, $build/coverage.html"
fi
