// htevents-cpp spool: the tools for a Config::spool_dir (durability.md, "Tools"). A dispatcher only:
// each subcommand lives in its own file (spool_<name>_command.cpp) and is one row of the table.
#include <cstdio>
#include <iterator>
#include <string>
#include <string_view>

#include "commands.hpp"

namespace htevents::cli {
namespace {

struct SpoolSubcommand {
  std::string_view name;
  int (*run)(int argc, char** argv);  // argv[0] is the subcommand's name
  std::string_view summary;
};

constexpr SpoolSubcommand subcommands[] = {
    {"inspect", spool_inspect_command, "what DIR holds: clients (live or dead), pending events, bytes, damage"},
    {"drain", spool_drain_command, "deliver what a dead application left in DIR, without it"},
};

void print_usage(std::FILE* out) {
  std::fputs("Usage: htevents-cpp spool <command> DIR [options]\n\nCommands:\n", out);
  for (SpoolSubcommand const& c : subcommands)
    std::fprintf(out, "  %-9s %.*s\n", std::string(c.name).c_str(), static_cast<int>(c.summary.size()),
                 c.summary.data());
  std::fputs("\nDIR is the application's Config::spool_dir. Run `htevents-cpp spool <command> --help` for its options.\n",
             out);
}

}  // namespace

int spool_command(int argc, char** argv) {
  if (argc < 2) {
    print_usage(stderr);
    return 2;
  }
  std::string_view const name = argv[1];
  if (name == "--help" || name == "-h" || name == "help") {
    print_usage(stdout);
    return 0;
  }
  for (SpoolSubcommand const& c : subcommands)
    if (c.name == name) return c.run(argc - 1, argv + 1);
  std::fprintf(stderr, "htevents-cpp spool: unknown command '%s'\n\n", argv[1]);
  print_usage(stderr);
  return 2;
}

}  // namespace htevents::cli
