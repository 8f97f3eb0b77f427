#pragma once
// Per-thread producer state: the thread's arena block, its ring token and its counters.

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "common/process_barrier.hpp"
#include "htevents/status.hpp"
#include "message/json_primitives.hpp"
#include "queue/block_pool.hpp"
#include "queue/ring.hpp"

namespace htevents::inline v0::detail {

// One producer: used by one thread at a time (its owner, or a thread that adopted it after the
// owner exited). Counters are written only by that thread and read by stats() and flush().
struct alignas(cache_line) Producer {
  explicit Producer(Ring& ring) : token(std::in_place, ring) {}

  std::optional<moodycamel::ProducerToken> token;
  // Current arena block (or nullptr) and the records pushed from it so far. Written by the
  // owning thread only; atomic (relaxed, plain moves on x86 and arm64) because a reclaimer
  // reads them to retire an idle producer's block (see `reclaim`).
  std::atomic<Block*> block{nullptr};
  std::atomic<std::int64_t> block_records{0};
  std::uint32_t pos = 0;     // end of the committed bytes in `block`
  std::uint32_t draft = 0;   // bytes of the message being written, after `pos`
  bool writer_open = false;  // a fast-path writer is in progress on this producer
  UuidGenerator uuid;
  NowText now;  // default timestamps

  // Set while the owner may touch `block`: from a writer's construction to its send() or
  // destruction, and for the whole of a struct enqueue.
  std::atomic<bool> holding{false};
  // More live threads than blocks: a thread that finds the pool empty takes idle producers'
  // blocks (ProducerRegistry::reclaim_idle_blocks). none -> requested (reclaimer), then taken
  // (reclaimer, when `holding` is clear) or back to none (whichever side gets there first).
  // Store-load handshake with `holding`, as `active` has with `closed`: light_barrier() on the
  // owner's side, heavy_barrier() on the reclaimer's.
  enum : std::uint8_t { reclaim_none, reclaim_requested, reclaim_taken };
  std::atomic<std::uint8_t> reclaim{reclaim_none};

  // Set while an enqueue is in progress; pairs with Intake's `closed` in a store-load
  // (Dekker) handshake, ordered by light_barrier()/heavy_barrier(), so that close() never
  // misses a message accepted concurrently.
  std::atomic<bool> active{false};
  std::atomic<std::uint64_t> accepted{0};
  std::array<std::atomic<std::uint64_t>, status_count> rejected{};

  // Lifetime handshake between the owning thread's exit and the client's destruction.
  std::mutex lifetime;
  bool client_alive = true;            // guarded by `lifetime`
  std::atomic<bool> abandoned{false};  // owner thread exited; another thread may adopt it

