#!/usr/bin/env bash
# `htevents-cpp e2e` as Segment's e2e suites drive it: one case per run, against a fresh local
# collector (with the case's fault), checking the printed result, the exit status and the
# collector's own counts. Counts only, never timing.
# Usage: e2e_test.sh CLI COLLECTOR CASE
#   CASE: basic | types | retry | retry_after | outage | exhausted | bad_event | bad_input | usage
set -euo pipefail

cli=$1
collector=$2
case_name=$3
work=$(mktemp -d)
# shellcheck source=../../tools/collector/collector.sh
. "$(dirname "$0")/../../tools/collector/collector.sh"
trap 'kill_collector; rm -rf "$work"' EXIT

fail() {
  echo "FAIL ($case_name): $*" >&2
  echo "-- e2e stdout:" >&2; cat "$work/out.json" >&2 2>/dev/null || true
  echo "-- e2e stderr (last 30 lines):" >&2; tail -30 "$work/e2e.log" >&2 2>/dev/null || true
  exit 1
}

# run_e2e INPUT_JSON: sets $status; stdout in $work/out.json, stderr in $work/e2e.log.
run_e2e() {
  status=0
  "$cli" e2e --input "$1" >"$work/out.json" 2>"$work/e2e.log" || status=$?
}

# expect LABEL JQ_FILTER FILE: the filter must print true for FILE.
expect() {
  [ "$(jq -c "$2" "$3" 2>/dev/null)" = true ] || fail "$1: $2 is not true of $(cat "$3")"
}

track() {  # track N: a track event with messageId m-N
  printf '{"type":"track","userId":"user-%s","event":"Order completed","messageId":"m-%s","properties":{"n":%s}}' \
    "$1" "$1" "$1"
}

expect_success() {  # expect_success SENT_BATCHES
  [ "$status" -eq 0 ] || fail "exit status $status, expected 0"
  expect "result" ".success == true and .sentBatches == $1 and (has(\"error\") | not)" "$work/out.json"
  [ "$(wc -l <"$work/out.json")" -eq 1 ] || fail "stdout holds more than one line"
}

expect_failure() {  # expect_failure ERROR_REGEX SENT_BATCHES
  [ "$status" -eq 1 ] || fail "exit status $status, expected 1"
  expect "result" ".success == false and .sentBatches == $2 and (.error | test(\"$1\"))" "$work/out.json"
}

