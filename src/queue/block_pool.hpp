#pragma once
// The bounded pool of arena blocks: max_queue_bytes expressed in blocks.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <mutex>

#include "queue/block.hpp"

namespace htevents::inline v0::detail {

// Where blocks live when they are file-backed (a spool's arena, spool/format.hpp): `slots`
// slots of `stride` bytes from `base`, each a Block header then its data. The mapping outlives
// the pool.
struct BlockArena {
  char* base = nullptr;
  std::size_t stride = 0;
  std::size_t slots = 0;
  // The slot whose records the spool's sync is reading right now, or null (ArenaFile::sync):
  // release() does not hand a block back while it is read, so its bytes stay as they are.
  std::atomic<char const*> const* walking = nullptr;
  // The spool's sync epoch: producers tag each unchecked record with it (spool/format.hpp), so
  // that the sync copies only records written before the previous sync began.
  std::atomic<std::uint32_t> const* epoch = nullptr;
};

class BlockPool {
 public:
  // Blocks from the heap, or from `arena` when its base is set (then max_blocks <= arena.slots).
  BlockPool(std::size_t block_capacity, std::size_t max_blocks, BlockArena arena = {});
  ~BlockPool();
  BlockPool(BlockPool const&) = delete;
  BlockPool& operator=(BlockPool const&) = delete;

  // A free block, or a new one while under budget; nullptr when the budget is used up.
  // Takes the pool mutex (once per block, not per message).
  Block* try_acquire() noexcept;
  // As try_acquire, waiting until `deadline` for a block to come back, or until interrupt().
  // Waiters are served first come, first served: a returned block goes straight to the one
  // that has waited longest, and try_acquire() finds nothing while anyone waits.
  Block* acquire_until(std::chrono::steady_clock::time_point deadline) noexcept;
  // close(): wakes every acquire_until() and makes later ones return at once (with a block only
  // if one is free), so that close never waits out a producer's enqueue_timeout.
  void interrupt() noexcept;
  bool interrupted() const noexcept { return interrupted_.load(std::memory_order_acquire); }
  // Returns a block whose records have all been consumed. Thread-safe.
  void release(Block* block) noexcept;
  // Serializer thread: while under budget, keeps `spare` blocks allocated, with every page
  // touched, on the free list, so that producers never take first-touch page faults (a
  // microsecond each, one every ~16 messages of a fresh block) on the hot path.
  void keep_spare(std::size_t spare) noexcept;

  std::size_t block_capacity() const noexcept { return capacity_; }
  std::size_t max_blocks() const noexcept { return max_blocks_; }
  std::size_t blocks_in_use() const noexcept { return in_use_.load(std::memory_order_relaxed); }
  // Producers waiting in acquire_until() right now (a lock-free look, for the consumer).
  std::size_t waiting() const noexcept { return waiting_.load(std::memory_order_relaxed); }

  // Set by a producer that found no block under Backpressure::drop_oldest; the serializer
  // evicts old records while it is set.
  std::atomic<bool> starved{false};

 private:
  // A thread in acquire_until(), on its own stack, in line (first_waiter_ .. last_waiter_) until
  // it is handed a block, times out or is interrupted. Each has its own condition variable, so
  // that a returned block wakes the one thread it is for.
  struct Waiter {
    Waiter* prev = nullptr;
    Waiter* next = nullptr;
    Block* block = nullptr;  // handed over by release() (or keep_spare()): the waiter's now
    std::condition_variable woken;
  };
  void join_line(Waiter& waiter) noexcept;
  void leave_line(Waiter& waiter) noexcept;
  // Hands free blocks to the waiters at the head of the line, while there are both.
  void serve_waiters_locked() noexcept;
  Block* pop_locked() noexcept;
  Block* allocate() noexcept;           // caller holds mutex_ (the block joins all_)
  Block* allocate_unlinked() noexcept;  // no lock; the caller links it into all_ under mutex_

  std::size_t const capacity_;
  std::size_t const max_blocks_;
  std::mutex mutex_;
  Block* free_ = nullptr;
  Block* all_ = nullptr;                    // chain of next_all through every allocated block; guarded by mutex_
  std::atomic<std::size_t> free_count_{0};  // written under mutex_; read without it by keep_spare
  std::size_t allocated_ = 0;
  Waiter* first_waiter_ = nullptr;       // guarded by mutex_
  Waiter* last_waiter_ = nullptr;        // guarded by mutex_
  std::atomic<std::size_t> waiting_{0};  // threads in line, written under mutex_
  std::atomic<std::size_t> in_use_{0};
  std::atomic<bool> interrupted_{false};
  BlockArena const arena_;
  std::atomic<std::size_t> next_slot_{0};  // arena slots handed to allocate_unlinked()
  std::uint64_t generation_ = 0;           // guarded by mutex_; the last generation handed out
};

}  // namespace htevents::inline v0::detail
