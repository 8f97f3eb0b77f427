#!/usr/bin/env bash
# Cross-builds htevents for another CPU and runs its unit and integration tests there under
# qemu-user, from a fresh Debian 12 machine: it installs what it needs itself (as root, or
# through sudo), configures build-<arch>/ with tools/cmake/<triplet>.cmake, builds only the two
# test executables and ends with ctest's summary.
#
#   ./tools/cross-test.sh aarch64
#
# Environment:
#   HTEVENTS_CROSS_JOBS     build and ctest parallelism (default 2: CI has 2 cores)
#   HTEVENTS_CROSS_LABELS   ctest label regex (default 'unit|integration'; stress is not run:
#                           thousands of emulated threads only measure qemu)
#   HTEVENTS_CROSS_TIMEOUT  seconds per test (default 300; under qemu a test takes ~10x as long
#                           as natively, and the slowest integration tests take ~10 s there)
#   HTEVENTS_CROSS_REPEAT   runs a failing test gets (default 2, see the ctest call below)
#   HTEVENTS_CROSS_CTEST_ARGS  extra ctest arguments, e.g. '-R integration.Spool' locally
set -euo pipefail
cd "$(dirname "$0")/.."

arch=${1:-}
case "$arch" in
  aarch64)
    deb_arch=arm64
    triplet=aarch64-linux-gnu
    ;;
  *)
    echo "usage: $0 aarch64" >&2
    exit 2
    ;;
esac

jobs=${HTEVENTS_CROSS_JOBS:-2}
labels=${HTEVENTS_CROSS_LABELS:-unit|integration}
timeout=${HTEVENTS_CROSS_TIMEOUT:-300}
build_dir=build-$arch
toolchain=tools/cmake/$triplet.cmake

step() { printf '\n==== cross %s: %s ====\n' "$arch" "$*"; }
started=$SECONDS

# --- packages -------------------------------------------------------------------------------
# The host side: the cross compiler and qemu-user (qemu-aarch64 run directly by ctest through
# CMAKE_CROSSCOMPILING_EMULATOR, so no binfmt registration and not the 60 MB qemu-user-static).
# libconcurrentqueue-dev is header-only and Architecture: all, so the host's copy serves both.
host_packages=(cmake ninja-build pkg-config "g++-$triplet" qemu-user libconcurrentqueue-dev)
# The target side, through multiarch: each is Multi-Arch: same, so it installs beside the host's
# own -dev package. apt upgrades the host's copy too when the archive has a newer version (the
# two must match); it removes nothing.
target_packages=(libcurl4-openssl-dev libzstd-dev zlib1g-dev libmicrohttpd-dev libgtest-dev libgmock-dev)
# libsimdjson-dev is the exception: not Multi-Arch, so its :arm64 build would replace the
# host's and break the native build. Its arm64 .debs are unpacked into the build folder instead
# (below), and CMake finds simdjson there.
simdjson_debs=(libsimdjson-dev libsimdjson14)

missing=()
for p in "${host_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
for p in "${target_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p:$deb_arch" 2>/dev/null | grep -q "install ok installed" ||
    missing+=("$p:$deb_arch")
done

sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
export DEBIAN_FRONTEND=noninteractive
lists_fresh=0
if [ ${#missing[@]} -gt 0 ]; then
  step "installing ${missing[*]}"
  if ! dpkg --print-foreign-architectures | grep -qx "$deb_arch"; then
    "${sudo_cmd[@]}" dpkg --add-architecture "$deb_arch"
  fi
  "${sudo_cmd[@]}" apt-get update -qq
  lists_fresh=1
  # force-unsafe-io: no fsync per unpacked file; a crash mid-install on a CI machine is
  # recovered by running this again, and it saves a good part of the unpacking time.
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends \
    -o Dpkg::Options::=--force-unsafe-io "${missing[@]}" >/dev/null
fi

# simdjson for the target, unpacked (not installed) into $build_dir/$deb_arch-root/usr; its
# CMake package is relocatable, so CMAKE_PREFIX_PATH is all CMake needs. The .debs are kept,
# and unpacked again only when the archive has another version.
deps_dir=$build_dir/$deb_arch-root
mkdir -p "$deps_dir/debs"
for p in "${simdjson_debs[@]}"; do
  version=$(apt-cache policy "$p:$deb_arch" 2>/dev/null | sed -n 's/^ *Candidate: //p')
  if [ -z "$version" ] || [ "$version" = "(none)" ]; then
    # Package lists without the arm64 architecture (it was added but never updated).
    [ "$lists_fresh" -eq 1 ] || { "${sudo_cmd[@]}" apt-get update -qq; lists_fresh=1; }
    version=$(apt-cache policy "$p:$deb_arch" | sed -n 's/^ *Candidate: //p')
  fi
  deb="$deps_dir/debs/${p}_${version//:/%3a}_$deb_arch.deb"
  if [ ! -f "$deb" ]; then
    rm -f "$deps_dir/debs/${p}_"*.deb
    # apt-get download writes into the current directory; as root it warns that the _apt user
    # cannot write there, which is harmless.
    (
      cd "$deps_dir/debs"
      apt-get download -qq "$p:$deb_arch=$version" 2>&1 | { grep -v "unsandboxed" || true; }
    )
    [ -f "$deb" ] || { echo "cross: could not download $p:$deb_arch $version" >&2; exit 1; }
    rm -f "$deps_dir/unpacked"
  fi
done
if [ ! -f "$deps_dir/unpacked" ]; then
  rm -rf "${deps_dir:?}/usr"
  for deb in "$deps_dir"/debs/*.deb; do dpkg-deb -x "$deb" "$deps_dir"; done
  touch "$deps_dir/unpacked"
fi
step "packages ready ($((SECONDS - started)) s)"

# --- build ----------------------------------------------------------------------------------
# Only what runs: the unit and integration test executables (and the in-tree libraries they
# link: the collector, replay, W1). -O2 -DNDEBUG, as the release preset ships, but without its
# -g: debug info for arm64 objects only makes the compiles and links slower, and nothing reads
# it here. The CLI, benchmarks, examples and fuzzers are off.
step "configure ($build_dir)"
cmake -S . -B "$build_dir" -G Ninja --toolchain "$toolchain" \
  -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS_RELEASE="-O2 -DNDEBUG" \
  -DCMAKE_PREFIX_PATH="$PWD/$deps_dir/usr" \
  -DHTEVENTS_BUILD_TESTS=ON -DHTEVENTS_BUILD_TOOLS=OFF -DHTEVENTS_BUILD_BENCHMARKS=OFF \
  -DHTEVENTS_BUILD_EXAMPLES=OFF -DHTEVENTS_BUILD_FUZZERS=OFF >/dev/null

step "build"
cmake --build "$build_dir" -j "$jobs" --target htevents_unit_tests htevents_integration_tests
# The binaries are arm64 (a wrong toolchain would still build and "pass" natively).
for exe in "$build_dir"/tests/htevents_unit_tests "$build_dir"/tests/htevents_integration_tests; do
  "$triplet-readelf" -h "$exe" | grep -q "Machine: *AArch64" || { echo "cross: $exe is not for $arch" >&2; exit 1; }
done
step "build done ($((SECONDS - started)) s)"

# --- tests ----------------------------------------------------------------------------------
step "tests under qemu ($labels, ${timeout}s per test)"
# --repeat until-pass:2: under emulation everything runs ~10x slower, and a few integration tests
# count requests that assume batches fill before flush_interval cuts them, or that a TLS
# handshake beats the collector's reset; on a loaded machine one of them fails now and then
# (seen: Responses.BadRequestIsolates..., Responses.HttpsToAPlainHttpServer...). A second run
# must pass; the first failure's output stays in the log. HTEVENTS_CROSS_REPEAT=1: no rerun.
# shellcheck disable=SC2086 # HTEVENTS_CROSS_CTEST_ARGS is a list of arguments
ctest --test-dir "$build_dir" -L "$labels" -j "$jobs" --timeout "$timeout" --output-on-failure \
  --repeat "until-pass:${HTEVENTS_CROSS_REPEAT:-2}" ${HTEVENTS_CROSS_CTEST_ARGS:-}
step "passed ($((SECONDS - started)) s in all)"