case "$case_name" in
  basic)
    # Two sequences, flushAt 2: batches of 2, 2 and the last 1 at close (the interval is long).
    # apiHost with /v1, as Kotlin and Swift suites pass it.
    start_collector
    run_e2e "{\"writeKey\":\"wk\",\"apiHost\":\"$endpoint/v1\",\"sequences\":[
      {\"delayMs\":0,\"events\":[$(track 1),$(track 2),$(track 3)]},
      {\"delayMs\":50,\"events\":[$(track 4),$(track 5)]}],
      \"config\":{\"flushAt\":2,\"flushInterval\":10000,\"maxRetries\":3,\"timeout\":10}}"
    stop_collector
    expect_success 3
    expect "collector" '.accepted_batches == 3 and .unique_message_ids == 5 and .duplicate_message_ids == 0 and .invalid_messages == 0' "$work/collector.json"
    ;;
  types)
    # Every message type, with the fields each takes, in one batch.
    start_collector
    run_e2e "{\"writeKey\":\"wk\",\"apiHost\":\"$endpoint\",\"sequences\":[{\"delayMs\":0,\"events\":[
      {\"type\":\"identify\",\"userId\":\"u\",\"traits\":{\"plan\":\"pro\"},\"timestamp\":\"2026-11-26T10:00:00Z\"},
      {\"type\":\"track\",\"anonymousId\":\"a\",\"event\":\"E\",\"properties\":{\"x\":[1,{\"y\":null}]},\"context\":{\"ip\":\"1.2.3.4\"}},
      {\"type\":\"page\",\"userId\":\"u\",\"name\":\"Home\",\"integrations\":{\"All\":false}},
      {\"type\":\"screen\",\"userId\":\"u\",\"name\":\"Settings\"},
      {\"type\":\"group\",\"userId\":\"u\",\"groupId\":\"g\",\"traits\":{\"seats\":5}},
      {\"type\":\"alias\",\"userId\":\"u\",\"previousId\":\"old\"}]}],
      \"config\":{\"flushAt\":20,\"flushInterval\":10000}}"
    stop_collector
    expect_success 1
    expect "collector" '.unique_message_ids == 6 and (.by_type | [.identify,.track,.page,.screen,.group,.alias] == [1,1,1,1,1,1])' "$work/collector.json"
    ;;
  retry)
    # The first two attempts get 503: the batch is delivered on the third, counted once.
    start_collector --fail-first 2
    run_e2e "{\"writeKey\":\"wk\",\"apiHost\":\"$endpoint\",\"sequences\":[{\"delayMs\":0,\"events\":[$(track 1),$(track 2),$(track 3)]}],
      \"config\":{\"flushAt\":10,\"flushInterval\":10000,\"maxRetries\":3,\"timeout\":5}}"
    stop_collector
    expect_success 1
    expect "collector" '.requests == 3 and .failed_first == 2 and .accepted_batches == 1 and .unique_message_ids == 3' "$work/collector.json"
    ;;
  retry_after)
    # 429 with Retry-After: 1 twice; a Retry-After wait is not a try, so maxRetries 0 suffices.
    start_collector --fail-first 2 --fail-first-status 429 --fail-first-retry-after 1
    run_e2e "{\"writeKey\":\"wk\",\"apiHost\":\"$endpoint\",\"sequences\":[{\"delayMs\":0,\"events\":[$(track 1),$(track 2)]}],
      \"config\":{\"flushAt\":10,\"flushInterval\":10000,\"maxRetries\":0,\"timeout\":5}}"
    stop_collector
    expect_success 1
    expect "collector" '.requests == 3 and .failed_first == 2 and .unique_message_ids == 2' "$work/collector.json"
    ;;
  outage)
    # Every request refused for 300 ms: the retries outlast it and both batches arrive once.
    start_collector --outage-ms 300
    run_e2e "{\"writeKey\":\"wk\",\"apiHost\":\"$endpoint\",\"sequences\":[{\"delayMs\":0,\"events\":[$(track 1),$(track 2),$(track 3),$(track 4)]}],
      \"config\":{\"flushAt\":2,\"flushInterval\":10000,\"maxRetries\":10,\"timeout\":5}}"
    stop_collector
    expect_success 2
    expect "collector" '.accepted_batches == 2 and .unique_message_ids == 4 and .outage_refusals >= 2' "$work/collector.json"
    ;;
  exhausted)
    # Every attempt gets 500: maxRetries 2 means 3 attempts, then the events are failed.
    start_collector --fixed-status 500
    run_e2e "{\"writeKey\":\"wk\",\"apiHost\":\"$endpoint\",\"sequences\":[{\"delayMs\":0,\"events\":[$(track 1),$(track 2)]}],
      \"config\":{\"flushAt\":10,\"flushInterval\":10000,\"maxRetries\":2,\"timeout\":5}}"
    stop_collector
    expect_failure "retries" 0
    expect "collector" '.requests == 3 and .unique_message_ids == 0' "$work/collector.json"
    ;;
  bad_event)
    # A track without an event name is named in the error; the events around it still go out.
    start_collector
    run_e2e "{\"writeKey\":\"wk\",\"apiHost\":\"$endpoint\",\"sequences\":[{\"delayMs\":0,\"events\":[
      $(track 1),{\"type\":\"track\",\"userId\":\"u\"},$(track 3)]}],\"config\":{\"flushAt\":10,\"flushInterval\":10000}}"
    stop_collector
    expect_failure "sequences\\\\[0\\\\]\\\\.events\\\\[1\\\\]" 1
    expect "collector" '.unique_message_ids == 2' "$work/collector.json"
    ;;
  bad_input)
    for input in 'not json' '[]' '{"sequences":[]}' '{"writeKey":"wk"}' '{"writeKey":"wk","sequences":[{"events":{}}]}' \
                 '{"writeKey":"wk","sequences":[],"config":{"flushAt":-1}}' '{"writeKey":"wk","apiHost":"ftp://x","sequences":[]}'; do
      run_e2e "$input"
      expect_failure "." 0
    done
    # No events at all is a success with no batches.
    run_e2e '{"writeKey":"wk","apiHost":"http://127.0.0.1:9","sequences":[]}'
    expect_success 0
    ;;
  usage)
    status=0
    "$cli" e2e >"$work/out.json" 2>"$work/e2e.log" || status=$?
    expect_failure "--input" 0
    status=0
    "$cli" e2e --input '{}' --unknown >"$work/out.json" 2>"$work/e2e.log" || status=$?
    expect_failure "unknown option" 0
    "$cli" e2e --help | grep -q 'sentBatches' || fail "--help does not describe the output"
    ;;
  *)
    echo "unknown case '$case_name'" >&2
    exit 2
    ;;
esac
echo "OK: e2e $case_name"
