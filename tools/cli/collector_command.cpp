// htevents-cpp collector: the local batch endpoint (tools/collector) with live counts; the same
// program as htevents-cpp-collector (tools/collector/collector_cli.cpp).
#include "collector/collector_cli.hpp"
#include "commands.hpp"

namespace htevents::cli {

int collector_command(int argc, char** argv) {
  return collector::run_collector_cli(argc, argv, "htevents-cpp collector");
}

}  // namespace htevents::cli
