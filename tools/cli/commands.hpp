#pragma once
// The subcommands of the `htevents` tool. Each parses its own flags (argv[0] is the subcommand
// name), prints --help, and returns the process exit code.

namespace htevents::cli {

int send_command(int argc, char** argv);
int replay_command(int argc, char** argv);
int collector_command(int argc, char** argv);
int load_command(int argc, char** argv);
int e2e_command(int argc, char** argv);

}  // namespace htevents::cli
