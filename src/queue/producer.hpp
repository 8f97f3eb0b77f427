#pragma once
// Per-thread producer state: the thread's arena block, its ring token and its counters.

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

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
  Block* block = nullptr;            // current arena block, or nullptr
  std::uint32_t pos = 0;             // end of the committed bytes in `block`
  std::uint32_t draft = 0;           // bytes of the message being written, after `pos`
  std::int64_t block_records = 0;    // records pushed from `block` so far
  bool writer_open = false;          // a fast-path writer is in progress on this producer
  UuidGenerator uuid;

  // Set while an enqueue is in progress; pairs with ClientCore::closed in a store-load
  // (Dekker) handshake, ordered by light_barrier()/heavy_barrier(), so that close() never
  // misses a message accepted concurrently.
  std::atomic<bool> active{false};
  std::atomic<std::uint64_t> accepted{0};
  std::array<std::atomic<std::uint64_t>, status_count> rejected{};

  // Lifetime handshake between the owning thread's exit and the client's destruction.
  std::mutex lifetime;
  bool client_alive = true;          // guarded by `lifetime`
  std::atomic<bool> abandoned{false};  // owner thread exited; another thread may adopt it

  // Serializer-only: records of this producer copied into batches (or failed). Own cache line:
  // the serializer writes it while the producer writes the fields above.
  alignas(cache_line) std::uint64_t consumed = 0;
};

// Counts one more on a counter only this thread writes: a plain load and store, no locked RMW.
inline void bump(std::atomic<std::uint64_t>& counter, std::uint64_t n = 1) noexcept {
  counter.store(counter.load(std::memory_order_relaxed) + n, std::memory_order_release);
}

// Every producer of one client. Finding this thread's producer is a thread_local compare on the
// hot path; the registry mutex is taken only on a thread's first message to a client.
class ProducerRegistry {
 public:
  ProducerRegistry(Ring& ring, BlockPool& pool) noexcept : ring_(ring), pool_(pool) {}
  ~ProducerRegistry();

  // This thread's producer for this client (created or adopted on first use); nullptr only if
  // memory ran out.
  Producer* for_this_thread(std::uint64_t client_id) noexcept;
  // Snapshot of all producers, for stats and flush. Takes the registry mutex.
  template <class F>
  void for_each(F&& f) const {
    std::lock_guard lock(mutex_);
    for (auto const& p : producers_) f(*p);
  }
  // Gives up `producer`'s current block: the serializer frees it once its records are copied.
  void retire_block(Producer& producer) noexcept;

 private:
  Producer* slow_lookup(std::uint64_t client_id) noexcept;

  Ring& ring_;
  BlockPool& pool_;
  mutable std::mutex mutex_;
  std::vector<std::shared_ptr<Producer>> producers_;
};

}  // namespace htevents::inline v0::detail
