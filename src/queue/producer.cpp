#include "queue/producer.hpp"

#include <algorithm>

namespace htevents::inline v0::detail {
namespace {

struct ThreadEntry {
  std::uint64_t client_id;
  std::shared_ptr<Producer> producer;
  ProducerRegistry* registry;
};

// A thread's producers, one per client it has used. On thread exit each one gives up its block
// and becomes adoptable, unless its client is already gone (checked under Producer::lifetime,
// the lock the client's destruction takes too).
struct ThreadProducers {
  std::vector<ThreadEntry> entries;
  ~ThreadProducers() {
    for (auto& entry : entries) {
      std::lock_guard lock(entry.producer->lifetime);
      if (!entry.producer->client_alive) continue;
      entry.registry->retire_block(*entry.producer);
      // Pairs with the acquire exchange in slow_lookup's adoption.
      entry.producer->abandoned.store(true, std::memory_order_release);
    }
  }
};

thread_local ThreadProducers tl_producers;
// One-entry cache in front of tl_producers: the hot path is one compare. Client ids are never
// reused, so a stale entry for a destroyed client can never match.
thread_local std::uint64_t tl_last_client = 0;
thread_local Producer* tl_last_producer = nullptr;

}  // namespace

ProducerRegistry::~ProducerRegistry() {
  std::lock_guard registry_lock(mutex_);
  for (auto& producer : producers_) {
    std::lock_guard lock(producer->lifetime);
    // Everything was consumed or failed by close(); what a producer still holds goes back to
    // the pool, which frees it.
    if (producer->block != nullptr) pool_.release(producer->block);
    producer->block = nullptr;
    producer->token.reset();  // must go before the ring it points into
    producer->client_alive = false;
  }
}

Producer* ProducerRegistry::for_this_thread(std::uint64_t client_id) noexcept {
  if (tl_last_client == client_id) return tl_last_producer;
  return slow_lookup(client_id);
}

Producer* ProducerRegistry::slow_lookup(std::uint64_t client_id) noexcept {
  auto& entries = tl_producers.entries;
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

void ProducerRegistry::retire_block(Producer& producer) noexcept {
  Block* block = producer.block;
  if (block == nullptr) return;
  std::int64_t const pushed = producer.block_records;
  producer.block = nullptr;
  producer.pos = 0;
  producer.block_records = 0;
  if (pushed == 0) {
    pool_.release(block);
    return;
  }
  // Pairs with the serializer's fetch_sub in Serializer::release_records: whoever reaches 0 frees.
  if (block->refs.fetch_add(pushed, std::memory_order_acq_rel) + pushed == 0) pool_.release(block);
}

}  // namespace htevents::inline v0::detail
