// htevents-cpp spool inspect DIR: look into a spool directory (tools/spool) through the library's own
// recovery readers, so it shows what recovery would find.
#include <exception>
#include <iostream>
#include <string>
#include <string_view>

#include "commands.hpp"
#include "options.hpp"
#include "spool/inspect.hpp"

namespace htevents::cli {
namespace {

constexpr std::string_view usage = R"(Usage: htevents-cpp spool inspect DIR [--json]

DIR is a spool_dir (Config::spool_dir): one subdirectory per client, each with its lock, arena
and seg-* files. For each client prints whether its lock is held (live: a running client owns
it; dead: the next client adopts it), then per segment the pending batches, their events and
bytes, settled batches, damaged records and the oldest pending event; for the arena the
unconsumed events and damaged records; then the totals. Reads only: the lock is tried and
released at once. Exit status 0, or 2 when DIR is not a directory.

Options (also --name=value):
  --json     one JSON object instead of text
  --help     this text
)";

struct Flags {
  std::string dir;
  bool json = false;
  bool help = false;
};

Flags parse(int argc, char** argv) {
  Flags f;
  bool has_dir = false;
  Args args(argc, argv);
  while (args.next()) {
    if (args.is("--help")) {
      f.help = true;
    } else if (args.is("--json")) {
      args.no_value();
      f.json = true;
    } else if (args.positional() && !has_dir) {
      f.dir = args.current();
      has_dir = true;
    } else {
      args.unknown();
    }
  }
  if (f.help) return f;
  if (!has_dir) throw UsageError("missing DIR");
  return f;
}

}  // namespace

int spool_inspect_command(int argc, char** argv) {
  Flags f;
  try {
    f = parse(argc, argv);
  } catch (UsageError const& error) {
    std::cerr << "htevents-cpp spool inspect: " << error.what() << "\n\n" << usage;
    return 2;
  }
  if (f.help) {
    std::cout << usage;
    return 0;
  }
  try {
    inspect::Report const report = inspect::inspect_spool(f.dir);
    if (f.json)
      inspect::print_json(std::cout, report);
    else
      inspect::print_text(std::cout, report);
  } catch (inspect::InspectError const& error) {
    std::cerr << "htevents-cpp spool inspect: " << error.what() << '\n';
    return 2;
  } catch (std::exception const& error) {
    std::cerr << "htevents-cpp spool inspect: " << error.what() << '\n';
    return 1;
  }
  return 0;
}

}  // namespace htevents::cli
