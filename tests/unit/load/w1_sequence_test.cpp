// load::W1Sequence steps W1's ids in place and W1Refill reuses a Track: every step must
// give exactly what W1Ids and w1_event build from scratch, across the carries (9 -> 10,
// 99 -> 100), the quantity's wrap at 10 and the sku's at 1000.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>

#include "load/w1.hpp"

namespace {

using htevents::load::W1Refill;
using htevents::load::w1_event;
using htevents::load::W1Ids;
using htevents::load::W1Sequence;

void expect_same_ids_from(std::uint64_t first, std::uint64_t count) {
  W1Sequence sequence(first);
  for (std::uint64_t i = first; i < first + count; ++i) {
    W1Ids const expected(i);
    ASSERT_EQ(sequence.index(), i);
    ASSERT_EQ(sequence.ids().user_id(), expected.user_id()) << "event " << i;
    ASSERT_EQ(sequence.ids().product_id(), expected.product_id()) << "event " << i;
    ASSERT_EQ(sequence.ids().quantity, expected.quantity) << "event " << i;
    ASSERT_EQ(expected.quantity, i % 10);
    sequence.advance();
  }
}

TEST(W1Sequence, MatchesW1IdsFromZeroAcrossEveryCarryAndTheSkuWrap) { expect_same_ids_from(0, 12'345); }

TEST(W1Sequence, MatchesW1IdsFromAnyStartAcrossAWidthChange) {
  expect_same_ids_from(99'990, 30);                   // user-99999 -> user-100000
  expect_same_ids_from(999'999'999'999'999'990, 30);  // 18 digits -> 19
}

TEST(W1Sequence, StepsFromAThreadsFirstEventLikeLoadSplitsThem) {
  std::uint64_t const events = 1'000'000;
  for (unsigned t = 0; t < 8; ++t) expect_same_ids_from(events * t / 8, 2'000);
}

// load's struct run refills one Track per thread: each refill must equal w1_event(i) in every
// field the encoder reads, members in the same order.
TEST(W1Sequence, ARefilledTrackEqualsTheEventBuiltFromScratch) {
  W1Sequence sequence(995);
  htevents::Track event = w1_event(995);
  W1Refill refill(event);
  for (std::uint64_t i = 995; i < 1'012; ++i) {
    refill(sequence.ids());
    htevents::Track const expected = w1_event(i);
    ASSERT_EQ(event.user_id, expected.user_id) << "event " << i;
    ASSERT_EQ(event.event, expected.event);
    ASSERT_EQ(event.properties, expected.properties) << "event " << i;
    ASSERT_TRUE(event.anonymous_id.empty() && event.message_id.empty() && !event.timestamp.has_value());
    sequence.advance();
  }
}

// A Track of another shape still gets W1's two changing fields, of W1's types, and keeps the
// rest; a second W1Refill, on a copy, gives the same.
TEST(W1Sequence, ARefillGivesAnotherShapeW1sChangingFields) {
  htevents::Track event{.user_id = "someone", .event = "Other", .properties = {{"quantity", "three"}, {"x", 1}}};
  W1Refill refill(event);
  refill(htevents::load::W1Ids(1'234));
  EXPECT_EQ(event.user_id, "user-1234");
  EXPECT_EQ(event.properties,
            (htevents::Object{{"quantity", std::uint64_t{4}}, {"x", 1}, {"product_id", "sku-234"}}));
  htevents::Track again = event;
  W1Refill{again}(htevents::load::W1Ids(7));
  EXPECT_EQ(again.properties,
            (htevents::Object{{"quantity", std::uint64_t{7}}, {"x", 1}, {"product_id", "sku-7"}}));
}

}  // namespace
