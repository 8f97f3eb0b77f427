#pragma once
// The serializer thread: takes records out of the ring, copies their bytes into a batch body,
// closes batches on count, bytes, interval, flush and close, compresses them and hands them to
// the sender. Under Backpressure::drop_oldest it also evicts the oldest records.

#include <array>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "batch/batch.hpp"
#include "batch/compressor.hpp"
#include "batch/envelope.hpp"
#include "message/json_primitives.hpp"
#include "queue/ring.hpp"

namespace htevents::inline v0::detail {

class ClientCore;
class Sender;

class Serializer {
 public:
  Serializer(ClientCore& core, Sender& sender);
  // The thread body; returns after close() drained the ring (or its deadline passed).
  void run() noexcept;

  // `],"sentAt":...,"messageId":...,"context":{...}}` is at most this long.
  std::size_t envelope_bytes() const noexcept;

 private:
  void take_records() noexcept;
  bool place(Record const& record) noexcept;  // false: stalled for lack of a batch buffer
  void append(Record const& record) noexcept;
  void close_batch() noexcept;
  void serve_flushes() noexcept;
  void evict_oldest() noexcept;
  void fail_everything_left() noexcept;
  void consumed(Record const& record) noexcept;
  void release(Block* block) noexcept;
  void flush_releases() noexcept;
  bool drained() const noexcept;
  void wait(bool stalled, bool draining) noexcept;
  // How long the open batch can wait before count, bytes or interval may close it.
  std::chrono::microseconds time_until_batch_can_close(std::chrono::steady_clock::time_point now) const noexcept;

  ClientCore& core_;
  Sender& sender_;
  moodycamel::ConsumerToken token_;
  static constexpr std::size_t records_per_take = 512;
  std::array<Record, records_per_take> pending_{};  // dequeued, not yet placed (oldest first)
  std::size_t pending_size_ = 0;
  std::size_t next_ = 0;
  Batch* current_ = nullptr;
  std::chrono::steady_clock::time_point batch_started_{};
  Compressor compressor_;
  UuidGenerator uuid_;
  Envelope envelope_;
  std::uint64_t serial_ = 0;
  std::uint64_t consumed_ = 0;       // mirrors counters.consumed; serializer-only
  Block* release_block_ = nullptr;   // consecutive records of one block are released together
  std::int64_t release_count_ = 0;
  bool quiet_nap_taken_ = false;     // napped once since the ring was last found empty
};

}  // namespace htevents::inline v0::detail
