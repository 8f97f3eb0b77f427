#!/usr/bin/env bash
# The libc++ build links Debian's libsimdjson.so, which is built against libstdc++. That is only
# sound while nothing that crosses the boundary carries a standard-library type: the two
# libraries lay out std::string, std::vector... differently, and name them differently
# (std::__1:: in libc++), so a mismatch links and then corrupts memory. Checked here:
#   1. every simdjson symbol the binaries import names no std:: type;
#   2. no binary exports a simdjson symbol for the .so to bind to instead of its own;
#   3. the sources call none of simdjson's virtuals that return std::string
#      (implementation::name(), description()), which no symbol check can see.
# Usage: simdjson_boundary.sh SOURCE_DIR BINARY...
set -euo pipefail
src=$1
shift
status=0
for bin in "$@"; do
  imported=$(nm -D --undefined-only --demangle "$bin" | grep 'simdjson::' || true)
  echo "$(basename "$bin"): imports from libsimdjson.so:"
  echo "${imported:-  (none)}" | sed 's/^ *U /  /'
  if grep -q 'std::' <<<"$imported"; then
    echo "  FAIL: a standard-library type crosses into libsimdjson.so" >&2
    status=1
  fi
  exported=$(nm -D --defined-only --demangle "$bin" | grep 'simdjson::' || true)
  if [ -n "$exported" ]; then
    echo "  FAIL: exports simdjson symbols that libsimdjson.so could bind to:" >&2
    echo "$exported" >&2
    status=1
  fi
done
if grep -rnE 'get_(active|available)_implementation|available_implementations|->(name|description)\(\)' \
    "$src/src" "$src/tools" "$src/tests" --include='*.cpp' --include='*.hpp' | grep -i simdjson; then
  echo "FAIL: simdjson's implementation objects hold libstdc++ strings; do not read them here" >&2
  status=1
fi
[ "$status" = 0 ] && echo "OK: nothing crosses the libc++/libstdc++ boundary but simdjson's own types and C types"
exit "$status"
