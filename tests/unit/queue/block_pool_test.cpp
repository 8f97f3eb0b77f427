// The arena block pool alone: its budget, close()'s interrupt, that a returned block goes to the
// thread that has waited longest, and that it frees every block it allocated, whatever state the
// block was left in (run under LeakSanitizer in CI).

#include "queue/block_pool.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <future>
#include <memory>
#include <thread>
#include <vector>

namespace htevents::inline v0::detail {
namespace {

using namespace std::chrono_literals;

auto far_deadline() { return std::chrono::steady_clock::now() + std::chrono::hours(1); }

// Until `n` threads wait in acquire_until (an ordering precondition, not a timing assumption).
void wait_for_waiters(BlockPool const& pool, std::size_t n) {
  while (pool.waiting() < n) std::this_thread::yield();
}

TEST(BlockPool, HandsOutAtMostItsBudget) {
  BlockPool pool(4096, 3);
  Block* a = pool.try_acquire();
  Block* b = pool.try_acquire();
  Block* c = pool.try_acquire();
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(pool.try_acquire(), nullptr);
  EXPECT_EQ(pool.blocks_in_use(), 3u);
  pool.release(b);
  EXPECT_EQ(pool.try_acquire(), b) << "a released block is reused";
}

// Blocks still out when the pool goes (a close() deadline cut their records off, or a producer
// held one) and spare blocks are all freed: LeakSanitizer reports them otherwise.
TEST(BlockPool, FreesBlocksThatWereNeverReturned) {
  auto pool = std::make_unique<BlockPool>(4096, 8);
  for (int i = 0; i < 3; ++i) ASSERT_NE(pool->try_acquire(), nullptr);
  pool->keep_spare(4);
  EXPECT_EQ(pool->blocks_in_use(), 3u);
  pool.reset();
}

TEST(BlockPool, InterruptWakesAWaiterAndLaterWaitsReturnAtOnce) {
  BlockPool pool(4096, 1);
  Block* only = pool.try_acquire();
  ASSERT_NE(only, nullptr);
  auto waiter = std::async(std::launch::async, [&] {
    return pool.acquire_until(std::chrono::steady_clock::now() + std::chrono::hours(1));
  });
  pool.interrupt();
  ASSERT_EQ(waiter.wait_for(60s), std::future_status::ready) << "interrupt() did not wake the waiter";
  EXPECT_EQ(waiter.get(), nullptr);
  EXPECT_TRUE(pool.interrupted());
  EXPECT_EQ(pool.acquire_until(std::chrono::steady_clock::now() + std::chrono::hours(1)), nullptr);
  pool.release(only);
  EXPECT_EQ(pool.acquire_until(std::chrono::steady_clock::now() + std::chrono::hours(1)), only)
      << "a free block is still handed out after interrupt()";
}

// A thread that only tries (try_acquire, as every producer does first) does not take a block
// from one that waits for it: the waiter could otherwise wait through any number of returns,
// into its enqueue_timeout.
TEST(BlockPool, AReturnedBlockGoesToAWaiterNotToAThreadThatOnlyTries) {
  BlockPool pool(4096, 1);
  Block* only = pool.try_acquire();
  ASSERT_NE(only, nullptr);
  for (int round = 0; round < 50; ++round) {
    auto waiter = std::async(std::launch::async, [&] { return pool.acquire_until(far_deadline()); });
    wait_for_waiters(pool, 1);
    pool.release(only);
    if (Block* taken = pool.try_acquire(); taken != nullptr) {
      ADD_FAILURE() << "round " << round << ": the block went past its waiter";
      pool.release(taken);  // and on to the waiter, so that the test ends
    }
    ASSERT_EQ(waiter.wait_for(60s), std::future_status::ready);
    only = waiter.get();
    ASSERT_NE(only, nullptr) << "round " << round;
  }
  EXPECT_EQ(pool.blocks_in_use(), 1u);
}

// Waiters are served in the order they began to wait.
TEST(BlockPool, WaitersGetReturnedBlocksInTheOrderTheyBeganToWait) {
  constexpr std::size_t waiters = 6;
  BlockPool pool(4096, waiters);
  std::vector<Block*> held;
  for (std::size_t i = 0; i < waiters; ++i) held.push_back(pool.try_acquire());
  std::vector<std::future<Block*>> waiting;
  for (std::size_t i = 0; i < waiters; ++i) {
    waiting.push_back(std::async(std::launch::async, [&] { return pool.acquire_until(far_deadline()); }));
    wait_for_waiters(pool, i + 1);
  }
  for (std::size_t i = 0; i < waiters; ++i) {
    pool.release(held[i]);
    ASSERT_EQ(waiting[i].wait_for(60s), std::future_status::ready) << "waiter " << i << " was passed over";
    EXPECT_EQ(waiting[i].get(), held[i]) << "waiter " << i;
    for (std::size_t later = i + 1; later < waiters; ++later) {
      EXPECT_EQ(waiting[later].wait_for(0s), std::future_status::timeout) << "waiter " << later << " before " << i;
    }
  }
}

// A waiter whose deadline passes leaves the line: the next block goes to the one behind it, and
// none is handed to a thread that has gone.
TEST(BlockPool, AWaiterThatTimesOutLeavesTheLine) {
  BlockPool pool(4096, 1);
  Block* only = pool.try_acquire();
  ASSERT_NE(only, nullptr);
  auto first = std::async(std::launch::async, [&] {
    return pool.acquire_until(std::chrono::steady_clock::now() + std::chrono::milliseconds(20));
  });
  wait_for_waiters(pool, 1);
  auto second = std::async(std::launch::async, [&] { return pool.acquire_until(far_deadline()); });
  wait_for_waiters(pool, 2);
  EXPECT_EQ(first.get(), nullptr);
  wait_for_waiters(pool, 1);
  EXPECT_EQ(pool.waiting(), 1u);
  pool.release(only);
  ASSERT_EQ(second.wait_for(60s), std::future_status::ready);
  EXPECT_EQ(second.get(), only);
  EXPECT_EQ(pool.waiting(), 0u);
  EXPECT_EQ(pool.blocks_in_use(), 1u);
}

// A spool's sync reads a block's records in place, and release() waits until it is done with
// that block. It waits without the pool's lock: every other thread that returns or wants a
// block goes on meanwhile (a sync thread preempted mid-walk would stall them all otherwise).
TEST(BlockPool, ReleasingABlockTheSyncIsReadingHoldsUpNoOtherThread) {
  constexpr std::size_t capacity = 4096, slots = 2, stride = sizeof(Block) + capacity;
  std::unique_ptr<char, decltype(&std::free)> memory(static_cast<char*>(std::aligned_alloc(64, slots * stride)),
                                                     &std::free);
  std::atomic<char const*> walking{nullptr};
  std::atomic<std::uint32_t> epoch{0};
  BlockPool pool(capacity, slots, BlockArena{memory.get(), stride, slots, &walking, &epoch});
  Block* read = pool.try_acquire();
  Block* other = pool.try_acquire();
  ASSERT_NE(read, nullptr);
  ASSERT_NE(other, nullptr);
  walking.store(reinterpret_cast<char const*>(read));  // this thread plays the sync, mid-walk
  auto releasing = std::async(std::launch::async, [&] { pool.release(read); });
  // release() marks the block free (generation 0) first, then waits for the walk to end.
  while (read->generation.load() != 0) std::this_thread::yield();
  auto meanwhile = std::async(std::launch::async, [&] {
    pool.release(other);
    return pool.try_acquire();
  });
  bool const went_on = meanwhile.wait_for(30s) == std::future_status::ready;
  walking.store(nullptr);  // the walk ends: the held-up release (and, before, everyone) goes on
  EXPECT_TRUE(went_on) << "another thread's release and try_acquire waited for the sync's walk";
  EXPECT_EQ(meanwhile.get(), other);
  ASSERT_EQ(releasing.wait_for(60s), std::future_status::ready);
  EXPECT_EQ(pool.try_acquire(), read);
}

}  // namespace
}  // namespace htevents::inline v0::detail
