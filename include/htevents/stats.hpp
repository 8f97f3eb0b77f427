#pragma once
/// A snapshot of the client's counters. Counters are monotonic over the client's life; gauges are
/// the state at the time of the snapshot.

#include <array>
#include <cstdint>
#include <string>

#include "htevents/export.hpp"
#include "htevents/status.hpp"

namespace htevents {
inline namespace v0 {

struct HTEVENTS_EXPORT Stats {
  // Counters.
  std::uint64_t enqueued = 0;                                    ///< accepted by enqueue (Status::ok)
  std::uint64_t rejected = 0;                                    ///< refused by enqueue, all reasons
  std::array<std::uint64_t, status_count> rejected_by_status{};  ///< index: Status value
  std::uint64_t dropped = 0;                ///< lost to backpressure: dropped_newest + dropped_oldest
  std::uint64_t dropped_newest = 0;         ///< refused with queue_full (block after its timeout, drop_newest, fail)
  std::uint64_t dropped_oldest = 0;         ///< evicted by drop_oldest (also counted in failed)
  std::uint64_t delivered = 0;              ///< messages in batches the server accepted
  std::uint64_t failed = 0;                 ///< accepted messages handed to on_failure
  std::uint64_t batches_sent = 0;           ///< batches the server accepted
  std::uint64_t batches_failed = 0;         ///< batches given up
  std::uint64_t requests = 0;               ///< HTTP attempts, retries included
  std::uint64_t retries = 0;                ///< attempts after the first
  std::uint64_t compression_fallbacks = 0;  ///< times the server refused an encoding
  std::uint64_t bytes_uncompressed = 0;     ///< request bodies built, before compression
  std::uint64_t bytes_sent = 0;             ///< request bodies on the wire, retries included
  std::uint64_t serializer_stalls = 0;      ///< times the serializer waited for a free batch buffer
  std::uint64_t batches_split = 0;          ///< batches split in halves after a 400 or 413 (wire-format.md)
  std::uint64_t split_requests = 0;         ///< requests for the pieces of split batches (also in requests)
  std::uint64_t recovered = 0;              ///< events found in a spool at start-up (or adopted) and sent again; an
                                            ///< event a crash caught between two steps is found (and sent) twice
  std::uint64_t spool_corrupt = 0;          ///< damaged spool records skipped at recovery (events or batches)
  std::uint64_t spool_errors = 0;  ///< spool writes that failed (disk full, I/O error): that data stayed in memory only
  std::uint64_t spool_overflows = 0;  ///< batches kept in memory only because spool_max_bytes was used up
  // Gauges.
  std::uint64_t queued_events = 0;   ///< accepted, not yet in a batch
  std::uint64_t queued_bytes = 0;    ///< memory reserved for queued messages
  std::uint64_t in_flight = 0;       ///< batches being sent or waiting for a retry
  std::uint64_t spooled_events = 0;  ///< events waiting on disk now (in spooled batches not yet settled)
  std::uint64_t spooled_bytes = 0;   ///< bytes of those batches on disk

  /// Messages whose fate is still open: enqueued + recovered == delivered + failed + pending.
  [[nodiscard]] std::uint64_t pending() const noexcept { return enqueued + recovered - delivered - failed; }
  /// One JSON object with every field above (rejected_by_status keyed by status name).
  [[nodiscard]] std::string to_json() const;
};

}  // namespace v0
}  // namespace htevents
