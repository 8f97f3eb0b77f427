#pragma once
// The MPMC ring between producer threads and the serializer: moodycamel::ConcurrentQueue of
// 16-byte records, one ProducerToken per producer thread, one ConsumerToken in the serializer.

#include <concurrentqueue/concurrentqueue.h>

#include "queue/block.hpp"

namespace htevents::inline v0::detail {

struct RingTraits : moodycamel::ConcurrentQueueDefaultTraits {
  // 256 records (4 KiB) per queue block: fewer block hand-offs between producer and consumer.
  static constexpr std::size_t BLOCK_SIZE = 256;
  static constexpr std::size_t EXPLICIT_BLOCK_EMPTY_COUNTER_THRESHOLD = 256;
};

using Ring = moodycamel::ConcurrentQueue<Record, RingTraits>;

}  // namespace htevents::inline v0::detail
