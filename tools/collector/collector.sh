# Sourced by the scripts that run a local collector program on a free port (the CLI tests,
# the package test, the examples' driver). Needs $collector (the program) and $work (a scratch
# directory, removed by the caller).
#   start_collector [collector flags...]   sets $endpoint and $collector_pid
#   stop_collector                         its final counts (one JSON object) in $work/collector.json
collector_pid=

start_collector() {
  rm -f "$work/port"
  "$collector" --port 0 --port-file "$work/port" --quiet "$@" >"$work/collector.json" 2>"$work/collector.log" &
  collector_pid=$!
  # The collector writes the port file (atomically, by rename) once it listens.
  for _ in $(seq 1 200); do
    [ -s "$work/port" ] && break
    kill -0 "$collector_pid" 2>/dev/null || { cat "$work/collector.log" >&2; exit 1; }
    sleep 0.05
  done
  [ -s "$work/port" ] || { echo "collector did not start" >&2; exit 1; }
  endpoint="http://127.0.0.1:$(cat "$work/port")"
}

stop_collector() {
  kill -TERM "$collector_pid"
  wait "$collector_pid"
  collector_pid=
}

# For the caller's EXIT trap.
kill_collector() {
  if [ -n "$collector_pid" ]; then kill "$collector_pid" 2>/dev/null || true; fi
}
