#pragma once
// The MPMC ring between producer threads and the serializer: moodycamel::ConcurrentQueue of
// 16-byte records, one ProducerToken per producer thread, one ConsumerToken in the serializer.

#include <concurrentqueue/concurrentqueue.h>

#include "queue/block.hpp"

namespace htevents::inline v0::detail {

struct RingTraits : moodycamel::ConcurrentQueueDefaultTraits {
  // 256 records (4 KiB) per queue block: fewer block hand-offs between producer and consumer.
  static constexpr std::size_t BLOCK_SIZE = 256;
  // Blocks larger than this threshold track their dequeued records with one counter instead of
  // a flag per record. With flags, a producer reaching a block boundary scans 256 flags to see
  // whether the next block is free, then clears 256 of them, and the serializer sets one flag
  // per record it takes. With the counter, those are one load, one store and one fetch_add per
  // bulk take (about 10 instructions per event less, counted with tools/instructions.sh).
  static constexpr std::size_t EXPLICIT_BLOCK_EMPTY_COUNTER_THRESHOLD = 128;
};

using Ring = moodycamel::ConcurrentQueue<Record, RingTraits>;

}  // namespace htevents::inline v0::detail
