#pragma once
// Intake: the producer side of the pipeline. It owns the ring, the arena block pool, the
// producer registry, the close handshake and the backpressure policy. Writers and the struct
// encoder (through MessageArena) use its producer methods on the hot path; the serializer gets
// an IntakeConsumer (take records, release them, wait for more); the client stops it in close().

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>

#include "batch/batch.hpp"
#include "common/process_barrier.hpp"
#include "htevents/config.hpp"
#include "htevents/status.hpp"
#include "queue/block_pool.hpp"
#include "queue/producer.hpp"
#include "queue/ring.hpp"
// After ring.hpp: the semaphore header relies on concurrentqueue.h's macros.
#include <concurrentqueue/lightweightsemaphore.h>

namespace htevents::inline v0::detail {

// What the intake takes from Config, once.
struct IntakeOptions {
  std::size_t block_capacity = 0;  // bytes of one arena block (block_capacity_for(Config))
  std::size_t max_blocks = 0;      // max_queue_bytes in blocks
  std::size_t max_message_bytes = 0;
  Backpressure backpressure = Backpressure::block;
  std::chrono::milliseconds enqueue_timeout{0};
  // With a spool: blocks in its arena file, and each record framed (length, and a checksum or
  // the block's seed, before its bytes at an aligned offset: spool/format.hpp) so that recovery
  // tells whole records from torn ones.
  BlockArena arena{};
  std::uint32_t record_frame = 0;  // bytes before each record: 0, or spool::record_frame_bytes
  // The arena is mapped from the disk (the kernel may write any page back, torn, at any time):
  // producers checksum each record. In a live arena in memory they do not; the spool's sync
  // checksums what it copies to disk (ArenaFile::sync).
  bool checksum_records = false;

  static IntakeOptions from(Config const& config) noexcept;
};

class IntakeConsumer;

class Intake {
 public:
  // `client_id` keys the threads' producer caches: never reused by another Intake. Allocates
  // the ring: throws std::bad_alloc.
  Intake(std::uint64_t client_id, IntakeOptions const& options);
  Intake(Intake const&) = delete;
  Intake& operator=(Intake const&) = delete;

  IntakeOptions const& options() const noexcept { return options_; }

  // --- producer side (hot path) ---
  Producer* this_thread_producer() noexcept { return producers_.for_this_thread(client_id_); }
  // This thread's producer when it is the one cached (the thread's last client), else nullptr.
  Producer* cached_producer() const noexcept { return ProducerRegistry::cached(client_id_); }
  // Marks `producer` busy and checks `closed`: false means closed. Store-load handshake with
  // stop(): either wait_for_enqueues_in_progress() sees `active` and waits for this enqueue,
  // or this load sees `closed`. The store-load order comes from an asymmetric barrier: a
  // compiler barrier here, membarrier(2) in stop(), instead of a locked instruction per message.
  bool begin_enqueue(Producer& producer) noexcept {
    producer.active.store(true, std::memory_order_relaxed);
    light_barrier();
    return !closed_.load(std::memory_order_relaxed);
  }
  void end_enqueue(Producer& producer, Status status) noexcept {
    // Publishes the pushed record to close(); pairs with its acquire load of `active`.
    producer.active.store(false, std::memory_order_release);
    if (status != Status::ok) bump(producer.rejected[static_cast<std::size_t>(status)]);
  }
  // The struct API holds the block and passes the close handshake under one barrier.
  bool begin_struct_enqueue(Producer& producer) noexcept {
    producer.holding.store(true, std::memory_order_relaxed);
    producer.active.store(true, std::memory_order_relaxed);
    light_barrier();
    settle_reclaim(producer);
    return !closed_.load(std::memory_order_relaxed);
  }
  void end_struct_enqueue(Producer& producer, Status status) noexcept {
    end_enqueue(producer, status);
    unhold_block(producer);
  }
  // A relaxed look at `closed`: an early answer only (the enqueue handshake decides).
  bool closed() const noexcept { return closed_.load(std::memory_order_relaxed); }
  bool closed_acquire() const noexcept { return closed_.load(std::memory_order_acquire); }
  // What a refused enqueue says once `closed` is set: closed, or forked in a fork child.
  Status refusal() const noexcept { return forked_.load(std::memory_order_relaxed) ? Status::forked : Status::closed; }
  // What a call that found no block (or no producer) returns: the refusal once closed, else
  // queue_full.
  Status no_room_status() const noexcept { return closed() ? refusal() : Status::queue_full; }
  // True in a child process forked while this intake existed.
  bool forked() const noexcept { return forked_.load(std::memory_order_relaxed); }
  // A new arena block for `producer`, without waiting: a free one, or one reclaimed from idle
  // threads; nullptr when there is none.
  Block* try_next_block(Producer& producer) noexcept;
  // Whether wait_for_block() would wait: a waiting policy (block, drop_oldest), outside a
  // callback, before close().
  bool may_wait_for_block() const noexcept;
  // A new arena block under the backpressure policy, waiting for one to come back (never longer
  // than enqueue_timeout); nullptr at once when the policy does not wait. The caller should
  // hold no block meanwhile (MessageArena::grow): a block held by a waiting thread never comes
  // back, and when every block is held that way, every waiter waits out its timeout.
  Block* wait_for_block(Producer& producer) noexcept;
  // Gives up the producer's current block (MessageArena moved its draft to a fresh one).
  void retire_block(Producer& producer) noexcept { producers_.retire_block(producer); }
  // Where the first record of a fresh block starts (after its frame, with a spool).
  std::uint32_t first_record_offset() const noexcept { return options_.record_frame; }
  // Queues the producer's draft message (`length` bytes at block + pos). Returns ok or queue_full.
  // Inline without a spool: the fast path's send() calls it for every message.
  Status push(Producer& producer, std::uint32_t length) noexcept {
    if (options_.record_frame != 0) return push_framed(producer, length);
    if (!enqueue_record(producer, length)) return Status::queue_full;
    producer.pos += length;
    return pushed(producer);
  }

