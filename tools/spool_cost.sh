#!/usr/bin/env bash
# The spool's cost, side by side in one run (issue 10, docs/benchmarks.md): runs the W1
# workload (`htevents-cpp load`) alternately without and with --spool, against a healthy local
# collector, and prints each run and the medians: client CPU per million events, enqueue p50,
# wire bytes, throughput, and the ratios spool/memory. Alternating pairs is what makes the
# ratio mean something on a shared, noisy machine: the same build measures up to 2x apart from
# hour to hour, but two runs a second apart see about the same machine.
#
#   tools/spool_cost.sh                     # 7 pairs of 1,000,000 events from 8 threads
#   tools/spool_cost.sh --pairs 11 --threads 2
#
# Options (also --name=value):
#   --pairs N       pairs of runs (default 7; odd, so the median is a run)
#   --events N      events per run (default 1000000)
#   --threads T     producer threads (default 8)
#   --api A         fast | struct (default fast)
#   --spool-dir D   where the spool goes (default: a fresh temporary directory per run, removed
#                   after it; its arena goes to /dev/shm, Config::spool_memory_dir's default)
#   --bin PATH      the htevents-cpp binary (default $HTEVENTS, else build-rel/ or build/)
#   --json          the medians and ratios as one JSON object on stdout
#   --help          this text
#
# Exit code: 0 when every run was verified (every event delivered exactly once), 1 otherwise,
# 2 on usage errors.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; }
die() { echo "spool_cost.sh: $*" >&2; exit 1; }
usage_error() { echo "spool_cost.sh: $*" >&2; echo "(try tools/spool_cost.sh --help)" >&2; exit 2; }

pairs=7
events=1000000
threads=8
api=fast
spool_dir=
json=0
bin=${HTEVENTS:-}
while [ $# -gt 0 ]; do
  arg=$1
  case $arg in
    --*=*) name=${arg%%=*}; value=${arg#*=}; shift ;;
    --json | --help) name=$arg; value=; shift ;;
    --*) name=$arg; [ $# -ge 2 ] || usage_error "$arg needs a value"; value=$2; shift 2 ;;
    *) usage_error "unknown argument: $arg" ;;
  esac
  case $name in
    --pairs) pairs=$value ;;
    --events) events=$value ;;
    --threads) threads=$value ;;
    --api) api=$value ;;
    --spool-dir) spool_dir=$value ;;
    --bin) bin=$value ;;
    --json) json=1 ;;
    --help) usage; exit 0 ;;
    *) usage_error "unknown option: $name" ;;
  esac
done
for n in "$pairs" "$events" "$threads"; do
  [[ $n =~ ^[1-9][0-9]*$ ]] || usage_error "not a positive integer: $n"
done
case $api in fast | struct) ;; *) usage_error "--api is fast or struct, not $api" ;; esac
if [ -z "$bin" ]; then
  for candidate in build-rel/tools/htevents-cpp build/tools/htevents-cpp; do
    if [ -x "$candidate" ]; then bin=$candidate; break; fi
  done
fi
{ [ -n "$bin" ] && [ -x "$bin" ]; } || die "no htevents-cpp binary (build first, or pass --bin)"
command -v jq >/dev/null || die "needs jq (tools/setup.sh installs it)"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fields='[.client_cpu_seconds_per_million, .enqueue_latency_ns.p50, .wire_bytes_per_event, .events_per_second, .verified] | @tsv'

# run MODE I: one load run, its figures appended to $work/MODE.tsv.
run() {
  local mode=$1 i=$2 dir extra=()
  if [ "$mode" = spool ]; then
    dir=${spool_dir:-$work/spool-$i}
    extra=(--spool "$dir")
  fi
  local out status=0
  out=$("$bin" load --events "$events" --threads "$threads" --api "$api" --json "${extra[@]}" 2>"$work/stderr") ||
    status=$?
  if [ "$status" -ne 0 ]; then
    # load exits 1 when a run is not verified; its JSON says why (not_ok, failed, the counts).
    cat "$work/stderr" >&2
    jq -c '{verified, enqueued, delivered, collector_unique, not_ok, failed, rejected}' <<<"$out" >&2 2>/dev/null || true
    die "$mode run $i failed (load exited $status)"
  fi
  jq -r "$fields" <<<"$out" >>"$work/$mode.tsv"
  [ "$mode" = spool ] && [ -z "$spool_dir" ] && rm -rf "$dir"
  local line
  line=$(tail -n 1 "$work/$mode.tsv")
  [ "$json" -eq 1 ] || awk -F'\t' -v mode="$mode" -v i="$i" \
    '{ printf "%-6s %2d  cpu %.3f s/M  p50 %d ns  %.2f B/ev  %.0f ev/s  verified %s\n", mode, i, $1, $2, $3, $4, $5 }' <<<"$line"
}

[ "$json" -eq 1 ] || echo "spool_cost.sh: $pairs pairs, $events W1 events from $threads threads, $api API, $bin"
for i in $(seq 1 "$pairs"); do
  # Which mode goes first alternates too: a machine getting busier favours neither.
  if [ $((i % 2)) -eq 1 ]; then run memory "$i"; run spool "$i"; else run spool "$i"; run memory "$i"; fi
done

# median COLUMN FILE
median() { cut -f "$1" "$2" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
verified=1
grep -qv 'true$' "$work/memory.tsv" "$work/spool.tsv" && verified=0
m_cpu=$(median 1 "$work/memory.tsv") s_cpu=$(median 1 "$work/spool.tsv")
m_p50=$(median 2 "$work/memory.tsv") s_p50=$(median 2 "$work/spool.tsv")
m_wire=$(median 3 "$work/memory.tsv") s_wire=$(median 3 "$work/spool.tsv")
m_rate=$(median 4 "$work/memory.tsv") s_rate=$(median 4 "$work/spool.tsv")
if [ "$json" -eq 1 ]; then
  jq -n --argjson pairs "$pairs" --argjson events "$events" --argjson threads "$threads" --arg api "$api" \
    --argjson mc "$m_cpu" --argjson sc "$s_cpu" --argjson mp "$m_p50" --argjson sp "$s_p50" \
    --argjson mw "$m_wire" --argjson sw "$s_wire" --argjson mr "$m_rate" --argjson sr "$s_rate" \
    --argjson verified "$([ $verified -eq 1 ] && echo true || echo false)" \
    '{pairs: $pairs, events: $events, threads: $threads, api: $api, verified: $verified,
      memory: {cpu_seconds_per_million: $mc, p50_ns: $mp, wire_bytes_per_event: $mw, events_per_second: $mr},
      spool: {cpu_seconds_per_million: $sc, p50_ns: $sp, wire_bytes_per_event: $sw, events_per_second: $sr},
      cpu_ratio: ($sc / $mc), p50_ratio: ($sp / $mp)}'
else
  awk -v mc="$m_cpu" -v sc="$s_cpu" -v mp="$m_p50" -v sp="$s_p50" -v mw="$m_wire" -v sw="$s_wire" \
    -v mr="$m_rate" -v sr="$s_rate" 'BEGIN {
      printf "median  memory: cpu %.3f s/M  p50 %d ns  %.2f B/ev  %.0f ev/s\n", mc, mp, mw, mr
      printf "median  spool:  cpu %.3f s/M  p50 %d ns  %.2f B/ev  %.0f ev/s\n", sc, sp, sw, sr
      printf "spool/memory: cpu %.3fx  p50 %.3fx\n", sc / mc, sp / mp }'
fi
[ "$verified" -eq 1 ] || die "a run was not verified (see the rows above)"
