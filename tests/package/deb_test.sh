#!/usr/bin/env bash
# Debian package test: builds the .deb with CPack (library, headers, CMake config, pkg-config
# file, the htevents-cpp CLI; version from project()), checks its contents, installs it with
# dpkg -i on this machine, builds and runs the consumer project against it through
# find_package and through pkg-config (no prefix given: from /usr, as a user would), runs the
# installed CLI, then removes the package, leaving the machine as it was found.
# Before installing it refuses (fails) when the package is already installed or when any of
# its files exists on the machine or belongs to another package: dpkg -i must not conflict.
# Needs root (dpkg -i); exits 77 (ctest: skipped) otherwise.
# Usage: tests/package/deb_test.sh [SOURCE_DIR]
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source_dir=$(cd "${1:-$here/../..}" && pwd)
package=htevents-cpp
jobs=${HTEVENTS_PACKAGE_JOBS:-2}
generator=()
command -v ninja >/dev/null && generator=(-G Ninja)

if [ "$(id -u)" -ne 0 ] || ! command -v dpkg >/dev/null; then
  echo "SKIP: needs root and dpkg (dpkg -i)"
  exit 77
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/htevents-deb.XXXXXX")
installed_by_us=
cleanup() {
  if [ -n "$installed_by_us" ]; then
    echo "== removing $package"
    dpkg --purge "$package" >/dev/null || echo "WARNING: dpkg --purge $package failed" >&2
  fi
  rm -rf "$work"
}
trap cleanup EXIT
step() { printf '\n== %s\n' "$*"; }

# The version CPack must use: project(htevents VERSION x.y.z ...).
version=$(sed -n 's/^project(htevents VERSION \([0-9.]*\).*/\1/p' "$source_dir/CMakeLists.txt")
[ -n "$version" ] || { echo "FAIL: no project() version in CMakeLists.txt" >&2; exit 1; }

step "configure and build for /usr (no tests, benchmarks or examples), cpack -G DEB"
cmake -S "$source_dir" -B "$work/build" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=/usr \
  -DHTEVENTS_BUILD_TESTS=OFF -DHTEVENTS_BUILD_BENCHMARKS=OFF -DHTEVENTS_BUILD_EXAMPLES=OFF \
  -DHTEVENTS_BUILD_FUZZERS=OFF -DHTEVENTS_BUILD_TOOLS=ON >"$work/configure.log" ||
  { cat "$work/configure.log"; exit 1; }
cmake --build "$work/build" --parallel "$jobs"
(cd "$work/build" && cpack -G DEB -B "$work/deb" >"$work/cpack.log") || { cat "$work/cpack.log"; exit 1; }
deb=$(find "$work/deb" -maxdepth 1 -name "${package}_*.deb" | head -1)
[ -n "$deb" ] || { echo "FAIL: cpack made no ${package}_*.deb" >&2; cat "$work/cpack.log"; exit 1; }
echo "built $(basename "$deb")"

step "package fields and contents"
dpkg-deb -f "$deb" Package Version Architecture Depends
[ "$(dpkg-deb -f "$deb" Version)" = "$version" ] || { echo "FAIL: Version is not $version" >&2; exit 1; }
dpkg-deb -c "$deb" | sed -E 's/ -> .*//' | awk '{print $6}' | sed 's|^\./|/|' >"$work/contents"
for wanted in /usr/bin/htevents-cpp /usr/include/htevents/htevents.hpp '/usr/lib/.*/libhtevents\.a' \
              '/usr/lib/.*/cmake/htevents/htevents-config\.cmake' '/usr/lib/.*/cmake/htevents/htevents-targets\.cmake' \
              '/usr/lib/.*/pkgconfig/htevents\.pc'; do
  grep -qx "$wanted" "$work/contents" || { echo "FAIL: the package lacks $wanted" >&2; cat "$work/contents"; exit 1; }
done
if grep -qx '/usr/bin/htevents' "$work/contents"; then
  echo "FAIL: the package installs /usr/bin/htevents (Hightouch's events-cli owns that name)" >&2
  exit 1
fi

step "no conflict with this machine"
# One machine may run several test suites at once: hold a lock from the check to the removal.
exec 9>/var/lock/htevents-deb-test.lock
flock -w 900 9 || { echo "FAIL: another deb test holds /var/lock/htevents-deb-test.lock" >&2; exit 1; }
if dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'installed'; then
  echo "FAIL: $package is installed already; this test would replace and then remove it" >&2
  exit 1
fi
conflicts=0
while read -r path; do
  case "$path" in */) continue ;; esac  # directories are shared by design
  if [ -e "$path" ] || [ -L "$path" ]; then
    echo "conflict: $path exists ($(dpkg -S "$path" 2>/dev/null || echo 'no package owns it'))" >&2
    conflicts=1
  fi
done <"$work/contents"
[ "$conflicts" -eq 0 ] || { echo "FAIL: dpkg -i would overwrite files on this machine" >&2; exit 1; }
echo "none of the package's $(grep -vc '/$' "$work/contents") files exists here"

step "dpkg -i"
installed_by_us=1
dpkg -i "$deb"

step "consumer through CMake: find_package(htevents CONFIG REQUIRED) from /usr"
cmake -S "$here/consumer" -B "$work/consumer-cmake" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release >"$work/consumer.log" ||
  { cat "$work/consumer.log"; exit 1; }
cmake --build "$work/consumer-cmake" --parallel "$jobs"
grep -q "htevents_DIR:PATH=/usr/lib/" "$work/consumer-cmake/CMakeCache.txt" ||
  { echo "FAIL: the consumer did not find the installed package" >&2; grep htevents_DIR "$work/consumer-cmake/CMakeCache.txt" >&2; exit 1; }
"$work/consumer-cmake/consumer"

step "consumer through pkg-config, no PKG_CONFIG_PATH"
flags=$(pkg-config --cflags --libs htevents)
echo "pkg-config: $flags"
# shellcheck disable=SC2086  # the flags are meant to be split
${CXX:-g++} -std=c++20 -Wall -Wextra -Werror -DEXPECTED_VERSION="\"$version\"" "$here/consumer/main.cpp" \
  -o "$work/consumer-pkgconfig" $flags
"$work/consumer-pkgconfig"

step "the installed CLI"
[ "$(command -v htevents-cpp)" = /usr/bin/htevents-cpp ] || { echo "FAIL: htevents-cpp is not on PATH" >&2; exit 1; }
htevents-cpp --version | grep -qx "htevents-cpp $version" || { echo "FAIL: htevents-cpp --version" >&2; exit 1; }
htevents-cpp e2e --help >/dev/null

step "dpkg --purge: the machine as it was"
installed_by_us=
dpkg --purge "$package"
while read -r path; do
  case "$path" in */) continue ;; esac
  if [ -e "$path" ]; then echo "FAIL: $path is still there after removal" >&2; exit 1; fi
done <"$work/contents"
if dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'installed'; then
  echo "FAIL: $package still installed" >&2
  exit 1
fi
step "deb OK: $(basename "$deb") installed, used and removed"
