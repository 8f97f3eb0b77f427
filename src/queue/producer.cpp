#include "queue/producer.hpp"

#include <pthread.h>

#include <algorithm>
#include <cassert>
#include <mutex>

namespace htevents::inline v0::detail {
namespace {

struct ThreadEntry {
  std::uint64_t client_id;
  std::shared_ptr<Producer> producer;
  ProducerRegistry* registry;
};

// A thread's producers, one per client it has used.
struct ThreadProducers {
  std::vector<ThreadEntry> entries;
};

// The thread's producers live on the heap behind trivially destructible thread_locals, and are
// cleaned up by a pthread key destructor. glibc runs key destructors after every C++
// thread_local destructor of the thread, so a user's thread_local whose destructor enqueues
// still finds its producer: it is retired only after that. (A C++ thread_local here would be
// destroyed first, and the thread would then reach a producer already adopted by another.)
thread_local ThreadProducers* tl_producers = nullptr;
// tl_last_client and tl_last_producer (producer.hpp) cache the last lookup in front of it.

// On thread exit each producer gives up its block and becomes adoptable, unless its client is
// already gone (checked under Producer::lifetime, the lock the client's destruction takes too).
void retire_thread_producers(void* data) noexcept {
  auto* producers = static_cast<ThreadProducers*>(data);
  tl_last_client = 0;
  tl_last_producer = nullptr;
  if (tl_producers == producers) tl_producers = nullptr;
  for (auto& entry : producers->entries) {
    std::lock_guard lock(entry.producer->lifetime);
    if (!entry.producer->client_alive) continue;
    hold_block(*entry.producer);  // a reclaimer may be taking the block right now
    entry.registry->retire_block(*entry.producer);
    unhold_block(*entry.producer);
    // Pairs with the acquire exchange in slow_lookup's adoption.
    entry.producer->abandoned.store(true, std::memory_order_release);
  }
  delete producers;
}

pthread_key_t thread_exit_key;
bool thread_exit_key_ok = false;

// The key that runs retire_thread_producers; created once, on the first producer of the process.
bool register_thread_exit(ThreadProducers* producers) noexcept {
  static std::once_flag once;
  std::call_once(once, [] { thread_exit_key_ok = pthread_key_create(&thread_exit_key, retire_thread_producers) == 0; });
  return thread_exit_key_ok && pthread_setspecific(thread_exit_key, producers) == 0;
}

ThreadProducers* this_thread_producers() noexcept {
  if (tl_producers != nullptr) return tl_producers;
  auto* producers = new (std::nothrow) ThreadProducers;
  if (producers == nullptr) return nullptr;
  if (!register_thread_exit(producers)) {
    delete producers;
    return nullptr;
  }
  tl_producers = producers;
  return producers;
}

}  // namespace

void accept_reclaim(Producer& producer) noexcept {
  // The reclaimer retired the block with the record count it read while we were idle.
  producer.block.store(nullptr, std::memory_order_relaxed);
  producer.block_records.store(0, std::memory_order_relaxed);
  producer.pos = 0;
  producer.draft = 0;
  producer.reclaim.store(Producer::reclaim_none, std::memory_order_relaxed);
}

ProducerRegistry::~ProducerRegistry() {
  std::lock_guard registry_lock(mutex_);
  for (auto& producer : producers_) {
    std::lock_guard lock(producer->lifetime);
    // Destroying a client while a thread is inside one of its calls is undefined
    // (docs/lifecycle.md): debug builds say so here, where it is cheap to see.
    assert(!producer->active.load() && !producer->holding.load() &&
           "htevents::Client destroyed while a thread was enqueueing on it");
    // Everything was consumed or failed by close(); what a producer still holds goes back to
    // the pool (which frees every block it allocated anyway). A block a reclaimer took is no
    // longer this producer's.
    Block* block = producer->block.load(std::memory_order_relaxed);
    if (block != nullptr && producer->reclaim.load(std::memory_order_acquire) != Producer::reclaim_taken) {
      pool_.release(block);
    }
    producer->block.store(nullptr, std::memory_order_relaxed);
    producer->token.reset();  // must go before the ring it points into
    producer->client_alive = false;
  }
}

Producer* ProducerRegistry::slow_lookup(std::uint64_t client_id) noexcept {
  if (refuse_.load(std::memory_order_relaxed)) return nullptr;
  ThreadProducers* thread_producers = this_thread_producers();
  if (thread_producers == nullptr) return nullptr;
  auto& entries = thread_producers->entries;
  // Forget producers of destroyed clients.
  std::erase_if(entries, [](ThreadEntry const& entry) {
    std::lock_guard lock(entry.producer->lifetime);
    return !entry.producer->client_alive;
  });
  for (auto const& entry : entries) {
    if (entry.client_id == client_id) {
      tl_last_client = client_id;
      tl_last_producer = entry.producer.get();
      return tl_last_producer;
    }
  }
  try {
    std::shared_ptr<Producer> producer;
    {
      std::lock_guard lock(mutex_);
      for (auto const& candidate : producers_) {
        // Adopt a producer whose thread has exited; pairs with the release store at thread exit.
        if (candidate->abandoned.load(std::memory_order_relaxed) &&
            candidate->abandoned.exchange(false, std::memory_order_acquire)) {
          producer = candidate;
          break;
        }
      }
      if (!producer) {
        producer = std::make_shared<Producer>(ring_);
        producers_.push_back(producer);
      }
    }
    entries.push_back(ThreadEntry{client_id, producer, this});
    tl_last_client = client_id;
    tl_last_producer = producer.get();
    return tl_last_producer;
  } catch (...) {
    return nullptr;
  }
}

void ProducerRegistry::retire(Block* block, std::int64_t pushed) noexcept {
  if (pushed == 0) {
    pool_.release(block);
    return;
  }
  // Pairs with the consumer's fetch_sub in IntakeConsumer::release: whoever reaches 0 frees.
  if (block->refs.fetch_add(pushed, std::memory_order_acq_rel) + pushed == 0) pool_.release(block);
}

void ProducerRegistry::retire_block(Producer& producer) noexcept {
  Block* block = producer.block.load(std::memory_order_relaxed);
  if (block == nullptr) return;
  std::int64_t const pushed = producer.block_records.load(std::memory_order_relaxed);
  producer.block.store(nullptr, std::memory_order_relaxed);
  producer.pos = 0;
  producer.block_records.store(0, std::memory_order_relaxed);
  retire(block, pushed);
}

std::size_t ProducerRegistry::reclaim_idle_blocks(Producer const* self) noexcept {
  std::unique_lock reclaiming(reclaim_mutex_, std::try_to_lock);
  if (!reclaiming.owns_lock()) return 0;
  auto& candidates = reclaim_candidates_;
  candidates.clear();
  try {
    std::lock_guard lock(mutex_);
    candidates.reserve(producers_.size());
    for (auto const& producer : producers_) {
      if (producer.get() == self || producer->block.load(std::memory_order_relaxed) == nullptr) continue;
      std::uint8_t expected = Producer::reclaim_none;
      if (producer->reclaim.compare_exchange_strong(expected, Producer::reclaim_requested, std::memory_order_acq_rel)) {
        candidates.push_back(producer.get());
      }
    }
  } catch (...) {
    // Out of memory for the list: cancel what was requested (below) and reclaim nothing.
    for (Producer* producer : candidates) {
      std::uint8_t expected = Producer::reclaim_requested;
      producer->reclaim.compare_exchange_strong(expected, Producer::reclaim_none, std::memory_order_acq_rel);
    }
    return 0;
  }
  if (candidates.empty()) return 0;
  // Pairs with light_barrier() in hold_block(): either we see `holding`, or the owner sees the
  // request (and then cancels it or accepts the loss of its block).
  heavy_barrier();
  std::size_t retired = 0;
  for (Producer* producer : candidates) {
    std::uint8_t expected = Producer::reclaim_requested;
    if (producer->holding.load(std::memory_order_acquire)) {
      producer->reclaim.compare_exchange_strong(expected, Producer::reclaim_none, std::memory_order_acq_rel);
      continue;
    }
    // Read while the owner is idle; used only if the owner has not cancelled in the meantime.
    Block* block = producer->block.load(std::memory_order_relaxed);
    std::int64_t const pushed = producer->block_records.load(std::memory_order_relaxed);
    if (!producer->reclaim.compare_exchange_strong(expected, Producer::reclaim_taken, std::memory_order_acq_rel)) {
      continue;  // the owner came back first and kept its block
    }
    if (block == nullptr) continue;
    retire(block, pushed);
    ++retired;
  }
  return retired;
}

}  // namespace htevents::inline v0::detail