  // --- the client ---
  // close(): refuse every later enqueue, and wake producers waiting for room.
  void stop() noexcept;
  // close(): waits for enqueues that passed the handshake before stop() to finish pushing.
  void wait_for_enqueues_in_progress() noexcept;
  // Total accepted over all producers (takes the registry lock).
  std::uint64_t total_accepted() const noexcept;
  // Snapshot of all producers, for stats and flush. Takes the registry lock; may throw what `f`
  // throws.
  template <class F>
  void for_each_producer(F&& f) const {
    producers_.for_each(static_cast<F&&>(f));
  }
  std::size_t queued_bytes() const noexcept { return blocks_.blocks_in_use() * blocks_.block_capacity(); }
  // Any thread: the serializer looks for records now (flush, close, a free batch buffer).
  void wake_consumer() noexcept { consumer_wakeup_.signal(); }
  // fork(): the registry lock around fork, and the child's refusal of everything.
  void lock_for_fork() noexcept { producers_.lock_for_fork(); }
  void unlock_after_fork() noexcept { producers_.unlock_after_fork(); }
  void refuse_in_fork_child() noexcept;

 private:
  friend class IntakeConsumer;
  void wake_sleeping_consumer() noexcept;
  // push() with the spool's record frames (intake.cpp).
  Status push_framed(Producer& producer, std::uint32_t length) noexcept;
  // The record into the ring, counted as accepted first: the serializer may consume (and fail)
  // it at once, and stats() must never show failed > enqueued. False (and not counted) when
  // the ring has no room.
  // Flattened: moodycamel's enqueue is inlined here, and with it into send(). Called, it saved
  // and restored six registers for the sake of its block-allocating slow path on every record
  // (16 instructions per event, counted with tools/instructions.sh).
  [[gnu::flatten]] bool enqueue_record(Producer& producer, std::uint32_t length) noexcept {
    Record const record{producer.block.load(std::memory_order_relaxed), producer.pos, length};
    std::uint64_t const accepted = producer.accepted.load(std::memory_order_relaxed);
    producer.accepted.store(accepted + 1, std::memory_order_release);
    if (ring_.enqueue(*producer.token, record)) return true;
    producer.accepted.store(accepted, std::memory_order_release);
    return false;
  }
  // After a record went into the ring: the draft is done, the block counts it, and a sleeping
  // consumer is woken.
  Status pushed(Producer& producer) noexcept {
    producer.draft = 0;
    producer.block_records.store(producer.block_records.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    // Pairs with the consumer's heavy_barrier() before it sleeps (IntakeConsumer::announce_sleep):
    // either it sees this record or we see the flag.
    light_barrier();
    if (consumer_sleeping_.load(std::memory_order_relaxed)) wake_sleeping_consumer();
    return Status::ok;
  }

  IntakeOptions const options_;
  std::uint64_t const client_id_;
  Ring ring_;
  BlockPool blocks_;
  ProducerRegistry producers_;
  std::atomic<bool> closed_{false};
  std::atomic<bool> forked_{false};
  // The consumer sleeps until a producer wakes it (nothing queued): producers signal after a
  // push. Store-load handshake with the ring: light_barrier() in push, heavy_barrier() there.
  std::atomic<bool> consumer_sleeping_{false};
  // The consumer sleeps longer than a millisecond with a batch open: a producer that moves to
  // a new block (a block's worth of records arrived) wakes it. Never waited on by producers.
  std::atomic<bool> consumer_napping_{false};
  // No spinning before the kernel wait (moodycamel's default spins 10,000 times): the consumer
  // waits only when the ring ran dry or an open batch waits for its interval, and producers
  // signal at most once per block, so a spin almost never finds the signal. Each spin is paid
  // per wait: once the serializer outpaces its producers (a cheaper compressor or producer
  // path) it waits often, and an earlier build measured 80-140 instructions per event in it.
  moodycamel::LightweightSemaphore consumer_wakeup_{0, 0};
};

// The serializer's view of the intake: one consumer, on one thread.
class IntakeConsumer {
 public:
  explicit IntakeConsumer(Intake& intake) : intake_(intake), token_(intake.ring_) {}

