#!/usr/bin/env bash
# The main job, from a fresh machine: install packages, build, then send 1,000,000 W1 track
# events from 8 threads to the built-in local collector on 127.0.0.1 and print what was
# delivered, how fast, what was dropped, and the bytes before and after compression.
# Extra arguments go to `htevents-cpp load` (try --help).
set -euo pipefail
cd "$(dirname "$0")/.."

./tools/setup.sh
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)" --target htevents_cli htevents-collector
exec ./build/tools/htevents-cpp load --events 1000000 --threads 8 "$@"
