#!/usr/bin/env bash
# Lint: clang-format (.clang-format) and clang-tidy (.clang-tidy) on src/ and include/.
# Exits non-zero on any finding.
#
# Usage: tools/lint.sh [--format-only | --tidy-only] [--fix] [-j N] [FILE...]
#   --format-only  only clang-format --dry-run --Werror
#   --tidy-only    only clang-tidy (compile database configured in build-lint/)
#   --fix          clang-format rewrites the files in place instead of reporting them
#   -j N           clang-tidy jobs (default: nproc)
#   FILE...        limit to these files (default: every .cpp/.hpp under src/ and include/)
# Environment: CLANG_FORMAT, CLANG_TIDY, RUN_CLANG_TIDY to pick the binaries.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

run_format=1
run_tidy=1
fix=0
jobs=$(nproc)
files=()
while [ $# -gt 0 ]; do
  case "$1" in
    --format-only) run_tidy=0 ;;
    --tidy-only) run_format=0 ;;
    --fix) fix=1 ;;
    -j) jobs=$2; shift ;;
    -j*) jobs=${1#-j} ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    -*) echo "lint.sh: unknown option $1" >&2; exit 2 ;;
    *) files+=("$1") ;;
  esac
  shift
done

clang_format=${CLANG_FORMAT:-clang-format}
clang_tidy=${CLANG_TIDY:-clang-tidy}
run_clang_tidy=${RUN_CLANG_TIDY:-run-clang-tidy}

if [ ${#files[@]} -eq 0 ]; then
  mapfile -t files < <(git ls-files -- 'src/*.cpp' 'src/*.hpp' 'include/*.hpp')
fi

status=0
step() { printf '\n== %s\n' "$*"; }

if [ "$run_format" = 1 ]; then
  step "clang-format ($("$clang_format" --version | head -1))"
  if [ "$fix" = 1 ]; then
    "$clang_format" -i --style=file "${files[@]}"
  elif ! "$clang_format" --dry-run --Werror --style=file "${files[@]}"; then
    echo "clang-format: files differ from .clang-format (tools/lint.sh --format-only --fix rewrites them)" >&2
    status=1
  fi
fi

if [ "$run_tidy" = 1 ]; then
  step "clang-tidy ($("$clang_tidy" --version | grep -m1 version))"
  # A compile database of the library alone (configure only; nothing is built but the
  # generated version header).
  cmake -S . -B build-lint -G Ninja -DCMAKE_EXPORT_COMPILE_COMMANDS=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DHTEVENTS_BUILD_TESTS=OFF -DHTEVENTS_BUILD_BENCHMARKS=OFF -DHTEVENTS_BUILD_TOOLS=OFF \
    -DHTEVENTS_BUILD_EXAMPLES=OFF -DHTEVENTS_BUILD_FUZZERS=OFF >/dev/null
  # Translation units: the .cpp files asked for; headers are checked through them
  # (.clang-tidy's HeaderFilterRegex covers src/ and include/).
  sources=()
  for f in "${files[@]}"; do
    case "$f" in *.cpp) sources+=("$root/$f") ;; esac
  done
  if [ ${#files[@]} -gt 0 ] && [ ${#sources[@]} -eq 0 ]; then
    mapfile -t sources < <(git ls-files -- 'src/*.cpp' | sed "s|^|$root/|")
  fi
  log=$(mktemp)
  trap 'rm -f "$log"' EXIT
  if ! "$run_clang_tidy" -clang-tidy-binary "$(command -v "$clang_tidy")" -p build-lint -quiet -j "$jobs" \
      "${sources[@]}" >"$log" 2>&1; then
    status=1
  fi
  # run-clang-tidy's exit code covers errors; findings are errors (WarningsAsErrors: '*'), but
  # count them from the output too, in case a version reports them otherwise.
  if grep -qE '(warning|error): .*\[[a-z-]+[a-z.,-]*\]' "$log"; then
    grep -E '(warning|error): ' "$log" | sed 's/\x1b\[[0-9;]*m//g' | sort -u >&2
    status=1
  fi
  [ "$status" = 0 ] && echo "clang-tidy: no findings in ${#sources[@]} translation units"
fi

exit "$status"
