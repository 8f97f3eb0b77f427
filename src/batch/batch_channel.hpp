#pragma once
// The channel between the serializer and the sender: the pool of batch buffers, the finished
// batches handed over, the "no more batches" mark, and the body encoding both sides agree on.
// It reports each batch handed and finished to Progress (flush tracking), and wakes the other
// side through the functions the client connects: the serializer knows no sender, the sender
// no serializer.

#include <atomic>
#include <cstddef>
#include <functional>
#include <mutex>
#include <vector>

#include "batch/batch.hpp"
#include "batch/batch_pool.hpp"
#include "batch/progress.hpp"
#include "htevents/config.hpp"

namespace htevents::inline v0::detail {

class BatchChannel {
 public:
  // Allocates `count` batch buffers now: throws std::bad_alloc.
  BatchChannel(std::size_t count, std::size_t max_body_bytes, std::size_t max_messages, Compression encoding,
               Progress& progress);
  BatchChannel(BatchChannel const&) = delete;
  BatchChannel& operator=(BatchChannel const&) = delete;

  // Before any thread runs: what wakes the sender (a batch handed, the channel closed) and the
  // serializer (a buffer free again). Either may be empty.
  void connect(std::function<void()> wake_sender, std::function<void()> wake_serializer);

  std::size_t capacity() const noexcept { return pool_.size(); }

  // --- serializer side ---
  // A free buffer, or nullptr when every buffer is handed or being built.
  Batch* try_take() noexcept { return pool_.try_take(); }
  // A buffer the serializer took and will not hand (it exits): back to the pool, unreported.
  void put_back(Batch* batch) noexcept { pool_.give_back(batch); }
  // A finished batch (serial set) for the sender. Reports it handed; wakes the sender.
  void hand(Batch* batch) noexcept;
  // No more batches will come. Wakes the sender.
  void close() noexcept;

  // --- sender side ---
  // Read before take_handed(): once true, take_handed() has returned (or will) every batch.
  bool closed() const noexcept { return closed_.load(std::memory_order_acquire); }
  // Moves the handed batches into `out` (which the caller keeps empty between calls). Never
  // allocates when `out` has capacity() reserved.
  void take_handed(std::vector<Batch*>& out) noexcept;
  // A batch of the pool has settled (delivered or failed): free again. Reports it finished;
  // wakes the serializer.
  void give_back(Batch* batch) noexcept;
  // With a spool: a batch whose body is on disk leaves memory before it settles (parked for a
  // retry). Its buffer is free again; it is reported finished later, with finished().
  void recycle(Batch* batch) noexcept;
  // Spool: the batch's arena records are settled (it was delivered or failed, or it is in a
  // segment now): marked so, and their blocks let go. Any thread; the client connects it.
  void settle_records(Batch& batch) noexcept {
    if (batch.held.empty()) return;
    if (settle_records_) settle_records_(batch.held);
    batch.held.frames.clear();
    batch.held.runs.clear();
  }
  void connect_records(std::function<void(HeldRecords&)> settle) { settle_records_ = std::move(settle); }
  void finished(std::uint64_t serial) noexcept { progress_.finished(serial); }

  // --- the body encoding in use ---
  // The serializer compresses each new batch with this; the sender moves it down
  // (zstd -> gzip -> none) when the server refuses one.
  Compression encoding() const noexcept { return encoding_.load(std::memory_order_relaxed); }
  // Replaces the encoding in use with `next` while `refused(current)` holds.
  template <class Refused>
  void move_encoding_off(Compression next, Refused&& refused) noexcept {
    Compression expected = encoding_.load(std::memory_order_relaxed);
    while (refused(expected) && !encoding_.compare_exchange_weak(expected, next, std::memory_order_relaxed)) {
    }
  }

 private:
  BatchPool pool_;
  Progress& progress_;
  std::function<void()> wake_sender_;
  std::function<void()> wake_serializer_;
  std::function<void(HeldRecords&)> settle_records_;
  std::mutex mutex_;
  std::vector<Batch*> handed_;  // guarded by mutex_; capacity for the whole pool
  std::atomic<bool> closed_{false};
  std::atomic<Compression> encoding_;
};

}  // namespace htevents::inline v0::detail