  // Serializer-only: records of this producer copied into batches (or failed). Own cache line:
  // the serializer writes it while the producer writes the fields above.
  alignas(cache_line) std::uint64_t consumed = 0;
};

// Counts one more on a counter only this thread writes: a plain load and store, no locked RMW.
inline void bump(std::atomic<std::uint64_t>& counter, std::uint64_t n = 1) noexcept {
  counter.store(counter.load(std::memory_order_relaxed) + n, std::memory_order_release);
}

// A reclaimer took the idle producer's block: forget it (the reclaimer retired it).
void accept_reclaim(Producer& producer) noexcept;

// settle_reclaim() once it saw a request: cancels it and keeps the block, or accepts that a
// reclaimer took the block. Only `taken` means the block is gone: the reclaimer may also have
// cancelled its own request (it saw `holding`) between settle_reclaim's load and the CAS here,
// and then the block is still ours; forgetting it would lose it for good (its references would
// never balance, and with every block lost that way the pool runs dry).
inline void answer_reclaim(Producer& producer) noexcept {
  std::uint8_t expected = Producer::reclaim_requested;
  if (producer.reclaim.compare_exchange_strong(expected, Producer::reclaim_none, std::memory_order_acq_rel)) return;
  if (expected == Producer::reclaim_taken) accept_reclaim(producer);
}

// The owner checks a reclaim request after raising `holding` (and its light_barrier()): keep
// the block if the request can still be cancelled, else start without one.
inline void settle_reclaim(Producer& producer) noexcept {
  if (producer.reclaim.load(std::memory_order_relaxed) == Producer::reclaim_none) [[likely]]
    return;
  answer_reclaim(producer);
}

// The owner raises `holding` before it touches its block; a reclaim request is checked after.
inline void raise_hold(Producer& producer) noexcept {
  producer.holding.store(true, std::memory_order_relaxed);
  light_barrier();
}

// The owner is about to touch its block (a writer opens).
inline void hold_block(Producer& producer) noexcept {
  raise_hold(producer);
  settle_reclaim(producer);
}

// Done touching it: a reclaimer may take it from now on. Publishes `block` and
// `block_records` to that reclaimer's acquire load of `holding`.
inline void unhold_block(Producer& producer) noexcept { producer.holding.store(false, std::memory_order_release); }

// One-entry cache of the producer this thread used last and its client's id, in front of the
// thread's producer list (producer.cpp): the hot path is one compare, inline. Client ids are
// never reused, so a stale entry for a destroyed client can never match. constinit: no
// thread_local initialisation check on each access.
inline constinit thread_local std::uint64_t tl_last_client = 0;
inline constinit thread_local Producer* tl_last_producer = nullptr;

// Every producer of one client. Finding this thread's producer is a thread_local compare on the
// hot path; the registry mutex is taken only on a thread's first message to a client.
class ProducerRegistry {
 public:
  ProducerRegistry(Ring& ring, BlockPool& pool) noexcept : ring_(ring), pool_(pool) {}
  ~ProducerRegistry();

  // This thread's producer for this client (created or adopted on first use); nullptr only if
  // memory ran out.
  Producer* for_this_thread(std::uint64_t client_id) noexcept {
    if (Producer* const producer = cached(client_id)) return producer;
    return slow_lookup(client_id);
  }
  // This thread's producer when it is the cached one (its last client's), else nullptr.
  static Producer* cached(std::uint64_t client_id) noexcept {
    return tl_last_client == client_id ? tl_last_producer : nullptr;
  }
  // Snapshot of all producers, for stats and flush. Takes the registry mutex.
  template <class F>
  void for_each(F&& f) const {
    std::lock_guard lock(mutex_);
    for (auto const& p : producers_) f(*p);
  }
  // Gives up `producer`'s current block: the serializer frees it once its records are copied.
  // Called by the owner (holding its block) or by the thread-exit cleanup.
  void retire_block(Producer& producer) noexcept;
  // The pool is empty: retires the blocks of producers other than `self` that are not holding
  // them (idle threads), so that any number of live threads makes progress. Returns how many
  // were retired; they return to the pool once the serializer has copied their records. One
  // reclaimer at a time (others return 0 at once). One heavy_barrier() per call.
  std::size_t reclaim_idle_blocks(Producer const& self) noexcept { return reclaim_idle_blocks(&self); }
  // The same for the consumer, which has no producer of its own (`self` may be nullptr).
  std::size_t reclaim_idle_blocks(Producer const* self) noexcept;
  // After a fork, in the child: refuse new producers (the client's threads are gone).
  void refuse_new_producers() noexcept { refuse_.store(true, std::memory_order_relaxed); }
  // Around fork() (pthread_atfork): the child gets the registry unlocked and consistent.
  void lock_for_fork() noexcept { mutex_.lock(); }
  void unlock_after_fork() noexcept { mutex_.unlock(); }

 private:
  Producer* slow_lookup(std::uint64_t client_id) noexcept;
  void retire(Block* block, std::int64_t pushed) noexcept;

  Ring& ring_;
  BlockPool& pool_;
  mutable std::mutex mutex_;
  std::vector<std::shared_ptr<Producer>> producers_;
  std::atomic<bool> refuse_{false};
  std::mutex reclaim_mutex_;
  std::vector<Producer*> reclaim_candidates_;  // guarded by reclaim_mutex_; keeps its capacity
};

}  // namespace htevents::inline v0::detail
