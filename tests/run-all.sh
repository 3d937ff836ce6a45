#!/bin/bash
# Sets up, builds with --werror and runs every test suite; runs the unit and CLI suites on a build
# without libtorch; then the unit and fuzz suites again under AddressSanitizer +
# UndefinedBehaviorSanitizer. Ends with "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
bash tests/setup-debian.sh || exit 1

passed=0
failed=0
# run_suite BUILD_DIR [meson test args...]: adds that run's counts to the totals.
run_suite() {
    local dir=$1
    shift
    meson test -C "$dir" --print-errorlogs "$@" 2>&1 | tee "$dir/test-output.txt" | grep -E '^ *[0-9]+/[0-9]+ '
    local ok fail
    ok=$(grep -E '^Ok:' "$dir/test-output.txt" | awk '{print $2}')
    fail=$(grep -E '^(Fail|Timeout|Unexpected Pass):' "$dir/test-output.txt" | awk '{s += $NF} END {print s + 0}')
    passed=$((passed + ${ok:-0}))
    failed=$((failed + fail))
    if [ -z "$ok" ]; then
        failed=$((failed + 1)) # the runner itself did not finish
    fi
}

echo "== release build (--werror)"
if [ ! -d build-ci ]; then meson setup build-ci --werror -Dbuildtype=release >/dev/null || exit 1; fi
ninja -C build-ci >/dev/null || { ninja -C build-ci; exit 1; }
run_suite build-ci

echo "== build without libtorch (-Dtorch=disabled: C reference and OpenBLAS backends)"
if [ ! -d build-notorch ]; then meson setup build-notorch --werror -Dbuildtype=release -Dtorch=disabled >/dev/null || exit 1; fi
ninja -C build-notorch >/dev/null || { ninja -C build-notorch; exit 1; }
run_suite build-notorch --suite unit --suite cli

echo "== sanitizer build (address, undefined)"
if [ ! -d build-asan ]; then
    meson setup build-asan --werror -Dbuildtype=debugoptimized -Db_sanitize=address,undefined -Db_lundef=false >/dev/null || exit 1
fi
ninja -C build-asan >/dev/null || { ninja -C build-asan; exit 1; }
SCMC_SKIP_SLOW_TESTS=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 ASAN_OPTIONS=detect_leaks=1 run_suite build-asan --suite unit --suite fuzz

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
