// What goes on the wire (docs: wire-format.md), checked on the bodies a real Client sends to the
// local collector: the Go SDK's reference cases, headers, paths, values, escaping, validation and
// the fast path's equivalence with the struct API. Bodies are compared as parsed JSON.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <ctime>
#include <limits>
#include <map>
#include <ratio>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "support/client_fixture.hpp"
#include "support/wire_json.hpp"

namespace htevents::testing {
namespace {

using namespace std::chrono_literals;
using simdjson::dom::element;

// The Go SDK's mock time.
Timestamp go_time() { return std::chrono::sys_days{std::chrono::year{2009} / 11 / 10} + 23h; }

std::string const our_library = std::string(R"({"name":"events-sdk-cpp","version":")") + std::string(version()) + "\"}";
std::regex const uuid_v4("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$");
std::regex const rfc3339_utc(R"(^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d*[1-9])?Z$)");

std::string string_at(element e, char const* key) {
  std::string_view s;
  if (e[key].get_string().get(s) != simdjson::SUCCESS) return "<no string " + std::string(key) + ">";
  return std::string(s);
}

// Every message of every body, as compact JSON text, in arrival order.
std::vector<std::string> messages_in(std::vector<std::string> const& bodies) {
  std::vector<std::string> out;
  for (auto const& body : bodies) {
    JsonDocument const doc(body);
    EXPECT_TRUE(doc.ok()) << doc.error() << ": " << body;
    if (!doc.ok()) continue;
    simdjson::dom::array batch;
    EXPECT_EQ(doc.root()["batch"].get_array().get(batch), simdjson::SUCCESS) << body;
    for (element m : batch) out.push_back(json_text(m));
  }
  return out;
}

// The message whose messageId is `id` (empty when none or several).
std::string message_with_id(std::vector<std::string> const& bodies, std::string const& id) {
  std::string found;
  int count = 0;
  for (auto const& text : messages_in(bodies)) {
    JsonDocument const doc(text);
    if (doc.ok() && string_at(doc.root(), "messageId") == id) {
      found = text;
      ++count;
    }
  }
  EXPECT_EQ(count, 1) << "messages with messageId " << id;
  return count == 1 ? found : std::string();
}

class WireFormat : public ClientWithCollector {
 protected:
  // Runs `produce` against a fresh client, closes it (everything delivered) and returns the
  // bodies the collector received meanwhile.
  template <class Produce>
  std::vector<std::string> bodies_from(Produce&& produce, Config const& c) {
    std::size_t const before = collector_.bodies().size();
    {
      Client client(write_key, c);
      produce(client);
      EXPECT_TRUE(client.close(10s));
      EXPECT_EQ(client.stats().failed, 0u);
    }
    auto bodies = collector_.bodies();
    bodies.erase(bodies.begin(), bodies.begin() + static_cast<std::ptrdiff_t>(before));
    return bodies;
  }
  template <class Produce>
  std::vector<std::string> bodies_from(Produce&& produce) {
    return bodies_from(std::forward<Produce>(produce), config());
  }

  // One message's body, checked for the envelope the reference cases leave out.
  template <class Message>
  std::string body_of(Message const& m) {
    auto const bodies = bodies_from([&](Client& client) { ASSERT_EQ(client.enqueue(m), Status::ok); });
    EXPECT_EQ(bodies.size(), 1u);
    return bodies.empty() ? std::string() : bodies.front();
  }

  // The one message sent through `produce`, as compact JSON.
  template <class Produce>
  std::string one_message(Produce&& produce) {
    auto const messages = messages_in(bodies_from(std::forward<Produce>(produce)));
    EXPECT_EQ(messages.size(), 1u);
    return messages.empty() ? std::string() : messages.front();
  }

