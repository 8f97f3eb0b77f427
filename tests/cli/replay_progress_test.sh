#!/usr/bin/env bash
# `htevents-cpp replay` keeps reporting after the input is read, until the last delivery: the
# collector answers slowly and refuses the first attempts, so deliveries and retries happen
# after reading ends. Checks the lines' contents (the last one accounts for every event and
# retry), not their timing. Also checks the collector's --dump-requests file: one line per
# attempt, refused ones included, each with its headers and whole decoded body.
# Usage: replay_progress_test.sh CLI COLLECTOR
set -euo pipefail

cli=$1
collector=$2
work=$(mktemp -d)
# shellcheck source=../../tools/collector/collector.sh
. "$(dirname "$0")/../../tools/collector/collector.sh"
trap 'kill_collector; rm -rf "$work"' EXIT

fail() {
  echo "FAIL: $*" >&2
  echo "-- replay stderr:" >&2; cat "$work/replay.log" >&2 || true
  exit 1
}

for i in $(seq 1 10); do
  printf '{"type":"track","userId":"u%s","event":"E","messageId":"m-%s"}\n' "$i" "$i"
done >"$work/events.ndjson"

start_collector --delay-ms 200 --fail-first 3 --dump-requests "$work/requests.ndjson"
status=0
"$cli" replay "$work/events.ndjson" --write-key wk --endpoint "$endpoint" --batch-size 2 --compression none \
  --progress-ms 50 --close-timeout 60 2>"$work/replay.log" || status=$?
stop_collector
[ "$status" -eq 0 ] || fail "replay exited $status"

grep -q '^delivering: ' "$work/replay.log" || fail "no progress line after reading"
last=$(grep '^delivering: ' "$work/replay.log" | tail -1)
[[ "$last" == "delivering: delivered 10 of 10 (100%), failed 0, waiting 0, "*", retries 3, "* ]] ||
  fail "the last progress line does not account for every delivery and retry: $last"
grep -q '^summary: .*delivered 10 ' "$work/replay.log" || fail "no summary"

# 5 batches + 3 refused attempts = 8 requests, each dumped whole.
[ "$(wc -l <"$work/requests.ndjson")" -eq 8 ] || fail "expected 8 dumped requests: $(cat "$work/requests.ndjson")"
jq -e -s '
  (map(.status) | sort) == [200,200,200,200,200,503,503,503] and
  all(.[]; .method == "POST" and (.path | endswith("/v1/batch")) and .encoding == "identity" and
           (.headers.Authorization | startswith("Basic ")) and (.headers["Content-Type"] | startswith("application/json")) and
           (.body.batch | length) == 2 and (.body.sentAt | type) == "string" and (.body.messageId | type) == "string") and
  ([.[] | select(.status == 200) | .body.batch[].messageId] | sort) == ([range(1;11) | "m-\(.)"] | sort)
' "$work/requests.ndjson" >/dev/null || fail "dumped requests are not as expected: $(head -2 "$work/requests.ndjson")"
echo "OK: replay progress until the last delivery; 8 requests dumped"
