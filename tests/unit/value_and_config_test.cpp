// The public value types, Status texts, Config validation and Stats::to_json: everything that
// can be checked without a collector.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <limits>
#include <set>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "htevents/htevents.hpp"

namespace htevents {
namespace {

using namespace std::chrono_literals;

// ---- Value, Array, Object ----

TEST(Value, ApiSnippetCompilesAndMeansWhatItSays) {
  Properties p{{"total", 29.99}, {"currency", "USD"}, {"quantity", 3}, {"coupon", nullptr},
               {"tags", Array{"a", "b"}}, {"item", Object{{"sku", "x"}}}};
  p.set("revenue", 10);

  ASSERT_EQ(p.size(), 7u);
  std::vector<std::string> keys;
  for (auto const& m : p.members()) keys.push_back(m.key);
  EXPECT_EQ(keys, (std::vector<std::string>{"total", "currency", "quantity", "coupon", "tags", "item", "revenue"}));

  ASSERT_NE(p.find("total"), nullptr);
  ASSERT_TRUE(p.find("total")->is<double>());
  EXPECT_EQ(*p.find("total")->get_if<double>(), 29.99);
  ASSERT_TRUE(p.find("currency")->is<std::string>());
  EXPECT_EQ(*p.find("currency")->get_if<std::string>(), "USD");
  ASSERT_TRUE(p.find("quantity")->is<std::int64_t>());
  EXPECT_EQ(*p.find("quantity")->get_if<std::int64_t>(), 3);
  EXPECT_TRUE(p.find("coupon")->is<std::nullptr_t>());
  ASSERT_TRUE(p.find("tags")->is<Array>());
  EXPECT_EQ(*p.find("tags")->get_if<Array>(), (Array{"a", "b"}));
  ASSERT_TRUE(p.find("item")->is<Object>());
  Object const& item = *p.find("item")->get_if<Object>();
  ASSERT_EQ(item.size(), 1u);
  ASSERT_NE(item.find("sku"), nullptr);
  EXPECT_EQ(*item.find("sku"), Value("x"));
  ASSERT_TRUE(p.find("revenue")->is<std::int64_t>());
  EXPECT_EQ(*p.find("revenue")->get_if<std::int64_t>(), 10);
}

TEST(Object, SetReplacesInPlaceAndKeepsOrder) {
  Object o{{"a", 1}, {"b", 2}, {"c", 3}};
  o.set("b", "two");
  ASSERT_EQ(o.size(), 3u);
  EXPECT_EQ(o.members()[0].key, "a");
  EXPECT_EQ(o.members()[1].key, "b");
  EXPECT_EQ(o.members()[1].value, Value("two"));
  EXPECT_EQ(o.members()[2].key, "c");
  o.set("d", 4);
  ASSERT_EQ(o.size(), 4u);
  EXPECT_EQ(o.members().back().key, "d");
}

TEST(Object, FindAndEraseByKey) {
  Object o{{"a", 1}, {"b", 2}};
  EXPECT_EQ(o.find("missing"), nullptr);
  EXPECT_TRUE(o.erase("a"));
  EXPECT_FALSE(o.erase("a"));
  EXPECT_EQ(o.find("a"), nullptr);
  ASSERT_EQ(o.size(), 1u);
  EXPECT_EQ(o.members()[0].key, "b");
  Object empty;
  EXPECT_TRUE(empty.empty());
  EXPECT_EQ(empty.find("a"), nullptr);
}

TEST(Object, FindOnAMutableObjectChangesTheValueInPlace) {
  Object o{{"sku", "sku-1"}, {"quantity", std::uint64_t{1}}, {"total", 1.5}};
  Value* const sku = o.find("sku");
  ASSERT_NE(sku, nullptr);
  std::string* const text = sku->get_if<std::string>();
  ASSERT_NE(text, nullptr);
  EXPECT_EQ(sku->get_if<double>(), nullptr) << "another alternative than the one held";
  std::string const* const storage = &std::get<std::string>(sku->storage());
  text->assign("sku-42");
  *o.find("quantity")->get_if<std::uint64_t>() = 7;
  *o.find("total") = "now a string";
  EXPECT_EQ(o.find("missing"), nullptr);
  EXPECT_EQ(o, (Object{{"sku", "sku-42"}, {"quantity", std::uint64_t{7}}, {"total", "now a string"}}));
  EXPECT_EQ(&std::get<std::string>(o.find("sku")->storage()), storage) << "changed in place, not replaced";
  Object const& read_only = o;
  EXPECT_EQ(read_only.find("sku"), sku) << "both overloads find the same member";
}

TEST(Value, StringLiteralNeverBecomesBool) {
  Value const literal = "yes";
  EXPECT_TRUE(literal.is<std::string>());
  char const* pointer = "no";
  Value const from_pointer = pointer;
  EXPECT_TRUE(from_pointer.is<std::string>());
  EXPECT_EQ(*from_pointer.get_if<std::string>(), "no");
  Object const o{{"k", "v"}};
  EXPECT_TRUE(o.find("k")->is<std::string>());
  Array const a{"x", true};
  EXPECT_TRUE(a.items()[0].is<std::string>());
  EXPECT_TRUE(a.items()[1].is<bool>());
  // Only an actual bool is a bool.
  EXPECT_TRUE(Value(true).is<bool>());
  EXPECT_TRUE(Value(false).is<bool>());
  EXPECT_TRUE(Value(std::string_view("sv")).is<std::string>());
  EXPECT_TRUE(Value(std::string("s")).is<std::string>());
}

template <class T>
void expect_int64(T v) {
  Value const value = v;
  ASSERT_TRUE(value.is<std::int64_t>()) << typeid(T).name();
  EXPECT_EQ(*value.get_if<std::int64_t>(), static_cast<std::int64_t>(v));
}

template <class T>
void expect_uint64(T v) {
  Value const value = v;
  ASSERT_TRUE(value.is<std::uint64_t>()) << typeid(T).name();
  EXPECT_EQ(*value.get_if<std::uint64_t>(), static_cast<std::uint64_t>(v));
}

TEST(Value, SignedIntegersBecomeInt64) {
  expect_int64(static_cast<signed char>(-5));
  expect_int64(static_cast<short>(-300));
  expect_int64(-70000);
  expect_int64(-7000000000L);
  expect_int64(std::numeric_limits<long long>::min());
  expect_int64(std::numeric_limits<std::int64_t>::max());
  expect_int64(std::int32_t{42});
}

TEST(Value, UnsignedIntegersBecomeUint64) {
  expect_uint64(static_cast<unsigned char>(200));
  expect_uint64(static_cast<unsigned short>(60000));
  expect_uint64(4000000000u);
  expect_uint64(std::size_t{123});
  expect_uint64(std::numeric_limits<std::uint64_t>::max());
  expect_uint64(std::uint8_t{7});
}

TEST(Value, OtherKindsKeepTheirType) {
  EXPECT_TRUE(Value().is<std::nullptr_t>());
  EXPECT_TRUE(Value(nullptr).is<std::nullptr_t>());
  EXPECT_TRUE(Value(1.5f).is<double>());
  EXPECT_EQ(*Value(1.5f).get_if<double>(), 1.5);
  EXPECT_TRUE(Value(2.25).is<double>());
  Timestamp const t = std::chrono::sys_days{std::chrono::year{2009} / 11 / 10} + 23h;
  ASSERT_TRUE(Value(t).is<Timestamp>());
  EXPECT_EQ(*Value(t).get_if<Timestamp>(), t);
  ASSERT_TRUE(Value(RawJson{"{\"a\":1}"}).is<RawJson>());
  EXPECT_EQ(Value(RawJson{"{\"a\":1}"}).get_if<RawJson>()->text, "{\"a\":1}");
  EXPECT_TRUE(Value(Array{}).is<Array>());
  EXPECT_TRUE(Value(Object{}).is<Object>());
  EXPECT_EQ(Value(nullptr).get_if<bool>(), nullptr);
}

TEST(Array, PushBackAndCompare) {
  Array a;
  EXPECT_TRUE(a.empty());
  a.push_back(1);
  a.push_back("two");
  a.push_back(Array{3.0});
  ASSERT_EQ(a.size(), 3u);
  EXPECT_EQ(a, (Array{1, "two", Array{3.0}}));
  EXPECT_NE(a, (Array{1, "two"}));
}

// ---- Status ----

TEST(Status, EveryValueHasADistinctSentence) {
  std::set<std::string> seen;
  for (std::size_t i = 0; i < status_count; ++i) {
    auto const text = to_string(static_cast<Status>(i));
    EXPECT_FALSE(text.empty()) << i;
    EXPECT_NE(text, "unknown status") << i;
    EXPECT_TRUE(seen.insert(std::string(text)).second) << "duplicate text for status " << i << ": " << text;
  }
  EXPECT_EQ(seen.size(), status_count);
  EXPECT_EQ(static_cast<std::size_t>(Status::forked) + 1, status_count);
}

TEST(FailureReason, EveryValueHasADistinctSentence) {
  std::set<std::string> seen;
  for (auto r : {FailureReason::rejected, FailureReason::retries_exhausted, FailureReason::deadline,
                 FailureReason::evicted}) {
    auto const text = to_string(r);
    EXPECT_FALSE(text.empty());
    EXPECT_TRUE(seen.insert(std::string(text)).second) << text;
  }
}

// ---- Config ----

static_assert(std::is_base_of_v<std::invalid_argument, ConfigError>);

Config valid_config() {
  Config c;
  c.endpoint = "http://127.0.0.1:9";  // never contacted: nothing is enqueued
  return c;
}

// The what() of the ConfigError the constructor throws, or "no throw" / "other exception".
std::string construction_error(Config const& config, std::string const& write_key = "key") {
  try {
    Client client(write_key, config);
    return "no throw";
  } catch (ConfigError const& e) {
    return e.what();
  } catch (...) {
    return "other exception";
  }
}

TEST(Config, DefaultsAreValid) {
  EXPECT_EQ(construction_error(valid_config()), "no throw");
}

TEST(Config, RejectsEmptyWriteKey) {
  EXPECT_NE(construction_error(valid_config(), "").find("write_key"), std::string::npos);
}

struct BadField {
  char const* field;
  std::function<void(Config&)> spoil;
};

TEST(Config, EachBadFieldThrowsConfigErrorNamingIt) {
  std::vector<BadField> const cases = {
      {"endpoint", [](Config& c) { c.endpoint = "127.0.0.1:8080"; }},
      {"endpoint", [](Config& c) { c.endpoint = "ftp://example.com"; }},
      {"endpoint", [](Config& c) { c.endpoint = ""; }},
      {"batch_size", [](Config& c) { c.batch_size = 0; }},
      {"interval", [](Config& c) { c.interval = -1ms; }},
      {"enqueue_timeout", [](Config& c) { c.enqueue_timeout = -1ms; }},
      {"retry_base", [](Config& c) { c.retry_base = -1ms; }},
      {"retry_max", [](Config& c) { c.retry_max = -1ms; }},
      {"request_timeout", [](Config& c) { c.request_timeout = -1ms; }},
      {"stats_interval", [](Config& c) { c.stats_interval = -1ms; }},
      {"max_batch_bytes", [](Config& c) { c.max_batch_bytes = 1000; }},
      {"max_batch_bytes", [](Config& c) { c.max_batch_bytes = c.max_message_bytes; }},
      {"max_queue_bytes", [](Config& c) { c.max_queue_bytes = 1000; }},
      {"max_message_bytes", [](Config& c) { c.max_message_bytes = 0; }},
      {"max_in_flight", [](Config& c) { c.max_in_flight = 0; }},
      {"max_attempts", [](Config& c) { c.max_attempts = 0; }},
      {"compression_level", [](Config& c) { c.compression_level = 99; }},
      {"compression_level",
       [](Config& c) {
         c.compression = Compression::gzip;
         c.compression_level = 0;
       }},
  };
  for (auto const& bad : cases) {
    Config c = valid_config();
    bad.spoil(c);
    std::string const error = construction_error(c);
    EXPECT_NE(error, "no throw") << bad.field;
    EXPECT_NE(error, "other exception") << bad.field;
    EXPECT_NE(error.find(bad.field), std::string::npos) << "field " << bad.field << ", message: " << error;
  }
}

TEST(Config, ThrowsTheDocumentedExceptionType) {
  Config c = valid_config();
  c.batch_size = 0;
  EXPECT_THROW(Client("key", c), ConfigError);
  EXPECT_THROW(Client("key", c), std::invalid_argument);
}

TEST(Config, AcceptsHttpsAndTrailingSlash) {
  Config c = valid_config();
  c.endpoint = "https://127.0.0.1:9/prefix/";
  EXPECT_EQ(construction_error(c), "no throw");
}

// ---- Stats ----

TEST(Stats, ToJsonParsesAndHasEveryField) {
  Stats s;
  std::uint64_t next = 1;
  for (std::uint64_t* f : {&s.enqueued, &s.rejected, &s.dropped, &s.dropped_newest, &s.dropped_oldest, &s.delivered,
                           &s.failed, &s.batches_sent, &s.batches_failed, &s.requests, &s.retries,
                           &s.compression_fallbacks, &s.bytes_uncompressed, &s.bytes_sent, &s.serializer_stalls,
                           &s.batches_split, &s.split_requests, &s.queued_events, &s.queued_bytes, &s.in_flight}) {
    *f = next++;
  }
  for (std::size_t i = 0; i < status_count; ++i) s.rejected_by_status[i] = 1000 + i;
  s.bytes_sent = std::numeric_limits<std::uint64_t>::max();  // the full range survives

  std::string const json = s.to_json();
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  ASSERT_EQ(parser.parse(json).get(root), simdjson::SUCCESS) << json;
  simdjson::dom::object object;
  ASSERT_EQ(root.get_object().get(object), simdjson::SUCCESS) << json;

  auto expect_field = [&](char const* name, std::uint64_t value) {
    std::uint64_t got = 0;
    EXPECT_EQ(object[name].get_uint64().get(got), simdjson::SUCCESS) << name << " in " << json;
    EXPECT_EQ(got, value) << name;
  };
  expect_field("enqueued", s.enqueued);
  expect_field("rejected", s.rejected);
  expect_field("dropped", s.dropped);
  expect_field("dropped_newest", s.dropped_newest);
  expect_field("dropped_oldest", s.dropped_oldest);
  expect_field("delivered", s.delivered);
  expect_field("failed", s.failed);
  expect_field("batches_sent", s.batches_sent);
  expect_field("batches_failed", s.batches_failed);
  expect_field("requests", s.requests);
  expect_field("retries", s.retries);
  expect_field("compression_fallbacks", s.compression_fallbacks);
  expect_field("bytes_uncompressed", s.bytes_uncompressed);
  expect_field("bytes_sent", s.bytes_sent);
  expect_field("serializer_stalls", s.serializer_stalls);
  expect_field("batches_split", s.batches_split);
  expect_field("split_requests", s.split_requests);
  expect_field("queued_events", s.queued_events);
  expect_field("queued_bytes", s.queued_bytes);
  expect_field("in_flight", s.in_flight);

  simdjson::dom::object by_status;
  ASSERT_EQ(object["rejected_by_status"].get_object().get(by_status), simdjson::SUCCESS) << json;
  std::size_t keys = 0;
  for (auto field : by_status) {
    (void)field;
    ++keys;
  }
  EXPECT_EQ(keys, status_count - 1) << "one key per refusal status (ok is never a refusal): " << json;
  for (char const* name : {"missing_user_id", "missing_event", "missing_group_id", "missing_previous_id",
                           "invalid_number", "invalid_json", "message_too_large", "queue_full", "closed",
                           "invalid_usage", "invalid_message_id", "forked"}) {
    std::uint64_t got = 0;
    EXPECT_EQ(by_status[name].get_uint64().get(got), simdjson::SUCCESS) << name << " in " << json;
  }
  std::uint64_t got = 0;
  ASSERT_EQ(by_status["closed"].get_uint64().get(got), simdjson::SUCCESS);
  EXPECT_EQ(got, s.rejected_by_status[static_cast<std::size_t>(Status::closed)]);
  ASSERT_EQ(by_status["missing_user_id"].get_uint64().get(got), simdjson::SUCCESS);
  EXPECT_EQ(got, s.rejected_by_status[static_cast<std::size_t>(Status::missing_user_id)]);
}

TEST(Stats, PendingIsEnqueuedMinusSettled) {
  Stats s;
  s.enqueued = 10;
  s.delivered = 6;
  s.failed = 1;
  EXPECT_EQ(s.pending(), 3u);
}

}  // namespace
}  // namespace htevents
