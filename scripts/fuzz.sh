#!/usr/bin/env bash
# The libFuzzer targets of fuzz/ (clang 14, ASan + UBSan, a tree of their own):
#   scripts/fuzz.sh build                  configure and build them (build-fuzz/)
#   scripts/fuzz.sh run TARGET [SECONDS]   run one on a scratch copy of its seed corpus
#   scripts/fuzz.sh all [SECONDS]          build, then run each in turn (`make fuzz`)
#   scripts/fuzz.sh list                   the targets
# A run starts from fuzz/corpus/TARGET (never written: new inputs go to a
# scratch directory, removed afterwards) with fuzz/TARGET.dict, one process,
# for SECONDS (default 60); it fails on any crash, leak, sanitizer report or
# timeout, leaving the input that did it under $EMPORIUM_FUZZ_ARTIFACTS
# (default build-fuzz/artifacts). Environment: EMPORIUM_FUZZ_BUILD (the
# tree, default build-fuzz), JOBS (build jobs, default 2), CC/CXX (default
# clang-14/clang++-14).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
build=${EMPORIUM_FUZZ_BUILD:-build-fuzz}
case "$build" in /*) ;; *) build="$root/$build" ;; esac
targets=(money event email config jwt json_body http_request)

build_targets() {
  if [ ! -f "$build/build.ninja" ]; then
    CC=${CC:-clang-14} CXX=${CXX:-clang++-14} cmake -S "$root" -B "$build" -G Ninja \
      -DCMAKE_BUILD_TYPE=None -DEMPORIUM_FUZZ=ON -DEMPORIUM_BUILD_TESTS=OFF >/dev/null
  fi
  # One at a time, the small ones first (http_request links the whole shop).
  local t
  for t in "${targets[@]}"; do
    cmake --build "$build" -j "${JOBS:-2}" --target "fuzz_$t"
  done
}

run_target() {
  local target=$1 seconds=${2:-60}
  local bin="$build/fuzz/fuzz_$target"
  if [ ! -x "$bin" ]; then
    echo "fuzz: $bin is not built (scripts/fuzz.sh build)" >&2
    return 1
  fi
  local scratch artifacts rc=0
  scratch=$(mktemp -d "${TMPDIR:-/tmp}/emporium-fuzz-$target.XXXXXX")
  artifacts=${EMPORIUM_FUZZ_ARTIFACTS:-$build/artifacts}/$target
  mkdir -p "$scratch/corpus" "$scratch/tmp" "$artifacts"
  cp -r "$root/fuzz/corpus/$target/." "$scratch/corpus/"
  # Leaks are findings; an input running past 10 s is a finding (timeout).
  ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:allocator_may_return_null=1" \
    UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1" TMPDIR="$scratch/tmp" \
    "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
    -print_final_stats=1 -dict="$root/fuzz/$target.dict" \
    -artifact_prefix="$artifacts/" "$scratch/corpus" >"$scratch/log" 2>&1 || rc=$?
  grep -Ev '^#[0-9]+[[:space:]]+(NEW|REDUCE|pulse)|Uses: [0-9]+$' "$scratch/log" || true
  local runs
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$scratch/log")
  echo "fuzz: $target: ${runs:-0} runs in ${seconds}s, exit $rc"
  rm -rf "$scratch"
  return "$rc"
}

case "${1:-}" in
  build) build_targets ;;
  run)
    [ $# -ge 2 ] || { echo "usage: $0 run TARGET [SECONDS]" >&2; exit 2; }
    run_target "$2" "${3:-60}"
    ;;
  all)
    build_targets
    failed=()
    for t in "${targets[@]}"; do
      run_target "$t" "${2:-60}" || failed+=("$t")
    done
    if [ "${#failed[@]}" -ne 0 ]; then
      echo "fuzz: findings in ${failed[*]} (inputs under ${EMPORIUM_FUZZ_ARTIFACTS:-$build/artifacts})" >&2
      exit 1
    fi
    ;;
  list) printf '%s\n' "${targets[@]}" ;;
  *)
    echo "usage: $0 build | run TARGET [SECONDS] | all [SECONDS] | list" >&2
    exit 2
    ;;
esac
