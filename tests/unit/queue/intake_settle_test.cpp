// Settling a spooled batch's records (IntakeConsumer::settle): in order, the block's settled
// prefix (consumed_end) moves past them and no frame is touched; out of order, each frame is
// marked. Either way recovery (scan_arena over the arena's bytes) finds exactly the records
// not yet settled. Blocks live in an arena image in memory, laid out as the arena file is:
// with checked records (an arena mapped from the disk) and unchecked ones (a live arena).

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "message/message_arena.hpp"
#include "queue/intake.hpp"
#include "spool/format.hpp"

namespace htevents::inline v0::detail {
namespace {

using namespace std::chrono_literals;

constexpr std::size_t block_capacity = 4096;
constexpr std::size_t slots = 2;
constexpr std::size_t stride = spool::block_header_bytes + block_capacity;
constexpr std::size_t file_bytes = spool::arena_header_bytes + slots * stride;
// aligned_alloc wants a size that is a multiple of the alignment (ASan checks it).
constexpr std::size_t page = 4096;
constexpr std::size_t allocated_bytes = (file_bytes + page - 1) / page * page;

struct FreeDeleter {
  void operator()(char* p) const noexcept { std::free(p); }
};

class SettleTest : public ::testing::TestWithParam<bool> {
 protected:
  SettleTest() : file_(static_cast<char*>(std::aligned_alloc(page, allocated_bytes))) {
    std::memset(file_.get(), 0, allocated_bytes);
    bool const checked = GetParam();
    spool::write_arena_header(file_.get(), static_cast<std::uint32_t>(stride), slots, 0,
                              checked ? 0 : spool::arena_flag_live);
    IntakeOptions o;
    o.block_capacity = block_capacity;
    o.max_blocks = slots;
    o.max_message_bytes = 2048;
    o.backpressure = Backpressure::fail;
    o.enqueue_timeout = 10ms;
    o.arena = BlockArena{file_.get() + spool::arena_header_bytes, stride, slots, nullptr, &epoch_};
    o.record_frame = spool::record_frame_bytes;
    o.checksum_records = checked;
    static std::atomic<std::uint64_t> next_id{(std::uint64_t{1} << 61) + 1};
    intake_ = std::make_unique<Intake>(next_id++, o);
    consumer_ = std::make_unique<IntakeConsumer>(*intake_);
  }

  void push(std::string_view json) {
    Producer* producer = intake_->this_thread_producer();
    ASSERT_NE(producer, nullptr);
    ASSERT_TRUE(intake_->begin_struct_enqueue(*producer));
    MessageArena out(*intake_, *producer);
    out.raw(json);
    Status const status = out.finish();
    intake_->end_struct_enqueue(*producer, status);
    ASSERT_EQ(status, Status::ok);
  }

  // Settles records [first, first + count) of `records_` as one batch would.
  void settle(std::size_t first, std::size_t count) {
    HeldRecords held;
    for (std::size_t i = first; i < first + count; ++i) {
      held.frames.push_back(records_[i].block->data() + records_[i].offset - spool::record_frame_bytes);
    }
    held.runs.push_back(HeldRecords::Run{records_[first].block, static_cast<std::int64_t>(count)});
    consumer_->settle(held);
  }

  std::vector<std::string> recovered() const {
    spool::ArenaScan const scan = spool::scan_arena(std::string_view(file_.get(), file_bytes));
    EXPECT_TRUE(scan.usable);
    EXPECT_EQ(scan.corrupt, 0u);
    return {scan.records.begin(), scan.records.end()};
  }

  std::uint32_t frame_offset(std::size_t i) const {
    return records_[i].offset - static_cast<std::uint32_t>(spool::record_frame_bytes);
  }

  std::unique_ptr<char, FreeDeleter> file_;
  std::atomic<std::uint32_t> epoch_{0};
  std::unique_ptr<Intake> intake_;
  std::unique_ptr<IntakeConsumer> consumer_;
  Record records_[8];
};

TEST_P(SettleTest, InOrderBatchesMoveTheSettledPrefixOutOfOrderOnesMarkTheirFrames) {
  std::vector<std::string> sent;
  for (int i = 0; i < 6; ++i) {
    sent.push_back(R"({"n":)" + std::to_string(i) + R"(,"pad":"record-)" + std::string(i * 3, 'x') + R"("})");
    push(sent.back());
  }
  ASSERT_EQ(consumer_->take(records_, 8), 6u);
  Block* const block = records_[0].block;
  for (std::size_t i = 0; i < 6; ++i) {
    ASSERT_EQ(records_[i].block, block) << "all six in one block";
  }
  ASSERT_EQ(recovered(), sent) << "nothing settled yet: recovery finds all six";

  std::string const frame0(block->data() + frame_offset(0), spool::record_frame_bytes);
  settle(0, 2);  // in order: the prefix moves, the frames stay as written
  EXPECT_EQ(block->consumed_end.load(), frame_offset(2));
  EXPECT_EQ(std::string(block->data() + frame_offset(0), spool::record_frame_bytes), frame0)
      << "no mark written: the prefix settles them";
  EXPECT_EQ(recovered(), std::vector<std::string>(sent.begin() + 2, sent.end()));

  settle(4, 2);  // out of order: marked one by one, the prefix stays
  EXPECT_EQ(block->consumed_end.load(), frame_offset(2));
  EXPECT_EQ(recovered(), std::vector<std::string>(sent.begin() + 2, sent.begin() + 4));

  settle(2, 2);  // the gap closes: the prefix moves past it, onto the marked records
  EXPECT_EQ(block->consumed_end.load(), frame_offset(4));
  EXPECT_TRUE(recovered().empty()) << "every record settled once, none recovered";
}

TEST_P(SettleTest, ASingleRecordRunAtTheStartOfTheBlockMovesThePrefixPastIt) {
  push(R"({"only":1})");
  push(R"({"second":2})");
  ASSERT_EQ(consumer_->take(records_, 8), 2u);
  settle(0, 1);
  EXPECT_EQ(records_[0].block->consumed_end.load(), frame_offset(1));
  EXPECT_EQ(recovered(), std::vector<std::string>{R"({"second":2})"});
}

INSTANTIATE_TEST_SUITE_P(Records, SettleTest, ::testing::Values(true, false),
                         [](auto const& param_info) { return param_info.param ? "checked" : "unchecked"; });

}  // namespace
}  // namespace htevents::inline v0::detail
