#pragma once
// `htevents-cpp load --rate N --duration S`: the cost of a client when events trickle (issue 8, edge
// 10). W1 events at a fixed rate (0 = idle: a client with nothing queued) to the local
// collector, default Config, reporting the client's CPU beyond the pacing loop itself as % of
// one core.

#include <cstdint>

#include "htevents/config.hpp"

namespace htevents::cli {

struct PacedOptions {
  std::uint64_t rate = 0;          ///< events per second; 0 = idle
  double duration_seconds = 10;    ///< the measured window
  Compression compression = Compression::zstd;
  bool json = false;
};

/// Runs one paced window and prints its report; the exit code of `htevents-cpp load`.
int paced_run(PacedOptions const& options);

}  // namespace htevents::cli
