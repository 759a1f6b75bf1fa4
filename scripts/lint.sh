#!/usr/bin/env bash
# clang-tidy (.clang-tidy) over every C++ source file of src/ and lib/, on
# the compile commands of an existing build directory. Fails on any finding.
set -euo pipefail
build=${1:-build}
cd "$(dirname "$0")/.."
if [ ! -f "$build/compile_commands.json" ]; then
  echo "lint: $build/compile_commands.json is missing: configure the build first" >&2
  exit 2
fi
# The sources to check: git's view of src/ and lib/ (not generated files).
mapfile -t files < <(git ls-files 'src/*.cpp' 'lib/*.cpp')
echo "lint: clang-tidy on ${#files[@]} files with $(nproc) jobs"
# (run-clang-tidy 14 always colours its output: the colours are stripped.)
# The compile commands are GCC's: clang is told to ignore the warning
# options it does not know (-Wno-error=restrict, say).
run-clang-tidy -quiet -p "$build" -j "$(nproc)" -extra-arg=-Wno-unknown-warning-option \
  "${files[@]/#/$PWD/}" 2>&1 |
  sed 's/\x1b\[[0-9;]*m//g' >"$build/clang-tidy.log" || status=$?
if grep -E "(warning|error): .*\[[a-z]+-" "$build/clang-tidy.log" >/dev/null; then
  grep -E -A3 "(warning|error): .*\[[a-z]+-" "$build/clang-tidy.log" >&2
  echo "lint: clang-tidy found problems (full log: $build/clang-tidy.log)" >&2
  exit 1
fi
if [ "${status:-0}" -ne 0 ]; then
  tail -n 40 "$build/clang-tidy.log" >&2
  echo "lint: clang-tidy failed (full log: $build/clang-tidy.log)" >&2
  exit 1
fi
echo "lint: clean"
