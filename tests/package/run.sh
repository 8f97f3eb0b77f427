#!/usr/bin/env bash
# Packaging test: install htevents into a temporary prefix, then build and run one consumer
# program against the installed package three times: (1) through CMake's find_package and (2)
# through pkg-config with a plain compiler command line, against the static library, and (3)
# through find_package against the shared library. The C API the same way: a C program
# (c_consumer/app.c) through `cc app.c $(pkg-config --cflags --libs htevents)` and through a
# C-only CMake project, static and shared, and Python's ctypes loading the installed shared
# library (ctypes_test.py). With a collector, those send to it and check its counts.
# Exits non-zero on the first failure.
# Usage: tests/package/run.sh [SOURCE_DIR [COLLECTOR_EXE]]
#   SOURCE_DIR     default: the repository containing this script
#   COLLECTOR_EXE  the local collector (htevents-collector); without it the C consumer runs
#                  against a closed port and the ctypes test is skipped
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source_dir=$(cd "${1:-$here/../..}" && pwd)
collector=${2:-}
work=$(mktemp -d "${TMPDIR:-/tmp}/htevents-package.XXXXXX")
collector_pid=
cleanup() {
  if [ -n "$collector_pid" ]; then kill "$collector_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
prefix=$work/prefix
jobs=${HTEVENTS_PACKAGE_JOBS:-2}
generator=()
command -v ninja >/dev/null && generator=(-G Ninja)

step() { printf '\n== %s\n' "$*"; }

# start_collector: a fresh local collector on 127.0.0.1 (port 0); sets $endpoint.
# shellcheck source=../../tools/collector/collector.sh
. "$source_dir/tools/collector/collector.sh"

# stop_collector EXPECTED: stops it (it prints its final counts) and checks that EXPECTED
# distinct messages arrived, none twice.
stop_collector() {
  kill -TERM "$collector_pid"
  wait "$collector_pid" || true
  collector_pid=
  local counts unique duplicates
  counts=$(cat "$work/collector.json")
  unique=$(grep -oE '"unique_message_ids":[0-9]+' <<<"$counts" | grep -oE '[0-9]+$')
  duplicates=$(grep -oE '"duplicate_message_ids":[0-9]+' <<<"$counts" | grep -oE '[0-9]+$')
  if [ "$unique" != "$1" ] || [ "$duplicates" != 0 ]; then
    echo "FAIL: collector unique=$unique duplicates=$duplicates, expected $1: $counts" >&2
    exit 1
  fi
  echo "collector: $unique events, each once"
}

# run_c_consumer EXE: the C program, against a fresh collector when there is one.
run_c_consumer() {
  if [ -n "$collector" ]; then
    start_collector
    "$1" "$endpoint"
    stop_collector 3
  else
    "$1"
  fi
}

# install_htevents BUILD_DIR PREFIX SHARED(ON|OFF): the library alone, configured, built, installed.
install_htevents() {
  cmake -S "$source_dir" -B "$1" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_INSTALL_PREFIX="$2" -DBUILD_SHARED_LIBS="$3" \
    -DHTEVENTS_BUILD_TESTS=OFF -DHTEVENTS_BUILD_BENCHMARKS=OFF -DHTEVENTS_BUILD_TOOLS=OFF \
    -DHTEVENTS_BUILD_EXAMPLES=OFF -DHTEVENTS_BUILD_FUZZERS=OFF >"$1.configure.log" ||
    { cat "$1.configure.log"; exit 1; }
  cmake --build "$1" --parallel "$jobs"
  cmake --install "$1" >/dev/null
}

step "configure, build and install htevents (static) into $prefix"
install_htevents "$work/build" "$prefix" OFF
libdir=$(find "$prefix" -name htevents.pc -printf '%h\n' | head -1)
[ -n "$libdir" ] || { echo "FAIL: no htevents.pc installed under $prefix" >&2; exit 1; }
version=$(PKG_CONFIG_PATH=$libdir pkg-config --modversion htevents)
echo "installed htevents $version"

step "consumer through CMake: find_package(htevents CONFIG REQUIRED)"
cmake -S "$here/consumer" -B "$work/consumer-cmake" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$prefix"
cmake --build "$work/consumer-cmake" --parallel "$jobs"
"$work/consumer-cmake/consumer"

# Without --static: for a static htevents the .pc lists curl, zstd, zlib and simdjson under
# Requires, so their shared libraries are on the link line already. --static would also expand
# libcurl's own Libs.private (nghttp2, ssh2, ldap...), whose static -dev packages a system
# usually lacks; we want the static libhtevents.a, not a fully static program.
step "consumer through pkg-config: g++ main.cpp \$(pkg-config --cflags --libs htevents)"
flags=$(PKG_CONFIG_PATH=$libdir pkg-config --cflags --libs htevents)
echo "pkg-config: $flags"
# shellcheck disable=SC2086  # the flags are meant to be split
${CXX:-g++} -std=c++20 -Wall -Wextra -Werror -DEXPECTED_VERSION="\"$version\"" "$here/consumer/main.cpp" \
  -o "$work/consumer-pkgconfig" $flags
"$work/consumer-pkgconfig"

step "C consumer through pkg-config: cc app.c \$(pkg-config --cflags --libs htevents)"
# shellcheck disable=SC2086  # the flags are meant to be split
${CC:-cc} -std=c11 -Wall -Wextra -Wpedantic -Werror "$here/c_consumer/app.c" -o "$work/c-consumer-pkgconfig" $flags
run_c_consumer "$work/c-consumer-pkgconfig"

step "C consumer through CMake: a C-only project, find_package(htevents CONFIG REQUIRED)"
cmake -S "$here/c_consumer" -B "$work/c-consumer-cmake" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$prefix"
cmake --build "$work/c-consumer-cmake" --parallel "$jobs"
run_c_consumer "$work/c-consumer-cmake/c_consumer"

step "shared library: install with BUILD_SHARED_LIBS=ON, consumer through find_package"
shared_prefix=$work/prefix-shared
install_htevents "$work/build-shared" "$shared_prefix" ON
find "$shared_prefix" -name 'libhtevents.so*' | grep -q . || { echo "FAIL: no libhtevents.so installed" >&2; exit 1; }
cmake -S "$here/consumer" -B "$work/consumer-shared" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$shared_prefix"
cmake --build "$work/consumer-shared" --parallel "$jobs"
"$work/consumer-shared/consumer"

step "shared library: C consumer through CMake"
cmake -S "$here/c_consumer" -B "$work/c-consumer-shared" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$shared_prefix"
cmake --build "$work/c-consumer-shared" --parallel "$jobs"
run_c_consumer "$work/c-consumer-shared/c_consumer"

if [ -n "$collector" ]; then
  step "shared library: the C ABI from Python (ctypes) against the collector"
  library=$(find "$shared_prefix" -name 'libhtevents.so.[0-9]*.[0-9]*' ! -name 'libhtevents.so.*.*.*' | head -1)
  [ -n "$library" ] || { echo "FAIL: no libhtevents.so.X.Y (the soname) installed" >&2; exit 1; }
  start_collector
  python3 "$here/ctypes_test.py" "$library" "$endpoint"
  stop_collector 506
else
  echo "(no collector given: C consumers ran against a closed port, ctypes test skipped)"
fi

step "package OK"