  // Up to `max` records, oldest first per producer.
  std::size_t take(Record* out, std::size_t max) noexcept { return intake_.ring_.try_dequeue_bulk(token_, out, max); }
  // `count` records of `block` have been copied out (or failed): counts them for their
  // producer and lets the block go back to the pool once its producer has retired it too.
  void release(Block* block, std::int64_t count) noexcept {
    count_consumed(block, count);
    let_go(block, count);
  }
  // The two halves of release(), for a spool: records count as consumed (flush, stats) when
  // they are in a batch, but their block is let go only once that batch is on disk.
  void count_consumed(Block* block, std::int64_t count) noexcept {
    // The owner is stable until let_go() lets the block go.
    block->owner->consumed += static_cast<std::uint64_t>(count);
  }
  void let_go(Block* block, std::int64_t count) noexcept;
  // Spool: records of a settled batch are marked settled in the arena file (recovery skips
  // them) and their blocks let go. Thread-safe: the sender calls it, and the serializer for
  // evictions.
  void settle(HeldRecords& held) noexcept;
  // Total accepted over all producers: the consumer has drained when it took that many.
  std::uint64_t total_accepted() const noexcept { return intake_.total_accepted(); }
  // Under Backpressure::drop_oldest, a producer found no block: evict old records.
  bool starved() const noexcept { return intake_.blocks_.starved.load(std::memory_order_acquire); }
  void clear_starved() noexcept { intake_.blocks_.starved.store(false, std::memory_order_relaxed); }
  // Producers are waiting for room (Backpressure::block or drop_oldest): the consumer takes
  // idle threads' blocks for them on each of its rounds, so that the waiters themselves never
  // need to wake up and look (thousands of them would starve the consumer doing it).
  bool producers_waiting() const noexcept { return intake_.blocks_.waiting() > 0; }
  void reclaim_for_waiters() noexcept {
    if (producers_waiting()) intake_.producers_.reclaim_idle_blocks(static_cast<Producer const*>(nullptr));
  }
  // Keeps pre-touched blocks ready for producers (see BlockPool::keep_spare).
  void keep_spare(std::size_t blocks) noexcept { intake_.blocks_.keep_spare(blocks); }

  // Sleeping: announce_sleep() asks producers to signal after their next push and looks once
  // more; false means records (or a starved producer) are there already: do not sleep. Pairs
  // with light_barrier() in Intake::push: either that push is visible to this look, or its
  // producer sees the flag. `also_wake` is checked after the barrier too (flush tickets).
  template <class Pending>
  bool announce_sleep(Pending&& also_wake) noexcept {
    intake_.consumer_sleeping_.store(true, std::memory_order_relaxed);
    heavy_barrier();
    if (intake_.ring_.size_approx() > 0 || also_wake() || starved()) {
      intake_.consumer_sleeping_.store(false, std::memory_order_relaxed);
      return false;
    }
    return true;
  }
  // Any thread: wakes wait().
  void wake() noexcept { intake_.consumer_wakeup_.signal(); }
  void end_sleep() noexcept { intake_.consumer_sleeping_.store(false, std::memory_order_relaxed); }
  // Waits up to `timeout` for a signal. `napping`: a batch is open, and a producer moving to a
  // fresh block should wake us.
  void wait(std::chrono::microseconds timeout, bool napping) noexcept {
    if (napping) intake_.consumer_napping_.store(true, std::memory_order_relaxed);
    intake_.consumer_wakeup_.wait(timeout.count());
    if (napping) intake_.consumer_napping_.store(false, std::memory_order_relaxed);
  }

 private:
  // The records of `frames` (consecutive ones of `block`): the block's settled prefix moved
  // past them when they start where it ends, each frame marked otherwise.
  static void settle_run(Block& block, std::span<char* const> frames) noexcept;

  Intake& intake_;
  moodycamel::ConsumerToken token_;
};

}  // namespace htevents::inline v0::detail
