#!/usr/bin/env bash
# The whole test suite, from a fresh machine: packages, lint (clang-format, clang-tidy on src/
# and include/), configure, build, then
#   1. release build: every test (unit, integration, stress, package incl. the .deb through
#      dpkg -i as root, cli, examples)
#   2. AddressSanitizer + UndefinedBehaviorSanitizer: unit, integration and stress tests
#   3. ThreadSanitizer: unit (the stage tests), integration and stress tests
#   (the C API's tests, label capi, run in stages 1 to 3: the C boundary and the C callback on a
#   pipeline thread under both sanitizers)
#   4. clang + libc++ (warnings as errors) with -DHTEVENTS_PORTABLE=ON (every platform fast
#      path off), one build: unit, integration, the simdjson ABI boundary check, the stress test
#      that no membarrier call is made
#   5. libFuzzer: each fuzzer for a bounded time
#   6. aarch64: unit and integration tests cross-built and run under qemu (tools/cross-test.sh)
# Exits non-zero on the first failure. Budget: under 45 minutes on 2 cores (CI has 90).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
fuzz_seconds=${HTEVENTS_FUZZ_SECONDS:-20}

step() { printf '\n==== %s (at %d s) ====\n' "$*" "$SECONDS"; }

step "setup: packages"
./tools/setup.sh

step "lint: clang-format and clang-tidy on src/ and include/"
./tools/lint.sh -j "$(nproc)"

step "release build"
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)"
step "release tests"
ctest --preset release -j 2

step "ASan+UBSan build"
cmake --preset asan >/dev/null
cmake --build --preset asan -j "$(nproc)" --target htevents_unit_tests htevents_integration_tests htevents_stress_tests \
  htevents_capi_tests
step "ASan+UBSan tests"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --preset asan -j 2 -L 'unit|integration|stress|capi'

step "TSan build"
cmake --preset tsan >/dev/null
cmake --build --preset tsan -j "$(nproc)" --target htevents_unit_tests htevents_integration_tests htevents_stress_tests \
  htevents_capi_tests
step "TSan tests"
TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 suppressions=$root/tests/tsan.supp" ctest --preset tsan -j 2

# --- other platforms' code paths, on this one (docs/platforms.md) ---------------------------
# One build for two jobs: clang with libc++ (another compiler and standard library, warnings as
# errors) and HTEVENTS_PORTABLE=ON (every platform fast path off, the code other platforms
# run). The x86-64 fast paths are covered by the GCC stages above; the presets `portable` and
# `libcxx` build each alone.
stage_start=$SECONDS
step "clang + libc++, portable build (HTEVENTS_PORTABLE=ON)"
cmake --preset libcxx-portable >/dev/null
# The tests and the tools; not the crash writer (std::jthread: libc++ 14 lacks it).
cmake --build --preset libcxx-portable -j "$(nproc)" --target htevents_unit_tests htevents_integration_tests \
  htevents_stress_tests htevents-collector htevents_cli
step "clang + libc++, portable tests"
ctest --preset libcxx-portable -j 2
# Of the stress tests, the one that proves the portable build never calls membarrier (its
# client runs under a seccomp filter that kills the process at the first call).
ctest --test-dir build-libcxx-portable --output-on-failure --no-tests=error -R '^stress\.Edges\.Membarrier'
echo "-- clang + libc++, portable stage: $((SECONDS - stage_start)) s"
# ------------------------------------------------------------------------------------------------

if [ -f tests/fuzz/CMakeLists.txt ]; then
  step "fuzzers (${fuzz_seconds}s each)"
  cmake --preset fuzz >/dev/null
  cmake --build --preset fuzz -j "$(nproc)"
  for fuzzer in build-fuzz/tests/fuzz/*_fuzz; do
    [ -x "$fuzzer" ] || continue
    name=$(basename "$fuzzer")
    corpus="build-fuzz/corpus/$name"
    log="build-fuzz/$name.log"
    mkdir -p "$corpus"
    status=0
    "$fuzzer" -max_total_time="$fuzz_seconds" -print_final_stats=1 "$corpus" >"$log" 2>&1 || status=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    echo "-- $name: ${runs:-?} executions in ${fuzz_seconds}s, exit $status"
    if [ "$status" -ne 0 ]; then
      grep -E "ERROR|SUMMARY|Test unit written" "$log" || tail -20 "$log"
      echo "fuzzer $name found a problem (log: $log)"
      exit 1
    fi
  done
fi

# ---- cross: aarch64 under qemu -----------------------------------------------------------------
# The unit and integration tests cross-built for aarch64 and run under qemu-user. The script
# installs its own toolchain and arm64 packages (a few minutes the first time on a machine).
# HTEVENTS_SKIP_CROSS=1 skips it for local runs; CI runs it.
if [ "${HTEVENTS_SKIP_CROSS:-0}" != 1 ]; then
  step "cross: aarch64 under qemu (HTEVENTS_SKIP_CROSS=1 skips)"
  ./tools/cross-test.sh aarch64
fi

step "all test stages passed"
