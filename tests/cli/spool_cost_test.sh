#!/usr/bin/env bash
# tools/spool_cost.sh, the side-by-side measurement of the spool's cost, still runs: one pair of
# small runs (memory only, then with a spool) through `htevents-cpp load`, each verified by the
# collector's count. Checks the report's shape and that every run was verified, not its
# figures (timing belongs in benchmarks). Also checks load's accept rate, what the spill rate
# of docs/benchmarks.md is read from.
# Usage: spool_cost_test.sh CLI
set -euo pipefail

cli=$1
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

"$root/tools/spool_cost.sh" --bin "$cli" --pairs 1 --events 20000 --threads 2 --json >"$work/cost.json" ||
  fail "spool_cost.sh exited $?"
jq -e '.verified == true and .pairs == 1 and .memory.cpu_seconds_per_million > 0 and
       .spool.cpu_seconds_per_million > 0 and .cpu_ratio > 0 and .spool.p50_ns > 0' "$work/cost.json" >/dev/null ||
  fail "unexpected report: $(cat "$work/cost.json")"

"$cli" load --events 20000 --threads 2 --json >"$work/load.json" || fail "load exited $?"
jq -e '.enqueued == 20000 and .enqueue_seconds > 0 and .enqueue_seconds <= .seconds and
       .accepted_per_second > 0' "$work/load.json" >/dev/null || fail "unexpected load report: $(cat "$work/load.json")"

status=0
"$root/tools/spool_cost.sh" --bin "$cli" --pairs 0 >/dev/null 2>"$work/usage.err" || status=$?
[ "$status" -eq 2 ] || fail "--pairs 0 exited $status, not 2"
grep -q "not a positive integer" "$work/usage.err" || fail "--pairs 0 said: $(cat "$work/usage.err")"
echo "OK"
