#!/usr/bin/env bash
# The "Cost when events trickle" table of docs/benchmarks.md (issue 8, edge 10): runs
# `htevents-cpp load --rate R --duration S --json` for 10, 100, 1,000 and 10,000 events/s and idle,
# REPS times each, and prints a markdown table of the medians (by client CPU) to stdout.
#
#   tools/paced.sh                      # 10 s per row, 1 repetition: ~55 s
#   REPS=3 DURATION=10 tools/paced.sh   # the docs table: ~2.7 min
#   HTEVENTS=build/tools/htevents-cpp JSON_OUT=paced.jsonl tools/paced.sh   # another build, keep the runs
#
# Exits 1 when a run was not verified (an event not delivered exactly once); targets missed are
# reported in the table, not in the exit code: this is a measurement, not a test.
set -euo pipefail
cd "$(dirname "$0")/.."

reps=${REPS:-1}
duration=${DURATION:-10}
read -r -a rates <<<"${RATES:-10 100 1000 10000 0}"
bin=${HTEVENTS:-}
if [ -z "$bin" ]; then
  for candidate in build-rel/tools/htevents-cpp build/tools/htevents-cpp; do  # the Release build first
    [ -x "$candidate" ] && bin=$candidate && break
  done
fi
if [ -z "$bin" ] || [ ! -x "$bin" ]; then
  echo "paced.sh: no htevents-cpp binary (build htevents_cli, or set HTEVENTS)" >&2
  exit 2
fi
command -v jq >/dev/null || { echo "paced.sh: needs jq" >&2; exit 2; }

out=${JSON_OUT:-$(mktemp)}
: >"$out"
status=0
for rate in "${rates[@]}"; do
  for ((r = 0; r < reps; r++)); do
    "$bin" load --rate "$rate" --duration "$duration" --json >>"$out" || status=1
  done
done

echo "Paced W1 runs: $duration s each, $reps run(s) per row (median by client CPU), commit $(git rev-parse --short HEAD 2>/dev/null || echo '?'), $(nproc) CPUs, $bin"
echo
echo "| rate (events/s) | client CPU, % of a core | serializer | sender | enqueue | enqueue ns/call | serializer wake-ups/s | sender wake-ups/s | target | Go SDK (issue 8) | verdict |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"
jq -rs '
  def f: . * 1000 | round / 1000 | tostring;
  group_by(.rate) | sort_by(if .[0].rate == 0 then 1e18 else .[0].rate end)[] |
  (sort_by(.client_cpu_percent)) as $runs | $runs[(($runs | length) - 1) / 2 | floor] as $m |
  [ (if $m.rate == 0 then "idle" else ($m.rate | tostring) end),
    "**\($m.client_cpu_percent | f)%**" + (if ($runs | length) > 1 then " (\($runs | map(.client_cpu_percent | f) | join(", ")))" else "" end),
    "\($m.cpu_percent.serializer | f)%", "\($m.cpu_percent.sender | f)%", "\($m.cpu_percent.enqueue | f)%",
    (if $m.rate == 0 then "-" else ($m.enqueue_ns_per_call | tostring) end),
    ($m.wakeups_per_second.serializer | tostring), ($m.wakeups_per_second.sender | tostring),
    (if $m.target_percent == null then "-" else "<= \($m.target_percent)%" end),
    (if $m.rate == 10 then "\($m.go_sdk_percent_at_10)%" else "-" end),
    $m.verdict + (if ($runs | all(.verified)) then "" else ", NOT VERIFIED" end)
  ] | "| " + join(" | ") + " |"' "$out"
[ -n "${JSON_OUT:-}" ] || rm -f "$out"
exit $status
