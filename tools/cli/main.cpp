// htevents-cpp: the command line tool. Dispatches to the subcommands of commands.hpp. Not called
// `htevents`: Hightouch's own event-contract CLI (npm @ht-sdks/events-cli) installs that name.
#include <cstdio>
#include <iostream>
#include <string_view>

#include "commands.hpp"
#include "htevents/client.hpp"

namespace {

constexpr std::string_view usage = R"(Usage: htevents-cpp <command> [options]

Commands:
  send TYPE ...      send one message (identify, track, page, screen, group, alias)
  replay FILE|-      send every message of an NDJSON file (Segment spec, one per line)
  collector          run a local batch endpoint that counts what it receives
  load               generate load against an endpoint and report throughput
  spool inspect DIR  what a spool directory holds: clients, pending events, damage
  spool drain DIR    deliver what a dead application left in its spool directory
  e2e --input JSON   Segment's SDK end-to-end contract: send sequences, print a JSON result

Every sending command takes --write-key KEY (or HTEVENTS_WRITE_KEY) and --endpoint URL (or
HTEVENTS_ENDPOINT; default https://us-east-1.hightouch-events.com).
Run `htevents-cpp <command> --help` for a command's options.

Options:
  --help             this text
  --version          the version of htevents-cpp (the library's version)
)";

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << usage;
    return 2;
  }
  std::string_view const command = argv[1];
  if (command == "--help" || command == "-h" || command == "help") {
    std::cout << usage;
    return 0;
  }
  if (command == "--version" || command == "version") {
    std::cout << "htevents-cpp " << htevents::version() << '\n';
    return 0;
  }
  // Each subcommand sees argv[0] == its own name.
  if (command == "send") return htevents::cli::send_command(argc - 1, argv + 1);
  if (command == "replay") return htevents::cli::replay_command(argc - 1, argv + 1);
  if (command == "collector") return htevents::cli::collector_command(argc - 1, argv + 1);
  if (command == "load") return htevents::cli::load_command(argc - 1, argv + 1);
  if (command == "spool") return htevents::cli::spool_command(argc - 1, argv + 1);
  if (command == "e2e") return htevents::cli::e2e_command(argc - 1, argv + 1);
  std::cerr << "htevents-cpp: unknown command '" << command << "'\n\n" << usage;
  return 2;
}
