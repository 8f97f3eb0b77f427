#pragma once
// The subcommands of the `htevents-cpp` tool. Each parses its own flags (argv[0] is the subcommand
// name), prints --help, and returns the process exit code.

namespace htevents::cli {

int send_command(int argc, char** argv);
int replay_command(int argc, char** argv);
int collector_command(int argc, char** argv);
int load_command(int argc, char** argv);
/// `htevents-cpp spool <command> DIR`: dispatches to the spool_*_command functions below.
int spool_command(int argc, char** argv);
/// `htevents-cpp spool drain DIR` (spool_drain_command.cpp); argv[0] is "drain".
int spool_drain_command(int argc, char** argv);
/// `htevents-cpp spool inspect DIR` (spool_inspect_command.cpp); argv[0] is "inspect".
int spool_inspect_command(int argc, char** argv);
int e2e_command(int argc, char** argv);

}  // namespace htevents::cli
