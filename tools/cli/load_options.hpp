#pragma once
// The options of `htevents-cpp load` and their parsing (usage errors throw flags::UsageError).

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "htevents/config.hpp"

namespace htevents::cli {

/// The text of `htevents-cpp load --help`.
extern std::string_view const load_usage;

struct LoadOptions {
  std::uint64_t events = 1'000'000;
  unsigned threads = 8;
  std::string endpoint;
  Compression compression = Compression::zstd;
  bool struct_api = false;
  bool stall = false;
  std::size_t max_queue_mb = 64;
  std::optional<std::uint64_t> rate;  // set: paced mode (paced_run.hpp)
  double duration = 10;
  double refuse_for = 0;   // seconds of refuse mode at the local collector's start (0: none)
  std::string spool_dir;   // Config::spool_dir (empty: memory only)
  long long spool_sync_ms = 1000;  // Config::spool_sync_interval
  bool json = false;
  bool help = false;
};

/// The options of argv[1..argc); throws flags::UsageError on a bad one.
LoadOptions parse_load_args(int argc, char** argv);

}  // namespace htevents::cli
