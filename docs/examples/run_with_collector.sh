#!/usr/bin/env bash
# Runs one example against a fresh local collector on 127.0.0.1 and checks, from the collector's
# own counts, that every event the example reports as delivered arrived exactly once.
# Usage: run_with_collector.sh [--expect-failure] COLLECTOR_EXE EXAMPLE_EXE [example args...] [-- collector args...]
# The example gets `--endpoint http://127.0.0.1:PORT` prepended (quickstart, quickstart_c: the URL alone).
# --expect-failure: the collector is set to refuse (collector args); the example must exit
# non-zero and the collector must have accepted nothing.
set -euo pipefail

expect_failure=
if [ "${1:-}" = "--expect-failure" ]; then expect_failure=1; shift; fi
collector=$1
example=$2
shift 2
example_args=()
collector_args=()
while [ $# -gt 0 ]; do
  if [ "$1" = "--" ]; then shift; collector_args=("$@"); break; fi
  example_args+=("$1"); shift
done
set -- "${example_args[@]}"

work=$(mktemp -d)
collector_pid=
cleanup() {
  if [ -n "$collector_pid" ]; then kill "$collector_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# shellcheck source=../../tools/collector/collector.sh
. "$(dirname "$0")/../../tools/collector/collector.sh"
start_collector "${collector_args[@]}"

status=0
case "$(basename "$example")" in quickstart | quickstart_c) url_alone=1 ;; *) url_alone= ;; esac
if [ -n "$url_alone" ]; then
  "$example" "$endpoint" "$@" >"$work/example.out" || status=$?
else
  "$example" --endpoint "$endpoint" "$@" >"$work/example.out" || status=$?
fi
cat "$work/example.out"

# Stop the collector: on SIGTERM it prints its final counts as one JSON line and exits.
kill -TERM "$collector_pid"
wait "$collector_pid"
collector_pid=
cat "$work/collector.json"

if [ -n "$expect_failure" ]; then
  unique=$(grep -oE '"unique_message_ids":[0-9]+' "$work/collector.json" | grep -oE '[0-9]+$')
  if [ "$status" -eq 0 ] || [ "$unique" != 0 ]; then
    echo "FAIL: expected a failure report: exit $status, collector unique=$unique" >&2
    exit 1
  fi
  exit 0
fi
[ "$status" -eq 0 ] || { echo "FAIL: example exited $status" >&2; exit 1; }

delivered=$(grep -oE '"?delivered"?[=:][0-9]+' "$work/example.out" | tail -1 | grep -oE '[0-9]+$')
unique=$(grep -oE '"unique_message_ids":[0-9]+' "$work/collector.json" | grep -oE '[0-9]+$')
duplicates=$(grep -oE '"duplicate_message_ids":[0-9]+' "$work/collector.json" | grep -oE '[0-9]+$')
invalid=$(grep -oE '"invalid_messages":[0-9]+' "$work/collector.json" | grep -oE '[0-9]+$')
if [ -z "$delivered" ] || [ "$delivered" -eq 0 ] || [ "$delivered" != "$unique" ] || [ "$duplicates" != 0 ] ||
   [ "$invalid" != 0 ]; then
  echo "FAIL: example delivered=$delivered, collector unique=$unique duplicates=$duplicates invalid=$invalid" >&2
  exit 1
fi
echo "OK: $delivered events delivered, each once"
