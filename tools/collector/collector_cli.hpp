// The collector as a command-line program: the flags, the port file, the live counts line and
// the signal loop, shared by the htevents-cpp-collector program and `htevents-cpp collector`.
#pragma once

#include <string_view>

namespace htevents::collector {

/// Runs a Collector configured from argv[1..] until SIGINT/SIGTERM, printing a line of counts
/// every second to stderr and the final Stats as JSON to stdout. `program_name` (e.g.
/// "htevents-cpp-collector" or "htevents-cpp collector") prefixes messages and the usage text.
/// Returns the process exit code: 0, 1 on a runtime error, 2 on a bad command line.
/// Blocks SIGINT and SIGTERM in the calling thread (call it before starting other threads).
int run_collector_cli(int argc, char** argv, std::string_view program_name);

}  // namespace htevents::collector
