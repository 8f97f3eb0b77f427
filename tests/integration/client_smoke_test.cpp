#include <gtest/gtest.h>

#include "support/client_fixture.hpp"

namespace htevents::testing {
namespace {

using namespace std::chrono_literals;

class ClientSmoke : public ClientWithCollector {};

TEST_F(ClientSmoke, DeliversAllSixTypes) {
  Client client(write_key, config());
  EXPECT_EQ(client.enqueue(Identify{.user_id = "u1", .traits = {{"name", "Ada"}}}), Status::ok);
  EXPECT_EQ(client.enqueue(Track{.user_id = "u1", .event = "Signed up"}), Status::ok);
  EXPECT_EQ(client.enqueue(Page{.anonymous_id = "a1", .name = "Home"}), Status::ok);
  EXPECT_EQ(client.enqueue(Screen{.user_id = "u1", .name = "Settings"}), Status::ok);
  EXPECT_EQ(client.enqueue(Group{.user_id = "u1", .group_id = "g1"}), Status::ok);
  EXPECT_EQ(client.enqueue(Alias{.user_id = "u2", .previous_id = "u1"}), Status::ok);
  ASSERT_TRUE(client.flush(5s));
  auto const s = client.stats();
  EXPECT_EQ(s.enqueued, 6u);
  EXPECT_EQ(s.delivered, 6u);
  auto const c = collector_.stats();
  EXPECT_EQ(c.unique_message_ids, 6u);
  EXPECT_EQ(c.by_type.identify, 1u);
  EXPECT_EQ(c.by_type.alias, 1u);
}

TEST_F(ClientSmoke, FastPathDelivers) {
  Client client(write_key, config());
  for (int i = 0; i < 1000; ++i) {
    ASSERT_EQ(client.track("Order completed").user_id("u").property("total", 29.99).property("currency", "USD")
                  .property("quantity", i).property("coupon", nullptr).send(),
              Status::ok);
  }
  ASSERT_TRUE(client.flush(5s));
  EXPECT_EQ(collector_.stats().unique_message_ids, 1000u);
  EXPECT_EQ(client.stats().delivered, 1000u);
}

}  // namespace
}  // namespace htevents::testing
