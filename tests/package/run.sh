#!/usr/bin/env bash
# Packaging test: install htevents into a temporary prefix, then build and run one consumer
# program against the installed package three times: (1) through CMake's find_package and (2)
# through pkg-config with a plain compiler command line, against the static library, and (3)
# through find_package against the shared library. Exits non-zero on the first failure.
# Usage: tests/package/run.sh [SOURCE_DIR]   (default: the repository containing this script)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source_dir=$(cd "${1:-$here/../..}" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/htevents-package.XXXXXX")
trap 'rm -rf "$work"' EXIT
prefix=$work/prefix
jobs=${HTEVENTS_PACKAGE_JOBS:-2}
generator=()
command -v ninja >/dev/null && generator=(-G Ninja)

step() { printf '\n== %s\n' "$*"; }

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

step "shared library: install with BUILD_SHARED_LIBS=ON, consumer through find_package"
shared_prefix=$work/prefix-shared
install_htevents "$work/build-shared" "$shared_prefix" ON
find "$shared_prefix" -name 'libhtevents.so*' | grep -q . || { echo "FAIL: no libhtevents.so installed" >&2; exit 1; }
cmake -S "$here/consumer" -B "$work/consumer-shared" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$shared_prefix"
cmake --build "$work/consumer-shared" --parallel "$jobs"
"$work/consumer-shared/consumer"

step "package OK"
