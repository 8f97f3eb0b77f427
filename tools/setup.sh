#!/usr/bin/env bash
# Installs every Debian package the build, tests, tools and benchmarks need. Idempotent: does
# nothing when all are present already.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config clang libclang-rt-14-dev
  libconcurrentqueue-dev libsimdjson-dev libcurl4-openssl-dev libzstd-dev zlib1g-dev
  libmicrohttpd-dev librdkafka-dev libgtest-dev libgmock-dev libbenchmark-dev
  jq valgrind clang-format clang-tidy
  # the clang + libc++ build (docs/platforms.md): libc++, and GoogleTest's sources to build against it
  libc++-dev libc++abi-dev googletest
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "setup: installing ${missing[*]}" >&2
sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
