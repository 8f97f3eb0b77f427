#pragma once
// The serializer thread: takes records from the intake, copies their bytes into a batch body,
// closes batches on count, bytes, interval, flush and close, compresses them and hands them to
// the batch channel. Under Backpressure::drop_oldest it also evicts the oldest records.
//
// It is handed only what it uses: the intake's consumer view, the batch channel, flush
// tracking, the callbacks (for failed messages), the counters, the logger and the sender's last
// error; and its own options, derived once from Config.

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "batch/batch.hpp"
#include "batch/batch_channel.hpp"
#include "batch/batch_ids.hpp"
#include "batch/compressor.hpp"
#include "batch/envelope.hpp"
#include "batch/progress.hpp"
#include "common/callbacks.hpp"
#include "common/counters.hpp"
#include "common/last_error.hpp"
#include "common/logger.hpp"
#include "htevents/config.hpp"
#include "htevents/value.hpp"
#include "queue/intake.hpp"
#include "spool/spool.hpp"

namespace htevents::inline v0::detail {

// What the serializer takes from Config, once.
struct SerializerOptions {
  std::size_t batch_size = 0;             // messages per batch at most
  std::size_t max_batch_bytes = 0;        // request body bytes at most, envelope included
  std::chrono::milliseconds interval{0};  // a batch waits at most this long for more messages
  int compression_level = 0;
  bool drop_oldest = false;  // Backpressure::drop_oldest: evict when a producer starves
  Object default_context;    // the envelope's context (validated: it encodes)

  static SerializerOptions from(Config const& config);
};

// Everything the serializer reports to or reads from other stages.
struct SerializerLinks {
  IntakeConsumer& intake;
  BatchChannel& batches;
  Progress& progress;
  Callbacks& callbacks;
  PipelineCounters& counters;
  Logger const& logger;
  LastError const& last_error;  // the sender's, for the detail of deadline failures
  Spool* spool = nullptr;       // with Config::spool_dir: every batch goes to disk before its records are let go
};

class Serializer {
 public:
  // Throws std::bad_alloc (the envelope's context, the compressor's state).
  Serializer(SerializerOptions options, SerializerLinks links);
  Serializer(Serializer const&) = delete;
  Serializer& operator=(Serializer const&) = delete;

  // The thread body; returns after drain() once every record is batched (or failed at the
  // deadline), having closed the batch channel.
  void run() noexcept;
  // Any thread: wakes run() (a flush, a buffer free again).
  void wake() noexcept;
  // Any thread: stop taking new batches' time: hand what is left and exit, failing whatever
  // is not batched by `deadline` (steady_clock, 0 = none).
  void drain(std::chrono::steady_clock::time_point deadline) noexcept;

  // `],"sentAt":...,"messageId":...,"context":{...}}` is at most this long.
  std::size_t envelope_bytes() const noexcept { return envelope_bytes_; }

 private:
  void take_records() noexcept;
  bool place(Record const& record) noexcept;  // false: stalled for lack of a batch buffer
  // Places pending records into the open batch while it has room (the common case, inline).
  void place_while_room() noexcept;
  // Room for `length` more bytes in the current batch (opening one, closing a full one); false:
  // stalled for lack of a batch buffer. The common case, an open batch with room, is the inline
  // test; opening and closing batches is make_room_slow.
  bool make_room(std::size_t length) noexcept;
  [[gnu::noinline]] bool make_room_slow(std::size_t length) noexcept;
  void append(Record const& record) noexcept;
  // Spool: records of an adopted arena into batches, up to a round's worth; false when stalled.
  bool place_recovered() noexcept;
  // Spool: the held records are settled now (in a segment, or failed), and the recovered
  // records of the open batch marked settled in their dead arena.
  void settle_now() noexcept;
  void leave_everything_left() noexcept;
  void close_batch() noexcept;
  void serve_flushes() noexcept;
  void evict_oldest() noexcept;
  void fail_everything_left() noexcept;
  void consumed(Record const& record) noexcept;
  void hold_frame(Record const& record) noexcept;
  [[gnu::noinline]] void hold_frame_growing(char* frame) noexcept;
  void release(Block* block) noexcept;
  [[gnu::noinline]] void start_release_run(Block* block) noexcept;
  void flush_releases() noexcept;
  bool drained() const noexcept;
  void wait(bool stalled, bool draining) noexcept;
  // How long the open batch can wait before count, bytes or interval may close it.
  std::chrono::microseconds time_until_batch_can_close(std::chrono::steady_clock::time_point now) const noexcept;

  SerializerOptions const options_;
  SerializerLinks const links_;
  std::atomic<bool> draining_{false};
  std::atomic<std::int64_t> deadline_ns_{0};  // steady_clock, 0 = none
  static constexpr std::size_t records_per_take = 512;
  std::array<Record, records_per_take> pending_{};  // dequeued, not yet placed (oldest first)
  std::size_t pending_size_ = 0;
  std::size_t next_ = 0;
  Batch* current_ = nullptr;
  std::chrono::steady_clock::time_point batch_started_{};
  Compressor compressor_;
  BatchIds ids_;
  Envelope envelope_;
  std::size_t const envelope_bytes_;  // envelope_.max_bytes(), asked once per record otherwise
  std::uint64_t serial_ = 0;
  std::uint64_t consumed_ = 0;      // mirrors counters.consumed
  Block* release_block_ = nullptr;  // consecutive records of one block are released together
  std::int64_t release_count_ = 0;
  // Spool: the arena records of the open batch (or of evictions), held until it settles.
  HeldRecords held_;
  std::vector<char*> recovered_frames_;       // recovered records in the open batch (an adopted arena's)
  RecoveredArena* recovering_ = nullptr;      // the adopted arena being re-batched
  RecoveredArena* finished_arena_ = nullptr;  // whose last record is in the open batch
  std::int64_t batch_opened_ms_ = 0;
  bool quiet_nap_taken_ = false;  // napped once since the ring was last found empty
};

}  // namespace htevents::inline v0::detail
