// The batch envelope and the batch pool alone: the bytes around the messages, a refreshed
// sentAt that keeps messages and messageId, and buffers that come back.

#include "batch/envelope.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "batch/batch_pool.hpp"

namespace htevents::inline v0::detail {
namespace {

TEST(Envelope, WrapsTheMessagesWithSentAtMessageIdAndContext) {
  Envelope envelope(Object{});
  Batch batch(4096, 8);
  Envelope::open(batch);
  Envelope::append(batch, R"({"a":1})");
  Envelope::append(batch, R"({"b":2})");
  batch.id.fill('7');
  envelope.close(batch, std::chrono::system_clock::time_point{});
  std::string const body(batch.body.view());
  EXPECT_EQ(body.rfind(R"({"batch":[{"a":1},{"b":2}],"sentAt":"1970-01-01T00:00:00Z")", 0), 0u) << body;
  EXPECT_NE(body.find(R"("messageId":")" + std::string(36, '7') + '"'), std::string::npos) << body;
  EXPECT_NE(body.find(R"("context":{"library":{"name":"events-sdk-cpp")"), std::string::npos) << body;
  EXPECT_EQ(body.back(), '}');
  EXPECT_LE(body.size() - std::string_view(R"({"a":1},{"b":2})").size(), envelope.max_bytes());
  ASSERT_EQ(batch.messages.size(), 2u);
  EXPECT_EQ(batch.message(1), R"({"b":2})");
}

TEST(Envelope, ClosingAgainRefreshesSentAtOnly) {
  Envelope envelope(Object{});
  Batch batch(4096, 8);
  Envelope::open(batch);
  Envelope::append(batch, R"({"a":1})");
  batch.id.fill('a');
  envelope.close(batch, std::chrono::system_clock::time_point{});
  std::string const first(batch.body.view());
  envelope.close(batch, std::chrono::system_clock::time_point{} + std::chrono::hours(24));
  std::string const second(batch.body.view());
  EXPECT_NE(second.find(R"("sentAt":"1970-01-02T00:00:00Z")"), std::string::npos) << second;
  EXPECT_EQ(first.size(), second.size());
  EXPECT_EQ(first.substr(first.find(R"(,"messageId")")), second.substr(second.find(R"(,"messageId")")));
  EXPECT_EQ(batch.message(0), R"({"a":1})");
}

TEST(BatchPool, HandsOutItsBuffersAndTakesThemBack) {
  BatchPool pool(2, 1024, 4);
  Batch* a = pool.try_take();
  Batch* b = pool.try_take();
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(pool.try_take(), nullptr);
  EXPECT_EQ(pool.free_count(), 0u);
  pool.give_back(a);
  EXPECT_EQ(pool.try_take(), a);
  EXPECT_EQ(pool.size(), 2u);
}

}  // namespace
}  // namespace htevents::inline v0::detail