  // The properties object of a track message carrying `properties`.
  std::string properties_sent(Properties properties) {
    std::string const m = one_message([&](Client& client) {
      ASSERT_EQ(client.enqueue(Track{.user_id = "u", .event = "e", .properties = std::move(properties)}), Status::ok);
    });
    JsonDocument const doc(m);
    element props;
    EXPECT_EQ(doc.root()["properties"].get(props), simdjson::SUCCESS) << m;
    return json_text(props);
  }
};

// Compares a body with a Go SDK reference body: batch messageId and sentAt are ours, and so is
// context.library.
void expect_reference(std::string const& body, std::string const& reference) {
  SCOPED_TRACE(body);
  EXPECT_EQ(json_diff(body, reference, {.ignored = {"$.messageId", "$.sentAt", "$.context.library"}}), "");
  JsonDocument const doc(body);
  ASSERT_TRUE(doc.ok()) << doc.error();
  element const root = doc.root();
  EXPECT_TRUE(root["messageId"].is_string());
  EXPECT_TRUE(std::regex_match(string_at(root, "sentAt"), rfc3339_utc)) << string_at(root, "sentAt");
  element library;
  ASSERT_EQ(root["context"]["library"].get(library), simdjson::SUCCESS);
  EXPECT_EQ(json_diff(json_text(library), our_library), "");
}

// ---- The comparison helper itself ----

TEST(WireJson, EqualIgnoresKeyOrderButNotValuesOrTypes) {
  EXPECT_EQ(json_diff(R"({"a":1,"b":[true,null,"x"]})", R"({"b":[true,null,"x"],"a":1})"), "");
  EXPECT_EQ(json_diff("1e21", "1e+21"), "");
  EXPECT_EQ(json_diff("18446744073709551615", "18446744073709551615"), "");
  EXPECT_NE(json_diff(R"({"a":1})", R"({"a":2})"), "");
  EXPECT_NE(json_diff(R"({"a":1})", R"({"a":1.0})"), "");
  EXPECT_NE(json_diff(R"({"a":1})", R"({"a":"1"})"), "");
  EXPECT_NE(json_diff(R"({"a":1})", R"({"a":1,"b":null})"), "");
  EXPECT_NE(json_diff(R"({"a":1,"b":null})", R"({"a":1})"), "");
  EXPECT_NE(json_diff("[1,2]", "[2,1]"), "");
  EXPECT_NE(json_diff("[1,2]", "[1,2,3]"), "");
  EXPECT_NE(json_diff(R"({"a":1,"a":1})", R"({"a":1})"), "");
  EXPECT_NE(json_diff("{", "{}"), "");
  EXPECT_EQ(json_diff(R"({"a":{"b":1,"c":2}})", R"({"a":{"b":9,"c":2}})", {.ignored = {"$.a.b"}}), "");
  EXPECT_NE(json_diff(R"({"a":{"b":1,"c":2}})", R"({"a":{"b":1,"c":3}})", {.ignored = {"$.a.b"}}), "");
  EXPECT_EQ(json_diff(R"({"a":1})", R"({"a":1,"x":2})", {.ignored = {"$.x"}}), "");
  EXPECT_NE(json_diff(R"({"a":{"b":1}})", R"({"a":{"b":2}})"), "");
  EXPECT_NE(json_diff(R"({"a":{"b":1}})", R"({"a":{"b":2}})").find("$.a.b"), std::string::npos);
}

// ---- The Go SDK's reference cases ----

TEST_F(WireFormat, ReferenceTrack) {
  expect_reference(
      body_of(Track{.user_id = "123456",
                    .event = "Download",
                    .properties = {{"application", "HT Desktop"}, {"platform", "osx"}, {"version", "1.1.0"}},
                    .timestamp = go_time(),
                    .message_id = "I'm unique"}),
      R"({"messageId":"I'm unique","sentAt":"2009-11-10T23:00:00Z","batch":[{"type":"track","messageId":"I'm unique","userId":"123456","event":"Download","timestamp":"2009-11-10T23:00:00Z","properties":{"application":"HT Desktop","platform":"osx","version":"1.1.0"}}],"context":{"library":{"name":"events-sdk-go","version":"0.0.2"}}})");
}

TEST_F(WireFormat, ReferenceAlias) {
  expect_reference(
      body_of(Alias{.user_id = "B", .previous_id = "A", .timestamp = go_time(), .message_id = "I'm unique"}),
      R"({"messageId":"I'm unique","sentAt":"2009-11-10T23:00:00Z","batch":[{"type":"alias","messageId":"I'm unique","previousId":"A","userId":"B","timestamp":"2009-11-10T23:00:00Z"}],"context":{"library":{"name":"events-sdk-go","version":"0.0.2"}}})");
}

TEST_F(WireFormat, ReferenceGroup) {
  expect_reference(
      body_of(Group{.user_id = "B", .group_id = "A", .timestamp = go_time(), .message_id = "I'm unique"}),
      R"({"messageId":"I'm unique","sentAt":"2009-11-10T23:00:00Z","batch":[{"type":"group","messageId":"I'm unique","userId":"B","groupId":"A","timestamp":"2009-11-10T23:00:00Z"}],"context":{"library":{"name":"events-sdk-go","version":"0.0.2"}}})");
}

TEST_F(WireFormat, ReferencePage) {
  expect_reference(
      body_of(Page{.user_id = "B", .name = "A", .timestamp = go_time(), .message_id = "I'm unique"}),
      R"({"messageId":"I'm unique","sentAt":"2009-11-10T23:00:00Z","batch":[{"type":"page","messageId":"I'm unique","userId":"B","name":"A","timestamp":"2009-11-10T23:00:00Z"}],"context":{"library":{"name":"events-sdk-go","version":"0.0.2"}}})");
}

TEST_F(WireFormat, ReferenceTrackWithContextAndIntegrations) {
  expect_reference(
      body_of(Track{.user_id = "123456",
                    .event = "Download",
                    .properties = {{"application", "HT Desktop"}, {"platform", "osx"}, {"version", "1.1.0"}},
                    .context = {{"whatever", "here"}},
                    .timestamp = go_time(),
                    .integrations = {{"All", true}, {"Intercom", false}, {"Mixpanel", true}},
                    .message_id = "abc"}),
      R"({"messageId":"I'm unique","sentAt":"2009-11-10T23:00:00Z","batch":[{"type":"track","messageId":"abc","userId":"123456","event":"Download","timestamp":"2009-11-10T23:00:00Z","context":{"whatever":"here"},"properties":{"application":"HT Desktop","platform":"osx","version":"1.1.0"},"integrations":{"All":true,"Intercom":false,"Mixpanel":true}}],"context":{"library":{"name":"events-sdk-go","version":"0.0.2"}}})");
}

TEST_F(WireFormat, IdentifyAndScreenCarryTheirKeys) {
  auto const bodies = bodies_from([](Client& client) {
    ASSERT_EQ(client.enqueue(Identify{.anonymous_id = "anon", .traits = {{"name", "Ada"}}, .timestamp = go_time(),
                                      .message_id = "id-1"}),
              Status::ok);
    ASSERT_EQ(client.enqueue(Screen{.user_id = "u", .name = "Settings", .properties = {{"tab", 2}},
                                    .timestamp = go_time(), .message_id = "sc-1"}),
              Status::ok);
    ASSERT_EQ(client.enqueue(Page{.anonymous_id = "anon", .timestamp = go_time(), .message_id = "pg-1"}), Status::ok);
  });
  EXPECT_EQ(json_diff(message_with_id(bodies, "id-1"),
                      R"({"type":"identify","messageId":"id-1","anonymousId":"anon","timestamp":"2009-11-10T23:00:00Z","traits":{"name":"Ada"}})"),
            "");
  EXPECT_EQ(json_diff(message_with_id(bodies, "sc-1"),
                      R"({"type":"screen","messageId":"sc-1","userId":"u","name":"Settings","timestamp":"2009-11-10T23:00:00Z","properties":{"tab":2}})"),
            "");
  // An empty name is left out, like every other optional key.
  EXPECT_EQ(json_diff(message_with_id(bodies, "pg-1"),
                      R"({"type":"page","messageId":"pg-1","anonymousId":"anon","timestamp":"2009-11-10T23:00:00Z"})"),
            "");
}

// Strings whose worst case (6 bytes a byte) is past a 64 KiB block, though they fit: the fixed
// part of each message (type to timestamp) is then written piece by piece, checked, not under
// one reservation. The bytes must be the same either way.
TEST_F(WireFormat, LongStringsBeforeTheTimestampAreWrittenTheSame) {
  std::string const a(6'000, 'a');
  std::string const b(6'000, 'b');
  auto const bodies = bodies_from([&](Client& client) {
    ASSERT_EQ(client.enqueue(Identify{.user_id = a, .anonymous_id = b, .timestamp = go_time(), .message_id = "i"}),
              Status::ok);
    ASSERT_EQ(client.enqueue(Track{.user_id = a, .event = b, .timestamp = go_time(), .message_id = "t"}), Status::ok);
    ASSERT_EQ(client.enqueue(Page{.user_id = a, .name = b, .timestamp = go_time(), .message_id = "p"}), Status::ok);
    ASSERT_EQ(client.enqueue(Screen{.user_id = a, .name = b, .timestamp = go_time(), .message_id = "s"}), Status::ok);
    ASSERT_EQ(client.enqueue(Group{.user_id = a, .group_id = b, .timestamp = go_time(), .message_id = "g"}),
              Status::ok);
    ASSERT_EQ(client.enqueue(Alias{.user_id = a, .previous_id = b, .timestamp = go_time(), .message_id = "l"}),
              Status::ok);
  });
  // Per message id: its type, then its two strings in wire order (key, value).
  struct Expected {
    char const* id;
    char const* type;
    char const* first_key;
    std::string const& first;
    char const* second_key;
    std::string const& second;
  };
  for (Expected const& e : {Expected{"i", "identify", "anonymousId", b, "userId", a},
                            Expected{"t", "track", "userId", a, "event", b}, Expected{"p", "page", "userId", a, "name", b},
                            Expected{"s", "screen", "userId", a, "name", b},
                            Expected{"g", "group", "userId", a, "groupId", b},
                            Expected{"l", "alias", "previousId", b, "userId", a}}) {
    std::string const expected = std::string(R"({"type":")") + e.type + R"(","messageId":")" + e.id + R"(",")" +
                                 e.first_key + R"(":")" + e.first + R"(",")" + e.second_key + R"(":")" + e.second +
                                 R"(","timestamp":"2009-11-10T23:00:00Z"})";
    EXPECT_EQ(json_diff(message_with_id(bodies, e.id), expected), "") << e.type;
  }
}

// ---- The request ----

TEST_F(WireFormat, HeadersAreExactForEachCompression) {
  struct Case {
    Compression compression;
    char const* content_encoding;
  };
  for (Case const c : {Case{Compression::none, ""}, Case{Compression::gzip, "gzip"}, Case{Compression::zstd, "zstd"}}) {
    SCOPED_TRACE(c.content_encoding);
    collector::Collector collector;
    Config config = local_config(collector);
    config.compression = c.compression;
    {
      Client client(write_key, config);
      ASSERT_EQ(client.enqueue(Track{.user_id = "u", .event = "e"}), Status::ok);
      ASSERT_TRUE(client.flush(10s));
    }
    auto const h = collector.last_headers();
    EXPECT_EQ(h.authorization, "Basic dGVzdC13cml0ZS1rZXk6");  // base64("test-write-key:")
    EXPECT_EQ(h.content_type, "application/json");
    EXPECT_EQ(h.user_agent, "events-sdk-cpp (version: " + std::string(version()) + ")");
    EXPECT_EQ(h.content_encoding, c.content_encoding);
    EXPECT_EQ(h.path, "/v1/batch");
    EXPECT_EQ(collector.stats().unique_message_ids, 1u);
    // wire-format.md's headers and HTTP's own two, nothing else (curl adds "Accept: */*" unless told not to).
    std::vector<std::string> names = h.names;
    std::sort(names.begin(), names.end());
    std::vector<std::string> expected = {"authorization", "content-length", "content-type", "host", "user-agent"};
    if (c.compression != Compression::none) expected.insert(expected.begin() + 1, "content-encoding");
    EXPECT_EQ(names, expected);
  }
}

TEST_F(WireFormat, VersionLooksLikeSemver) {
  EXPECT_TRUE(std::regex_match(std::string(version()), std::regex(R"(^\d+\.\d+\.\d+$)"))) << version();
}

TEST_F(WireFormat, EndpointPathPrefixIsKeptAndOneTrailingSlashDropped) {
  struct Case {
    std::string suffix;
    std::string path;
  };
  for (Case const& c : {Case{"", "/v1/batch"}, Case{"/", "/v1/batch"}, Case{"/prefix", "/prefix/v1/batch"},
                        Case{"/prefix/", "/prefix/v1/batch"}, Case{"/a/b/", "/a/b/v1/batch"}}) {
    SCOPED_TRACE(c.suffix);
    Config config = this->config();
    config.endpoint = collector_.endpoint() + c.suffix;
    Client client(write_key, config);
    ASSERT_EQ(client.enqueue(Track{.user_id = "u", .event = "e"}), Status::ok);
    ASSERT_TRUE(client.flush(10s));
    EXPECT_EQ(collector_.last_headers().path, c.path);
    EXPECT_EQ(client.stats().delivered, 1u);
  }
}

// ---- The batch envelope ----

TEST_F(WireFormat, DefaultContextIsMergedAndLibraryIsOurs) {
  Config config = this->config();
  config.default_context = {{"app", Object{{"name", "shop"}, {"version", "1.2"}}},
                            {"library", Object{{"name", "mine"}, {"version", "9.9.9"}}},
                            {"locale", "en-US"}};
  auto const bodies = bodies_from(
      [](Client& client) {
        ASSERT_EQ(client.enqueue(Track{.user_id = "u", .event = "e", .context = {{"ip", "10.0.0.1"}},
                                       .message_id = "with-context"}),
                  Status::ok);
      },
      config);
  ASSERT_EQ(bodies.size(), 1u);
  JsonDocument const doc(bodies[0]);
  ASSERT_TRUE(doc.ok());
  element context;
  ASSERT_EQ(doc.root()["context"].get(context), simdjson::SUCCESS);
  EXPECT_EQ(json_diff(json_text(context), R"({"library":)" + our_library +
                                              R"(,"app":{"name":"shop","version":"1.2"},"locale":"en-US"})"),
            "");
  // The message's own context goes out as given: no library, no default_context.
  JsonDocument const message(message_with_id(bodies, "with-context"));
  ASSERT_TRUE(message.ok());
  element message_context;
  ASSERT_EQ(message.root()["context"].get(message_context), simdjson::SUCCESS);
  EXPECT_EQ(json_diff(json_text(message_context), R"({"ip":"10.0.0.1"})"), "");
}

TEST_F(WireFormat, MessageContextIsSentAsGiven) {
  std::string const m = one_message([](Client& client) {
    ASSERT_EQ(client.enqueue(Identify{.user_id = "u", .context = {{"library", "user's"}, {"page", Object{{"path", "/"}}}}}),
              Status::ok);
  });
  JsonDocument const doc(m);
  element context;
  ASSERT_EQ(doc.root()["context"].get(context), simdjson::SUCCESS) << m;
  EXPECT_EQ(json_diff(json_text(context), R"({"library":"user's","page":{"path":"/"}})"), "");
}

TEST_F(WireFormat, GeneratedMessageIdsAreUniqueUuidV4) {
  Config config = this->config();
  config.batch_size = 50;
  config.interval = 10s;  // only full batches and the final one
  constexpr int count = 500;
  auto const bodies = bodies_from(
      [](Client& client) {
        for (int i = 0; i < count; ++i) {
          if (i % 2 == 0) {
            ASSERT_EQ(client.enqueue(Track{.user_id = "u", .event = "e"}), Status::ok);
          } else {
            ASSERT_EQ(client.track("e").user_id("u").send(), Status::ok);
          }
        }
      },
      config);
  std::set<std::string> ids;
  for (auto const& m : messages_in(bodies)) {
    JsonDocument const doc(m);
    std::string const id = string_at(doc.root(), "messageId");
    EXPECT_TRUE(std::regex_match(id, uuid_v4)) << id;
    ids.insert(id);
  }
  EXPECT_EQ(ids.size(), std::size_t{count});
  EXPECT_EQ(bodies.size(), 10u);
  std::set<std::string> batch_ids;
  for (auto const& body : bodies) {
    JsonDocument const doc(body);
    std::string const id = string_at(doc.root(), "messageId");
    EXPECT_TRUE(std::regex_match(id, uuid_v4)) << id;
    EXPECT_EQ(ids.count(id), 0u) << "a batch id equals a message id";
    batch_ids.insert(id);
    EXPECT_TRUE(std::regex_match(string_at(doc.root(), "sentAt"), rfc3339_utc));
  }
  EXPECT_EQ(batch_ids.size(), bodies.size());
  EXPECT_EQ(collector_.stats().duplicate_message_ids, 0u);
}

TEST_F(WireFormat, DefaultTimestampIsTheTimeOfEnqueue) {
  auto const before = std::chrono::system_clock::now();
  std::string const m = one_message([](Client& client) { ASSERT_EQ(client.enqueue(Alias{.user_id = "b", .previous_id = "a"}), Status::ok); });
  auto const after = std::chrono::system_clock::now();
  JsonDocument const doc(m);
  std::string const ts = string_at(doc.root(), "timestamp");
  ASSERT_TRUE(std::regex_match(ts, rfc3339_utc)) << ts;
  // Parse the whole seconds back and check they lie within [before, after].
  std::tm tm{};
  ASSERT_NE(strptime(ts.c_str(), "%Y-%m-%dT%H:%M:%S", &tm), nullptr);
  auto const secs = std::chrono::system_clock::from_time_t(timegm(&tm));
  EXPECT_GE(secs, std::chrono::floor<std::chrono::seconds>(before));
  EXPECT_LE(secs, after);
}

// ---- Values ----

TEST_F(WireFormat, EscapesControlCharactersQuotesAndBackslashes) {
  std::string const weird = "\x01\"\\\n\t\x1f/";
  auto const bodies = bodies_from([&](Client& client) {
    ASSERT_EQ(client.enqueue(Track{.user_id = weird, .event = weird, .properties = {{weird, weird}}, .message_id = "s"}),
              Status::ok);
    ASSERT_EQ(client.track(weird).user_id(weird).message_id("f").property(weird, weird).send(), Status::ok);
  });
  for (char const* id : {"s", "f"}) {
    SCOPED_TRACE(id);
    JsonDocument const doc(message_with_id(bodies, id));
    ASSERT_TRUE(doc.ok());
    EXPECT_EQ(string_at(doc.root(), "userId"), weird);
    EXPECT_EQ(string_at(doc.root(), "event"), weird);
    element props;
    ASSERT_EQ(doc.root()["properties"].get(props), simdjson::SUCCESS);
    EXPECT_EQ(string_at(props, weird.c_str()), weird);
  }
  for (auto const& body : bodies) {
    std::size_t raw_controls = 0;
    for (char ch : body) raw_controls += static_cast<unsigned char>(ch) < 0x20 ? 1 : 0;
    EXPECT_EQ(raw_controls, 0u) << "raw control characters on the wire: " << body;
  }
}

TEST_F(WireFormat, InvalidUtf8BecomesReplacementCharacter) {
  std::string const replacement = "\xEF\xBF\xBD";  // U+FFFD
  std::string const valid_multibyte = "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80";
  auto const bodies = bodies_from([&](Client& client) {
    ASSERT_EQ(client.enqueue(Identify{.user_id = "u\xff",
                                      .traits = {{"bad", "\xff"}, {"key\xfe", "x"}, {"good", valid_multibyte}},
                                      .message_id = "s"}),
              Status::ok);
    ASSERT_EQ(client.identify().user_id("u\xff").message_id("f").trait("bad", "\xff").trait("key\xfe", "x")
                  .trait("good", valid_multibyte).send(),
              Status::ok);
  });
  for (char const* id : {"s", "f"}) {
    SCOPED_TRACE(id);
    std::string const m = message_with_id(bodies, id);  // parsing also validates UTF-8
    JsonDocument const doc(m);
    ASSERT_TRUE(doc.ok()) << doc.error();
    EXPECT_EQ(string_at(doc.root(), "userId"), "u" + replacement);
    element traits;
    ASSERT_EQ(doc.root()["traits"].get(traits), simdjson::SUCCESS);
    EXPECT_EQ(json_diff(json_text(traits), R"({"bad":")" + replacement + R"(","key)" + replacement +
                                               R"(":"x","good":")" + valid_multibyte + "\"}"),
              "");
  }
}

TEST_F(WireFormat, DoublesRoundTrip) {
  std::vector<double> const values = {29.99, 1e21, 1e-7, -0.5, 100.0, 0.1, 5e-324, 1.7976931348623157e308, -0.0};
  Properties p;
  std::vector<std::string> keys;
  for (std::size_t i = 0; i < values.size(); ++i) keys.push_back(std::string(1, 'd').append(std::to_string(i)));
  for (std::size_t i = 0; i < values.size(); ++i) p.set(keys[i], values[i]);
  std::string const props = properties_sent(p);
  JsonDocument const doc(props);
  ASSERT_TRUE(doc.ok()) << props;
  for (std::size_t i = 0; i < values.size(); ++i) {
    double got = 0;
    ASSERT_EQ(doc.root()[keys[i]].get_double().get(got), simdjson::SUCCESS) << props;
    EXPECT_EQ(got, values[i]) << props;
  }
  // A float arrives as the double it converts to.
  std::string const f = properties_sent({{"f", 0.1f}});
  JsonDocument const fdoc(f);
  double got = 0;
  ASSERT_EQ(fdoc.root()["f"].get_double().get(got), simdjson::SUCCESS);
  EXPECT_EQ(got, static_cast<double>(0.1f)) << f;
}

TEST_F(WireFormat, IntegersKeepTheirFullRange) {
  std::string const props = properties_sent({{"min", std::numeric_limits<std::int64_t>::min()},
                                             {"max", std::numeric_limits<std::int64_t>::max()},
                                             {"umax", std::numeric_limits<std::uint64_t>::max()},
                                             {"zero", 0},
                                             {"neg", -42},
                                             {"uchar", static_cast<unsigned char>(255)}});
  EXPECT_EQ(json_diff(props, R"({"min":-9223372036854775808,"max":9223372036854775807,"umax":18446744073709551615,"zero":0,"neg":-42,"uchar":255})"),
            "");
  // Integers are written as integers, never in a double's form.
  EXPECT_NE(props.find("9223372036854775807"), std::string::npos) << props;
  EXPECT_NE(props.find("18446744073709551615"), std::string::npos) << props;
}

TEST_F(WireFormat, TimestampsInsidePropertiesAreRfc3339Utc) {
  // A fraction finer than a microsecond, held at the clock's own precision: system_clock counts
  // nanoseconds in libstdc++ and microseconds in libc++, which keeps the first six digits.
  static_assert(std::ratio_equal_v<Timestamp::period, std::nano> || std::ratio_equal_v<Timestamp::period, std::micro>,
                "the expected fraction below knows nanosecond and microsecond clocks");
  constexpr bool nanosecond_clock = std::ratio_equal_v<Timestamp::period, std::nano>;
  Timestamp const march = std::chrono::floor<Timestamp::duration>(
      std::chrono::sys_days{std::chrono::year{2024} / 3 / 13} + 15h + 56min + 32s + 123456700ns);
  char const* const fine = nanosecond_clock ? "2024-03-13T15:56:32.1234567Z" : "2024-03-13T15:56:32.123456Z";
  std::string const props = properties_sent({{"whole", go_time()},
                                             {"half", go_time() + 500ms},
                                             {"fine", march},
                                             {"milli", go_time() + 1ms},
                                             {"epoch", Timestamp{}},
                                             {"list", Array{go_time()}}});
  std::string const expected =
      std::string(R"({"whole":"2009-11-10T23:00:00Z","half":"2009-11-10T23:00:00.5Z","fine":")") + fine +
      R"(","milli":"2009-11-10T23:00:00.001Z","epoch":"1970-01-01T00:00:00Z","list":["2009-11-10T23:00:00Z"]})";
  EXPECT_EQ(json_diff(props, expected), "");
}

TEST_F(WireFormat, NestedArraysAndObjects) {
  std::string const props =
      properties_sent({{"matrix", Array{Array{1, 2}, Array{}, Object{}, nullptr, true, "s"}},
                       {"deep", Object{{"a", Object{{"b", Array{Object{{"c", nullptr}, {"d", 1.5}}}}}}}},
                       {"empty_object", Object{}},
                       {"empty_array", Array{}},
                       {"bools", Array{true, false}}});
  EXPECT_EQ(json_diff(props, R"({"matrix":[[1,2],[],{},null,true,"s"],"deep":{"a":{"b":[{"c":null,"d":1.5}]}},"empty_object":{},"empty_array":[],"bools":[true,false]})"),
            "");
}

TEST_F(WireFormat, ValidRawJsonPassesThrough) {
  std::string const props = properties_sent({{"raw", RawJson{R"({"a":[1,2,{"b":null}],"s":"x\u00e9"})"}},
                                             {"num", RawJson{"12.5"}},
                                             {"in_array", Array{RawJson{"[true]"}}}});
  EXPECT_EQ(json_diff(props, R"({"raw":{"a":[1,2,{"b":null}],"s":"x\u00e9"},"num":12.5,"in_array":[[true]]})"), "");
}

TEST_F(WireFormat, InvalidRawJsonIsRejected) {
  Client client(write_key, config());
  for (char const* bad : {"{", "", "[1,]", "{\"a\":1} x", "nul", "{'a':1}"}) {
    EXPECT_EQ(client.enqueue(Track{.user_id = "u", .event = "e", .properties = {{"raw", RawJson{bad}}}}),
              Status::invalid_json)
        << bad;
  }
  EXPECT_EQ(client.enqueue(Identify{.user_id = "u", .traits = {{"a", Array{RawJson{"{"}}}}}), Status::invalid_json);
  EXPECT_EQ(client.track("e").user_id("u").property("raw", Value(RawJson{"{"})).send(), Status::invalid_json);
  ASSERT_TRUE(client.flush(10s));
  auto const s = client.stats();
  EXPECT_EQ(s.enqueued, 0u);
  EXPECT_EQ(s.rejected, 8u);
  EXPECT_EQ(s.rejected_by_status[static_cast<std::size_t>(Status::invalid_json)], 8u);
  EXPECT_EQ(collector_.stats().requests, 0u);
}

TEST_F(WireFormat, NonFiniteNumbersAreRejected) {
  Client client(write_key, config());
  double const nan = std::numeric_limits<double>::quiet_NaN();
  double const inf = std::numeric_limits<double>::infinity();
  EXPECT_EQ(client.enqueue(Track{.user_id = "u", .event = "e", .properties = {{"x", nan}}}), Status::invalid_number);
  EXPECT_EQ(client.enqueue(Track{.user_id = "u", .event = "e", .properties = {{"x", inf}}}), Status::invalid_number);
  EXPECT_EQ(client.enqueue(Track{.user_id = "u", .event = "e", .properties = {{"x", -inf}}}), Status::invalid_number);
  EXPECT_EQ(client.enqueue(Group{.user_id = "u", .group_id = "g", .traits = {{"x", Array{1, Object{{"y", nan}}}}}}),
            Status::invalid_number);
  EXPECT_EQ(client.enqueue(Identify{.user_id = "u", .context = {{"x", std::numeric_limits<float>::infinity()}}}),
            Status::invalid_number);
  EXPECT_EQ(client.track("e").user_id("u").property("x", nan).send(), Status::invalid_number);
  EXPECT_EQ(client.identify().user_id("u").trait("x", -inf).send(), Status::invalid_number);
  // The same client still works afterwards.
  EXPECT_EQ(client.enqueue(Track{.user_id = "u", .event = "e", .properties = {{"x", 1.0}}}), Status::ok);
  ASSERT_TRUE(client.flush(10s));
  auto const s = client.stats();
  EXPECT_EQ(s.rejected_by_status[static_cast<std::size_t>(Status::invalid_number)], 7u);
  EXPECT_EQ(s.delivered, 1u);
  EXPECT_EQ(collector_.stats().unique_message_ids, 1u);
}

// ---- Limits ----

TEST_F(WireFormat, MessageSizeLimitIsExact) {
  // Measure the fixed part of a message with a small pad, then fill it to exactly the limit.
  auto make = [](std::string id, std::size_t pad) {
    return Track{.user_id = "u", .event = "e", .properties = {{"pad", std::string(pad, 'x')}},
                 .timestamp = go_time(), .message_id = std::move(id)};
  };
  Config const c = config();
  std::size_t overhead = 0;
  {
    Client client(write_key, c);
    ASSERT_EQ(client.enqueue(make("size-probe", 100)), Status::ok);
    ASSERT_TRUE(client.flush(10s));
    std::string const probe = message_with_id(collector_.bodies(), "size-probe");
    ASSERT_GT(probe.size(), 100u);
    overhead = probe.size() - 100;
  }
  std::size_t const limit = c.max_message_bytes;
  ASSERT_EQ(limit, 32'000u);
  Client client(write_key, c);
  EXPECT_EQ(client.enqueue(make("size-exact", limit - overhead)), Status::ok);
  EXPECT_EQ(client.enqueue(make("size-large", limit - overhead + 1)), Status::message_too_large);
  EXPECT_EQ(client.enqueue(make("size-huge1", 40'000)), Status::message_too_large);
  EXPECT_EQ(client.track("e").user_id("u").property("pad", std::string(40'000, 'x')).send(), Status::message_too_large);
  // Escapes count: 20,000 quotes become 40,000 bytes.
  EXPECT_EQ(client.enqueue(Track{.user_id = "u", .event = "e", .properties = {{"pad", std::string(20'000, '"')}}}),
            Status::message_too_large);
  ASSERT_TRUE(client.flush(10s));
  std::string const exact = message_with_id(collector_.bodies(), "size-exact");
  EXPECT_EQ(exact.size(), limit);
  EXPECT_EQ(client.stats().rejected_by_status[static_cast<std::size_t>(Status::message_too_large)], 4u);
  EXPECT_EQ(collector_.stats().unique_message_ids, 2u);
}

// ---- Validation ----

TEST_F(WireFormat, EachTypeIsValidated) {
  Client client(write_key, config());
  EXPECT_EQ(client.enqueue(Identify{}), Status::missing_user_id);
  EXPECT_EQ(client.enqueue(Track{.user_id = "u"}), Status::missing_event);
  EXPECT_EQ(client.enqueue(Track{.event = "e"}), Status::missing_user_id);
  EXPECT_EQ(client.enqueue(Page{.name = "p"}), Status::missing_user_id);
  EXPECT_EQ(client.enqueue(Screen{.name = "s"}), Status::missing_user_id);
  EXPECT_EQ(client.enqueue(Group{.user_id = "u"}), Status::missing_group_id);
  EXPECT_EQ(client.enqueue(Group{.group_id = "g"}), Status::missing_user_id);
  EXPECT_EQ(client.enqueue(Alias{.previous_id = "p"}), Status::missing_user_id);
  EXPECT_EQ(client.enqueue(Alias{.user_id = "u"}), Status::missing_previous_id);

  EXPECT_EQ(client.identify().trait("a", 1).send(), Status::missing_user_id);
  EXPECT_EQ(client.track("").user_id("u").send(), Status::missing_event);
  EXPECT_EQ(client.track("e").send(), Status::missing_user_id);
  EXPECT_EQ(client.page("p").send(), Status::missing_user_id);
  EXPECT_EQ(client.screen("s").send(), Status::missing_user_id);
  EXPECT_EQ(client.group("").user_id("u").send(), Status::missing_group_id);
  EXPECT_EQ(client.group("g").send(), Status::missing_user_id);
  EXPECT_EQ(client.alias("p").send(), Status::missing_user_id);
  EXPECT_EQ(client.alias("p").anonymous_id("a").send(), Status::missing_user_id);
  EXPECT_EQ(client.alias("").user_id("u").send(), Status::missing_previous_id);

  // An anonymous id alone is enough for every type but alias.
  EXPECT_EQ(client.enqueue(Identify{.anonymous_id = "a"}), Status::ok);
  EXPECT_EQ(client.enqueue(Track{.anonymous_id = "a", .event = "e"}), Status::ok);
  EXPECT_EQ(client.enqueue(Page{.anonymous_id = "a"}), Status::ok);
  EXPECT_EQ(client.enqueue(Screen{.anonymous_id = "a"}), Status::ok);
  EXPECT_EQ(client.enqueue(Group{.anonymous_id = "a", .group_id = "g"}), Status::ok);
  EXPECT_EQ(client.enqueue(Alias{.user_id = "u", .previous_id = "p"}), Status::ok);
  EXPECT_EQ(client.page("").anonymous_id("a").send(), Status::ok);
  EXPECT_EQ(client.alias("p").user_id("u").send(), Status::ok);
  ASSERT_TRUE(client.flush(10s));

  auto const s = client.stats();
  auto const by = [&](Status st) { return s.rejected_by_status[static_cast<std::size_t>(st)]; };
  EXPECT_EQ(by(Status::missing_user_id), 13u);
  EXPECT_EQ(by(Status::missing_event), 2u);
  EXPECT_EQ(by(Status::missing_group_id), 2u);
  EXPECT_EQ(by(Status::missing_previous_id), 2u);
  EXPECT_EQ(s.rejected, 19u);
  EXPECT_EQ(s.enqueued, 8u);
  EXPECT_EQ(s.delivered, 8u);
  EXPECT_EQ(collector_.stats().unique_message_ids, 8u);
  EXPECT_EQ(collector_.stats().invalid_messages, 0u);
}

// ---- The fast path ----

TEST_F(WireFormat, FastPathWritersMatchTheStructApi) {
  Object const context{{"ip", "10.0.0.1"}, {"page", Object{{"path", "/cart"}}}};
  Object const integrations{{"All", false}, {"Mixpanel", true}};
  Timestamp const when = go_time() + 250ms;
  Array const tags{"a", "b", 3};
  Object const item{{"sku", "x"}, {"price", 9.5}};
  auto const umax = std::numeric_limits<std::uint64_t>::max();

  auto const bodies = bodies_from([&](Client& client) {
    // Struct API.
    Properties const props{{"total", 29.99}, {"currency", "USD"}, {"quantity", 3},   {"coupon", nullptr},
                           {"gift", false},  {"at", when},         {"tags", tags},     {"item", item},
                           {"big", umax},    {"neg", std::int64_t{-7}}};
    Traits const traits{{"name", "Ada"}, {"age", 36}, {"vip", true}, {"since", when}, {"tags", tags}};
    ASSERT_EQ(client.enqueue(Identify{.user_id = "u", .anonymous_id = "a", .traits = traits, .context = context,
                                      .timestamp = when, .integrations = integrations, .message_id = "s-identify"}),
              Status::ok);
    ASSERT_EQ(client.enqueue(Track{.user_id = "u", .anonymous_id = "a", .event = "Order completed",
                                   .properties = props, .context = context, .timestamp = when,
                                   .integrations = integrations, .message_id = "s-track"}),
              Status::ok);
    ASSERT_EQ(client.enqueue(Page{.user_id = "u", .anonymous_id = "a", .name = "Home", .properties = props,
                                  .context = context, .timestamp = when, .integrations = integrations,
                                  .message_id = "s-page"}),
              Status::ok);
    ASSERT_EQ(client.enqueue(Screen{.user_id = "u", .name = "Settings", .properties = props, .timestamp = when,
                                    .message_id = "s-screen"}),
              Status::ok);
    ASSERT_EQ(client.enqueue(Group{.user_id = "u", .anonymous_id = "a", .group_id = "g1", .traits = traits,
                                   .context = context, .timestamp = when, .integrations = integrations,
                                   .message_id = "s-group"}),
              Status::ok);
    ASSERT_EQ(client.enqueue(Alias{.user_id = "new", .previous_id = "old", .context = context, .timestamp = when,
                                   .integrations = integrations, .message_id = "s-alias"}),
              Status::ok);

    // Fast path, the same messages.
    ASSERT_EQ(client.identify().user_id("u").anonymous_id("a").message_id("f-identify").timestamp(when)
                  .context(context).integrations(integrations)
                  .trait("name", "Ada").trait("age", 36).trait("vip", true).trait("since", when)
                  .trait("tags", Value(tags)).send(),
              Status::ok);
    auto track = client.track("Order completed");
    track.user_id("u").anonymous_id("a").message_id("f-track").timestamp(when).context(context)
        .integrations(integrations)
        .property("total", 29.99).property("currency", "USD").property("quantity", 3).property("coupon", nullptr)
        .property("gift", false).property("at", when).property("tags", Value(tags)).property("item", Value(item))
        .property("big", umax).property("neg", std::int64_t{-7});
    ASSERT_EQ(track.send(), Status::ok);
    std::string const currency = "USD";  // std::string arguments work too
    ASSERT_EQ(client.page("Home").user_id("u").anonymous_id("a").message_id("f-page").timestamp(when)
                  .context(context).integrations(integrations)
                  .property("total", 29.99).property("currency", currency).property("quantity", 3)
                  .property("coupon", nullptr).property("gift", false).property("at", when)
                  .property("tags", Value(tags)).property("item", Value(item)).property("big", umax)
                  .property("neg", std::int64_t{-7}).send(),
              Status::ok);
    ASSERT_EQ(client.screen("Settings").user_id("u").message_id("f-screen").timestamp(when)
                  .property("total", 29.99).property("currency", "USD").property("quantity", 3)
                  .property("coupon", nullptr).property("gift", false).property("at", when)
                  .property("tags", Value(tags)).property("item", Value(item)).property("big", umax)
                  .property("neg", std::int64_t{-7}).send(),
              Status::ok);
    ASSERT_EQ(client.group("g1").user_id("u").anonymous_id("a").message_id("f-group").timestamp(when)
                  .context(context).integrations(integrations)
                  .trait("name", "Ada").trait("age", 36).trait("vip", true).trait("since", when)
                  .trait("tags", Value(tags)).send(),
              Status::ok);
    ASSERT_EQ(client.alias("old").user_id("new").message_id("f-alias").timestamp(when).context(context)
                  .integrations(integrations).send(),
              Status::ok);
  });

  for (char const* type : {"identify", "track", "page", "screen", "group", "alias"}) {
    SCOPED_TRACE(type);
    std::string const by_struct = message_with_id(bodies, std::string("s-") + type);
    std::string const by_writer = message_with_id(bodies, std::string("f-") + type);
    ASSERT_FALSE(by_struct.empty());
    ASSERT_FALSE(by_writer.empty());
    EXPECT_EQ(json_diff(by_struct, by_writer, {.ignored = {"$.messageId"}}), "")
        << "struct: " << by_struct << "\nwriter: " << by_writer;
  }
}

TEST_F(WireFormat, FastPathLiteralAndArrayKeysMatchTheStructApi) {
  // Literal keys and values take an inline path that checks their bytes; char arrays whose
  // text is shorter than the array, and literals that need escaping or are long, must come
  // out exactly as through the struct API.
  char short_key[16] = "k";                       // array of 16, text of 1
  char short_value[32] = "v\"q";                 // needs an escape
  char const long_key[] = "a key longer than sixteen bytes";
  auto const bodies = bodies_from([&](Client& client) {
    Properties const props{{"plain", "USD"},     {"quote\"key", "tab\tvalue"}, {"k", "v\"q"},
                           {long_key, "x"},      {"ctrl", "\x01"},             {"utf8 \xc3\xa9", "\xff"},
                           {"sixteen bytes ok", "exactly16bytes!!"}};
    ASSERT_EQ(client.enqueue(Track{.user_id = "u", .event = "e", .properties = props, .message_id = "s"}),
              Status::ok);
    ASSERT_EQ(client.track("e").user_id("u").message_id("f")
                  .property("plain", "USD").property("quote\"key", "tab\tvalue").property(short_key, short_value)
                  .property(long_key, "x").property("ctrl", "\x01").property("utf8 \xc3\xa9", "\xff")
                  .property("sixteen bytes ok", "exactly16bytes!!").send(),
              Status::ok);
  });
  std::string const by_struct = message_with_id(bodies, "s");
  std::string const by_writer = message_with_id(bodies, "f");
  ASSERT_FALSE(by_struct.empty());
  ASSERT_FALSE(by_writer.empty());
  EXPECT_EQ(json_diff(by_struct, by_writer, {.ignored = {"$.messageId", "$.timestamp"}}), "")
      << "struct: " << by_struct << "\nwriter: " << by_writer;
}

TEST_F(WireFormat, FastPathDefaultsMatchTheStructApi) {
  // Without message_id and timestamp both paths generate them; nothing else differs.
  auto const bodies = bodies_from([](Client& client) {
    ASSERT_EQ(client.enqueue(Track{.user_id = "u", .event = "e"}), Status::ok);
    ASSERT_EQ(client.track("e").user_id("u").send(), Status::ok);
  });
  auto const messages = messages_in(bodies);
  ASSERT_EQ(messages.size(), 2u);
  EXPECT_EQ(json_diff(messages[0], messages[1], {.ignored = {"$.messageId", "$.timestamp"}}), "");
  for (auto const& m : messages) {
    JsonDocument const doc(m);
    EXPECT_TRUE(std::regex_match(string_at(doc.root(), "messageId"), uuid_v4)) << m;
    EXPECT_TRUE(std::regex_match(string_at(doc.root(), "timestamp"), rfc3339_utc)) << m;
  }
}

TEST_F(WireFormat, FastPathHeadsAtBlockEndsMatchTheStructApi) {
  // The writer puts a message's head straight into its block when the block has room for the
  // longest head and the worst case of the head argument, and takes the arena's path (which may
  // move the draft to a fresh block) when it has not. Heads of every length up to 250 bytes,
  // some to escape, over several blocks land on both sides of that test at each block's end.
  constexpr int count = 1500;
  auto head = [](int i) {
    std::string h = "h" + std::string(static_cast<std::size_t>(i % 250), static_cast<char>('a' + i % 26));
    if (i % 7 == 0) h += "\"\n\xff";
    return h;
  };
  auto const bodies = bodies_from([&](Client& client) {
    for (int i = 0; i < count; ++i) {
      std::string const h = head(i);
      std::string const s = "s" + std::to_string(i);
      std::string const f = "f" + std::to_string(i);
      Status by_struct = Status::ok;
      Status by_writer = Status::ok;
      switch (i % 6) {
        case 0:
          by_struct = client.enqueue(Identify{.user_id = h, .message_id = s});
          by_writer = client.identify().user_id(h).message_id(f).send();
          break;
        case 1:
          by_struct = client.enqueue(Track{.user_id = "u", .event = h, .message_id = s});
          by_writer = client.track(h).user_id("u").message_id(f).send();
          break;
        case 2:
          by_struct = client.enqueue(Page{.user_id = "u", .name = i % 4 == 0 ? "" : h, .message_id = s});
          by_writer = client.page(i % 4 == 0 ? "" : h).user_id("u").message_id(f).send();
          break;
        case 3:
          by_struct = client.enqueue(Screen{.user_id = "u", .name = h, .message_id = s});
          by_writer = client.screen(h).user_id("u").message_id(f).send();
          break;
        case 4:
          by_struct = client.enqueue(Group{.user_id = "u", .group_id = h, .message_id = s});
          by_writer = client.group(h).user_id("u").message_id(f).send();
          break;
        default:
          by_struct = client.enqueue(Alias{.user_id = "u", .previous_id = h, .message_id = s});
          by_writer = client.alias(h).user_id("u").message_id(f).send();
          break;
      }
      ASSERT_EQ(by_struct, Status::ok) << i;
      ASSERT_EQ(by_writer, Status::ok) << i;
    }
  });
  std::map<std::string, std::string> by_id;
  for (auto const& m : messages_in(bodies)) {
    JsonDocument const doc(m);
    ASSERT_TRUE(doc.ok()) << m;
    by_id[string_at(doc.root(), "messageId")] = m;
  }
  ASSERT_EQ(by_id.size(), 2u * count);
  for (int i = 0; i < count; ++i) {
    std::string const& by_struct = by_id["s" + std::to_string(i)];
    std::string const& by_writer = by_id["f" + std::to_string(i)];
    EXPECT_EQ(json_diff(by_struct, by_writer, {.ignored = {"$.messageId", "$.timestamp"}}), "")
        << i << "\nstruct: " << by_struct << "\nwriter: " << by_writer;
  }
}

TEST_F(WireFormat, FastPathLiteralHeadsMatchTheStructApi) {
  // client.track("...") and the other heads given as char arrays take the inline overloads:
  // the opening and a literal's bytes are written at the call, checked at compile time. Each
  // literal kind (plain, escaped, control bytes, UTF-8, invalid UTF-8, 16 and 17 bytes, long,
  // empty, an array holding a shorter text) for every type with a head, many rounds so that
  // some land at block ends, byte-compared with the struct API given the same text.
  constexpr int rounds = 400;
  char shorter[32] = "short";  // text up to the first NUL, as std::string_view(array) reads it
  std::vector<std::pair<Status, Status>> statuses;
  int n = 0;
  auto const bodies = bodies_from([&](Client& client) {
    auto both = [&](auto const& head) {
      std::string const text(head);  // up to the first NUL
      std::string const s = "s" + std::to_string(n);
      std::string const f = "f" + std::to_string(n);
      ++n;
      switch (n % 5) {
        case 0:
          statuses.emplace_back(client.enqueue(Track{.user_id = "u", .event = text, .message_id = s}),
                                client.track(head).user_id("u").message_id(f).send());
          break;
        case 1:
          statuses.emplace_back(client.enqueue(Page{.user_id = "u", .name = text, .message_id = s}),
                                client.page(head).user_id("u").message_id(f).send());
          break;
        case 2:
          statuses.emplace_back(client.enqueue(Screen{.user_id = "u", .name = text, .message_id = s}),
                                client.screen(head).user_id("u").message_id(f).send());
          break;
        case 3:
          statuses.emplace_back(client.enqueue(Group{.user_id = "u", .group_id = text, .message_id = s}),
                                client.group(head).user_id("u").message_id(f).send());
          break;
        default:
          statuses.emplace_back(client.enqueue(Alias{.user_id = "u", .previous_id = text, .message_id = s}),
                                client.alias(head).user_id("u").message_id(f).send());
          break;
      }
    };
    for (int round = 0; round < rounds; ++round) {
      both("Order completed");
      both("a\"b\\c");
      both("tab\tnl\n\x01");
      both("caf\xc3\xa9 \xe2\x82\xac");
      both("bad\xff\xc0");
      both("exactly_16_bytes");
      both("seventeen_bytes17");
      both("a head of sixty bytes or so, long enough for the general path");
      both("");
      both(shorter);
      both("x");
    }
  });
  ASSERT_EQ(statuses.size(), static_cast<std::size_t>(n));
  std::size_t sent = 0;
  for (std::size_t i = 0; i < statuses.size(); ++i) {
    EXPECT_EQ(statuses[i].first, statuses[i].second) << i;
    if (statuses[i].first == Status::ok) ++sent;
  }
  EXPECT_GT(sent, statuses.size() / 2);
  std::map<std::string, std::string> by_id;
  for (auto const& m : messages_in(bodies)) {
    JsonDocument const doc(m);
    ASSERT_TRUE(doc.ok()) << m;
    by_id[string_at(doc.root(), "messageId")] = m;
  }
  ASSERT_EQ(by_id.size(), 2 * sent);
  for (int i = 0; i < n; ++i) {
    if (statuses[static_cast<std::size_t>(i)].first != Status::ok) continue;
    std::string const& by_struct = by_id["s" + std::to_string(i)];
    std::string const& by_writer = by_id["f" + std::to_string(i)];
    EXPECT_EQ(json_diff(by_struct, by_writer, {.ignored = {"$.messageId", "$.timestamp"}}), "")
        << i << "\nstruct: " << by_struct << "\nwriter: " << by_writer;
  }
}

TEST_F(WireFormat, FastPathMisuseIsInvalidUsage) {
  Client client(write_key, config());
  // A top-level field after the first property.
  EXPECT_EQ(client.track("e").property("a", 1).user_id("u").send(), Status::invalid_usage);
  EXPECT_EQ(client.identify().user_id("u").trait("a", 1).message_id("m").send(), Status::invalid_usage);
  EXPECT_EQ(client.page("p").anonymous_id("a").property("a", 1).timestamp(go_time()).send(), Status::invalid_usage);
  // send() twice: the first is accepted, the second is misuse.
  {
    auto writer = client.track("e");
    writer.user_id("u").property("a", 1);
    EXPECT_EQ(writer.send(), Status::ok);
    EXPECT_EQ(writer.send(), Status::invalid_usage);
  }
  // Calls on a writer after its send() write nothing, also not into the message the thread
  // writes next, whose draft starts where the sent one ended: it arrives exactly as built.
  {
    auto sent = client.track("sent");
    sent.user_id("u");
    ASSERT_EQ(sent.send(), Status::ok);
    auto next = client.track("next");
    sent.property("late", 1).property("later", "x").user_id("v");
    EXPECT_EQ(next.user_id("u").property("k", 2).send(), Status::ok);
    EXPECT_EQ(sent.send(), Status::invalid_usage);
  }
  // A second writer on the same thread while one is open.
  {
    auto first = client.track("first");
    first.user_id("u");
    EXPECT_EQ(client.track("second").user_id("u").send(), Status::invalid_usage);
    EXPECT_EQ(first.send(), Status::ok);
  }
  // A writer dropped without send() accepts nothing and does not block the next one.
  {
    auto dropped = client.track("dropped");
    dropped.user_id("u").property("x", 1);
  }
  EXPECT_EQ(client.track("after").user_id("u").send(), Status::ok);
  ASSERT_TRUE(client.flush(10s));
  auto const s = client.stats();
  EXPECT_EQ(s.rejected_by_status[static_cast<std::size_t>(Status::invalid_usage)], 6u);
  EXPECT_EQ(s.enqueued, 5u);
  EXPECT_EQ(s.delivered, 5u);
  EXPECT_EQ(collector_.stats().unique_message_ids, 5u);
  std::set<std::string> events;
  for (auto const& m : messages_in(collector_.bodies())) {
    JsonDocument const doc(m);
    std::string const event = string_at(doc.root(), "event");
    events.insert(event);
    if (event == "next") {
      EXPECT_EQ(string_at(doc.root(), "userId"), "u");
      element props;
      ASSERT_EQ(doc.root()["properties"].get(props), simdjson::SUCCESS) << m;
      EXPECT_EQ(json_text(props), R"({"k":2})") << m;
    }
  }
  EXPECT_EQ(events, (std::set<std::string>{"e", "sent", "next", "first", "after"}));
}

}  // namespace
}  // namespace htevents::testing
