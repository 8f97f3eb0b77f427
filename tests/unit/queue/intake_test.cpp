// The intake alone: producers per thread, adoption of an exited thread's producer, the close
// handshake, and the consumer view (take, release, blocks back to the pool). No Client.

#include "queue/intake.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "message/message_arena.hpp"

namespace htevents::inline v0::detail {
namespace {

using namespace std::chrono_literals;

std::uint64_t fresh_client_id() {
  static std::atomic<std::uint64_t> next{(std::uint64_t{1} << 60) + 1};
  return next++;
}

IntakeOptions options(Backpressure backpressure = Backpressure::fail, std::size_t max_blocks = 4) {
  IntakeOptions o;
  o.block_capacity = 4096;
  o.max_blocks = max_blocks;
  o.max_message_bytes = 2048;
  o.backpressure = backpressure;
  o.enqueue_timeout = 10ms;
  return o;
}

Status push(Intake& intake, std::string_view json) {
  Producer* producer = intake.this_thread_producer();
  if (producer == nullptr) return intake.closed() ? intake.refusal() : Status::queue_full;
  if (!intake.begin_struct_enqueue(*producer)) {
    intake.end_struct_enqueue(*producer, intake.refusal());
    return intake.refusal();
  }
  MessageArena out(intake, *producer);
  out.raw(json);
  Status const status = out.finish();
  intake.end_struct_enqueue(*producer, status);
  return status;
}

TEST(Intake, OneProducerPerThreadAndIntake) {
  Intake a(fresh_client_id(), options());
  Intake b(fresh_client_id(), options());
  Producer* mine = a.this_thread_producer();
  ASSERT_NE(mine, nullptr);
  EXPECT_EQ(a.this_thread_producer(), mine) << "the same thread gets the same producer";
  EXPECT_NE(b.this_thread_producer(), mine) << "another intake has its own";
  Producer* other = nullptr;
  std::thread([&] {
    other = a.this_thread_producer();
    // Still running: its producer is not adoptable yet.
  }).join();
  EXPECT_NE(other, nullptr);
  EXPECT_NE(other, mine);
}

TEST(Intake, AThreadThatExitedLeavesItsProducerForTheNextThread) {
  Intake intake(fresh_client_id(), options());
  Producer* first = nullptr;
  std::thread([&] {
    ASSERT_EQ(push(intake, R"({"a":1})"), Status::ok);
    first = intake.this_thread_producer();
  }).join();
  ASSERT_NE(first, nullptr);
  EXPECT_EQ(first->block.load(), nullptr) << "thread exit retired the block";
  Producer* second = nullptr;
  std::thread([&] { second = intake.this_thread_producer(); }).join();
  EXPECT_EQ(second, first) << "adopted, counters and all";
  EXPECT_EQ(second->accepted.load(), 1u);
  std::size_t producers = 0;
  intake.for_each_producer([&](Producer const&) { ++producers; });
  EXPECT_EQ(producers, 1u);
}

TEST(Intake, ConsumerTakesRecordsAndReleasingThemFreesTheBlock) {
  Intake intake(fresh_client_id(), options());
  IntakeConsumer consumer(intake);
  ASSERT_EQ(push(intake, R"({"a":1})"), Status::ok);
  ASSERT_EQ(push(intake, R"({"a":22})"), Status::ok);
  EXPECT_EQ(intake.total_accepted(), 2u);
  Record records[4];
  ASSERT_EQ(consumer.take(records, 4), 2u);
  EXPECT_EQ(std::string_view(records[0].block->data() + records[0].offset, records[0].length), R"({"a":1})");
  EXPECT_EQ(std::string_view(records[1].block->data() + records[1].offset, records[1].length), R"({"a":22})");
  EXPECT_EQ(intake.queued_bytes(), 4096u) << "one block in use";
  consumer.release(records[0].block, 2);
  Producer* producer = intake.this_thread_producer();
  EXPECT_EQ(producer->consumed, 2u);
  EXPECT_EQ(intake.queued_bytes(), 4096u) << "the producer still writes into it";
  intake.retire_block(*producer);
  EXPECT_EQ(intake.queued_bytes(), 0u) << "retired and consumed: back in the pool";
}

TEST(Intake, StopRefusesEnqueuesAndInterruptsWaiters) {
  Intake intake(fresh_client_id(), options(Backpressure::block, 1));
  ASSERT_EQ(push(intake, R"({"a":1})"), Status::ok);
  intake.stop();
  EXPECT_TRUE(intake.closed());
  EXPECT_EQ(push(intake, R"({"a":2})"), Status::closed);
  intake.wait_for_enqueues_in_progress();  // none: returns at once
  EXPECT_EQ(intake.total_accepted(), 1u);
}

TEST(Intake, AFullQueueAnswersQueueFullUnderFail) {
  Intake intake(fresh_client_id(), options(Backpressure::fail, 1));
  std::string const big = R"({"p":")" + std::string(1500, 'x') + R"("})";
  int ok = 0;
  Status last = Status::ok;
  for (int i = 0; i < 10 && last == Status::ok; ++i) {
    last = push(intake, big);
    if (last == Status::ok) ++ok;
  }
  EXPECT_EQ(last, Status::queue_full);
  EXPECT_EQ(ok, 2) << "two of these fit one 4 KiB block";
  Producer* producer = intake.this_thread_producer();
  EXPECT_EQ(producer->rejected[static_cast<std::size_t>(Status::queue_full)].load(), 1u);
}

TEST(Intake, AForkChildRefusesWithForked) {
  Intake intake(fresh_client_id(), options());
  intake.refuse_in_fork_child();
  EXPECT_TRUE(intake.forked());
  EXPECT_EQ(intake.refusal(), Status::forked);
  EXPECT_EQ(push(intake, R"({"a":1})"), Status::forked);
}

}  // namespace
}  // namespace htevents::inline v0::detail
