// Reclaiming idle producers' blocks (more live threads than blocks), on the registry alone.

#include <gtest/gtest.h>

#include <latch>
#include <thread>

#include "queue/block_pool.hpp"
#include "queue/producer.hpp"
#include "queue/ring.hpp"

namespace htevents::inline v0::detail {
namespace {

// Client ids are never reused (threads cache their last lookup by id): one per pipeline, far
// above those real clients take.
std::uint64_t fresh_client_id() {
  static std::atomic<std::uint64_t> next{std::uint64_t{1} << 62};
  return next++;
}

struct Pipeline {
  Ring ring{1024};
  BlockPool pool{4096, 2};
  ProducerRegistry registry{ring, pool};
  std::uint64_t const id = fresh_client_id();
};

// Gives `producer` a block from the pool, as MessageArena::grow does.
Block* give_block(Pipeline& p, Producer& producer) {
  Block* block = p.pool.try_acquire();
  if (block != nullptr) {
    block->owner = &producer;
    producer.block.store(block, std::memory_order_relaxed);
  }
  return block;
}

// Runs `body` on a thread of its own that keeps its producer (never exits while in use).
template <class Body>
void on_other_thread(Body body) {
  std::thread([&] { body(); }).join();
}

TEST(Reclaim, TakesTheBlockOfAnIdleProducerAndItsOwnerStartsWithout) {
  Pipeline p;
  Producer* idle = p.registry.for_this_thread(p.id);
  ASSERT_NE(idle, nullptr);
  Block* held = give_block(p, *idle);
  ASSERT_NE(held, nullptr);
  std::size_t reclaimed = 0;
  on_other_thread([&] {
    Producer* other = p.registry.for_this_thread(p.id);
    reclaimed = p.registry.reclaim_idle_blocks(*other);
    // The reclaimed block had no records: it is free again at once.
    EXPECT_EQ(p.pool.try_acquire(), held);
  });
  EXPECT_EQ(reclaimed, 1u);
  // The owner learns of it when it next holds its block.
  hold_block(*idle);
  EXPECT_EQ(idle->block.load(), nullptr);
  EXPECT_EQ(idle->reclaim.load(), Producer::reclaim_none);
  unhold_block(*idle);
}

TEST(Reclaim, LeavesAProducerThatHoldsItsBlock) {
  Pipeline p;
  Producer* busy = p.registry.for_this_thread(p.id);
  Block* held = give_block(p, *busy);
  hold_block(*busy);  // a writer is open: its draft lives in the block
  std::size_t reclaimed = 1;
  on_other_thread([&] {
    reclaimed = p.registry.reclaim_idle_blocks(*p.registry.for_this_thread(p.id));
  });
  EXPECT_EQ(reclaimed, 0u);
  EXPECT_EQ(busy->block.load(), held);
  EXPECT_EQ(busy->reclaim.load(), Producer::reclaim_none) << "the request is withdrawn";
  unhold_block(*busy);
}

// The owner saw a request (settle_reclaim's load), and before its CAS the reclaimer saw
// `holding` and withdrew the request: the owner must keep its block. It used to take the failed
// CAS for "taken" and forget the block unretired; its references never balanced and the block
// never came back (found by Edges.AsManyWritersAsBlocksAllGetOk under ThreadSanitizer).
TEST(Reclaim, ARequestWithdrawnBeforeTheOwnersAnswerLeavesTheBlockWithTheOwner) {
  Pipeline p;
  Producer* owner = p.registry.for_this_thread(p.id);
  Block* held = give_block(p, *owner);
  ASSERT_NE(held, nullptr);
  owner->block_records.store(5);
  owner->reclaim.store(Producer::reclaim_none);  // requested, then withdrawn by the reclaimer
  answer_reclaim(*owner);
  EXPECT_EQ(owner->block.load(), held) << "a withdrawn request took the block";
  EXPECT_EQ(owner->block_records.load(), 5);
  EXPECT_EQ(owner->reclaim.load(), Producer::reclaim_none);
}

TEST(Reclaim, TheOwnersAnswerCancelsARequestOrAcceptsATakenBlock) {
  Pipeline p;
  Producer* owner = p.registry.for_this_thread(p.id);
  Block* held = give_block(p, *owner);
  ASSERT_NE(held, nullptr);
  owner->reclaim.store(Producer::reclaim_requested);
  answer_reclaim(*owner);
  EXPECT_EQ(owner->block.load(), held) << "a pending request is cancelled: the block stays";
  EXPECT_EQ(owner->reclaim.load(), Producer::reclaim_none);
  owner->reclaim.store(Producer::reclaim_taken);  // the reclaimer retired it meanwhile
  answer_reclaim(*owner);
  EXPECT_EQ(owner->block.load(), nullptr);
  EXPECT_EQ(owner->reclaim.load(), Producer::reclaim_none);
  p.pool.release(held);
}

TEST(Reclaim, ABlockWithUnconsumedRecordsReturnsWhenTheyAreConsumed) {
  Pipeline p;
  Producer* idle = p.registry.for_this_thread(p.id);
  Block* held = give_block(p, *idle);
  idle->block_records.store(3);  // three records pushed, none consumed yet
  on_other_thread([&] {
    EXPECT_EQ(p.registry.reclaim_idle_blocks(*p.registry.for_this_thread(p.id)), 1u);
  });
  EXPECT_EQ(p.pool.blocks_in_use(), 1u) << "not free while its records wait";
  // The serializer's side: consuming the three brings the count to 0 and frees it.
  EXPECT_EQ(held->refs.fetch_sub(3), 3);
  p.pool.release(held);
  EXPECT_EQ(p.pool.blocks_in_use(), 0u);
}

TEST(Reclaim, NeverTakesTheCallersOwnBlock) {
  Pipeline p;
  Producer* self = p.registry.for_this_thread(p.id);
  ASSERT_NE(give_block(p, *self), nullptr);
  EXPECT_EQ(p.registry.reclaim_idle_blocks(*self), 0u);
  EXPECT_NE(self->block.load(), nullptr);
}

}  // namespace
}  // namespace htevents::inline v0::detail
