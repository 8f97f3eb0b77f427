// Limits enqueue checks before a message is accepted: Segment's 100-character messageId, on the
// struct API and the fast path alike, and a RawJson value far over max_message_bytes, refused as
// too large before it is parsed.
#include <gtest/gtest.h>

#include <chrono>
#include <cstddef>
#include <string>

#include "htevents/htevents.hpp"

namespace htevents {
namespace {

using namespace std::chrono_literals;

// Nothing listens on port 1: accepted messages fail at close, which is all these tests need.
class EnqueueLimits : public ::testing::Test {
 protected:
  static Config unreachable() {
    Config c;
    c.endpoint = "http://127.0.0.1:1";
    c.max_attempts = 1;
    c.request_timeout = 1000ms;
    return c;
  }
  void TearDown() override { client_.close(0ms); }

  std::size_t rejected(Status status) const {
    return client_.stats().rejected_by_status[static_cast<std::size_t>(status)];
  }

  Client client_{"key", unreachable()};
};

std::string id_of(std::size_t characters, std::string const& character = "i") {
  std::string id;
  for (std::size_t i = 0; i < characters; ++i) id += character;
  return id;
}

TEST_F(EnqueueLimits, StructMessageIdOf100CharactersIsAcceptedAnd101Refused) {
  for (std::size_t const n : {std::size_t{100}, std::size_t{101}}) {
    Status const expected = n == 100 ? Status::ok : Status::invalid_message_id;
    std::string const id = id_of(n);
    SCOPED_TRACE(n);
    EXPECT_EQ(client_.enqueue(Identify{.user_id = "u", .message_id = id}), expected);
    EXPECT_EQ(client_.enqueue(Track{.user_id = "u", .event = "e", .message_id = id}), expected);
    EXPECT_EQ(client_.enqueue(Page{.user_id = "u", .message_id = id}), expected);
    EXPECT_EQ(client_.enqueue(Screen{.anonymous_id = "a", .message_id = id}), expected);
    EXPECT_EQ(client_.enqueue(Group{.user_id = "u", .group_id = "g", .message_id = id}), expected);
    EXPECT_EQ(client_.enqueue(Alias{.user_id = "u", .previous_id = "p", .message_id = id}), expected);
  }
  EXPECT_EQ(rejected(Status::invalid_message_id), 6u);
}

TEST_F(EnqueueLimits, MessageIdLimitCountsCharactersNotBytes) {
  // "é" is two bytes: 100 of them (200 bytes) are 100 characters.
  EXPECT_EQ(client_.enqueue(Track{.user_id = "u", .event = "e", .message_id = id_of(100, "\xC3\xA9")}), Status::ok);
  EXPECT_EQ(client_.enqueue(Track{.user_id = "u", .event = "e", .message_id = id_of(101, "\xC3\xA9")}),
            Status::invalid_message_id);
  EXPECT_EQ(client_.track("e").user_id("u").message_id(id_of(100, "\xC3\xA9")).send(), Status::ok);
  EXPECT_EQ(client_.track("e").user_id("u").message_id(id_of(101, "\xC3\xA9")).send(), Status::invalid_message_id);
}

TEST_F(EnqueueLimits, FastPathMessageIdOf100CharactersIsAcceptedAnd101Refused) {
  for (std::size_t const n : {std::size_t{100}, std::size_t{101}}) {
    Status const expected = n == 100 ? Status::ok : Status::invalid_message_id;
    std::string const id = id_of(n);
    SCOPED_TRACE(n);
    EXPECT_EQ(client_.track("e").user_id("u").message_id(id).property("k", 1).send(), expected);
    EXPECT_EQ(client_.identify().user_id("u").message_id(id).send(), expected);
    EXPECT_EQ(client_.page("p").anonymous_id("a").message_id(id).send(), expected);
    EXPECT_EQ(client_.screen("s").user_id("u").message_id(id).send(), expected);
    EXPECT_EQ(client_.group("g").user_id("u").message_id(id).trait("k", "v").send(), expected);
    EXPECT_EQ(client_.alias("p").user_id("u").message_id(id).send(), expected);
  }
  EXPECT_EQ(rejected(Status::invalid_message_id), 6u);
  // A refused writer leaves nothing behind: the next message on this thread goes through.
  EXPECT_EQ(client_.track("e").user_id("u").send(), Status::ok);
}

// Unbalanced brackets: invalid JSON, so a parse before the size check would say invalid_json.
RawJson far_too_large() { return RawJson{std::string(1'000'000, '[')}; }

TEST_F(EnqueueLimits, RawJsonFarOverMaxMessageBytesIsTooLargeBeforeItIsParsed) {
  Properties const properties{{"blob", far_too_large()}};
  EXPECT_EQ(client_.enqueue(Track{.user_id = "u", .event = "e", .properties = properties}), Status::message_too_large);
  EXPECT_EQ(client_.track("e").user_id("u").property("blob", Value(far_too_large())).send(), Status::message_too_large);
  EXPECT_EQ(client_.identify().user_id("u").context(Object{{"nested", Array{far_too_large()}}}).send(),
            Status::message_too_large);
  // Small invalid RawJson is still invalid_json, small valid RawJson still accepted.
  EXPECT_EQ(client_.enqueue(Track{.user_id = "u", .event = "e", .properties = {{"blob", RawJson{"[["}}}}),
            Status::invalid_json);
  EXPECT_EQ(client_.enqueue(Track{.user_id = "u", .event = "e", .properties = {{"blob", RawJson{"[[]]"}}}}), Status::ok);
}

// The fast path checks max_message_bytes at send(), after its generated ending (messageId,
// timestamp): property values whose messages grow from under the limit to over it are accepted
// up to one length and refused from the next on, each refusal discards its draft (the message
// after it is accepted whole) and every refusal is counted.
TEST_F(EnqueueLimits, FastPathMessagesAroundMaxMessageBytesSwitchOnceFromOkToTooLarge) {
  std::size_t const limit = Config{}.max_message_bytes;
  std::size_t accepted = 0;
  std::size_t refused = 0;
  std::size_t first_refused = 0;
  for (std::size_t n = limit - 200; n <= limit + 20; ++n) {
    SCOPED_TRACE(n);
    Status const status = client_.track("e").user_id("u").property("v", std::string(n, 'x')).send();
    if (status == Status::ok) {
      EXPECT_EQ(refused, 0u) << "accepted after a shorter one was refused";
      ++accepted;
    } else {
      EXPECT_EQ(status, Status::message_too_large);
      if (refused++ == 0) first_refused = n;
    }
    ASSERT_EQ(client_.track("e").user_id("u").property("k", 1).send(), Status::ok);
  }
  EXPECT_GT(accepted, 0u);
  EXPECT_GT(refused, 0u);
  EXPECT_GT(first_refused, limit - 200);
  EXPECT_LE(first_refused, limit);
  EXPECT_EQ(rejected(Status::message_too_large), refused);
  EXPECT_EQ(client_.stats().enqueued, 2 * accepted + refused);
}

}  // namespace
}  // namespace htevents
