// The arena block pool alone: its budget, close()'s interrupt, and that it frees every block it
// allocated, whatever state the block was left in (run under LeakSanitizer in CI).

#include "queue/block_pool.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <thread>

namespace htevents::inline v0::detail {
namespace {

using namespace std::chrono_literals;

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

}  // namespace
}  // namespace htevents::inline v0::detail
