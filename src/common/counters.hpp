#pragma once
// The pipeline's counters: each written by one pipeline thread (serializer or sender, as
// marked) and read by Client::stats().

#include <atomic>
#include <cstdint>

namespace htevents::inline v0::detail {

struct PipelineCounters {
  std::atomic<std::uint64_t> consumed{0};  // records taken out of the ring (serializer)
  std::atomic<std::uint64_t> delivered{0};
  std::atomic<std::uint64_t> failed{0};  // every failed message (Callbacks::fail_message)
  std::atomic<std::uint64_t> dropped_oldest{0};
  std::atomic<std::uint64_t> batches_sent{0};
  std::atomic<std::uint64_t> batches_failed{0};
  std::atomic<std::uint64_t> requests{0};
  std::atomic<std::uint64_t> retries{0};
  std::atomic<std::uint64_t> compression_fallbacks{0};
  std::atomic<std::uint64_t> bytes_uncompressed{0};
  std::atomic<std::uint64_t> bytes_sent{0};
  std::atomic<std::uint64_t> serializer_stalls{0};
  std::atomic<std::uint64_t> deadline_failures{0};
  std::atomic<std::uint64_t> batches_split{0};   // batches split after a 400 or 413 (sender)
  std::atomic<std::uint64_t> split_requests{0};  // requests for the pieces of split batches
};

}  // namespace htevents::inline v0::detail
