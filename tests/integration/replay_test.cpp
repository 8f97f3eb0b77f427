// The replay core of `htevents-cpp replay` (tools/replay): NDJSON lines into a Client, against the
// local collector.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "replay/json_input.hpp"
#include "replay/replay.hpp"
#include "support/client_fixture.hpp"

namespace {

using htevents::Client;
using htevents::replay::LineError;
using htevents::replay::OnError;
using htevents::replay::Options;
using htevents::replay::Result;

std::string track_line(int i) {
  return R"({"type":"track","userId":"user-)" + std::to_string(i) +
         R"(","event":"Order completed","properties":{"total":29.99,"currency":"USD","quantity":)" +
         std::to_string(i % 10) + R"(,"coupon":null},"messageId":"m-)" + std::to_string(i) +
         R"(","timestamp":"2026-11-26T10:00:00.123Z"})";
}

// One line of each type, fields in varied orders (properties before userId, too).
std::string mixed_line(int i) {
  std::string const id = "x-" + std::to_string(i);
  switch (i % 6) {
    case 0: return track_line(i);
    case 1:
      return R"({"traits":{"email":"a@b.c","plan":"pro","age":41},"type":"identify","messageId":")" + id +
             R"(","anonymousId":"anon-1"})";
    case 2:
      return R"({"type":"page","name":"Home","properties":{"path":"/","nested":{"a":[1,2,{"b":null}]}},"userId":"u","messageId":")" +
             id + R"(","context":{"ip":"1.2.3.4","library":{"name":"x"}}})";
    case 3: return R"({"type":"screen","userId":"u","name":"Settings","messageId":")" + id + R"("})";
    case 4:
      return R"({"type":"group","groupId":"g1","userId":"u","traits":{"name":"Acme","big":18446744073709551615,"neg":-5},"messageId":")" +
             id + R"(","integrations":{"All":false}})";
    default:
      return R"({"type":"alias","previousId":"old","userId":"new","messageId":")" + id +
             R"(","timestamp":"2026-11-26T12:00:00+02:00"})";
  }
}

struct Outcome {
  Result result;
  std::vector<std::pair<std::uint64_t, std::string>> errors;
};

class Replay : public htevents::testing::ClientWithCollector {
 protected:
  Outcome replay(std::string const& text, Options options = {}) {
    Outcome run;
    options.on_line_error = [&run](LineError const& e) { run.errors.emplace_back(e.line, std::string(e.reason)); };
    Client client(htevents::testing::write_key, config());
    run.result = htevents::replay::replay(std::string_view(text), client, options);
    EXPECT_TRUE(client.close(std::chrono::seconds(20)));
    return run;
  }

  static std::vector<std::uint64_t> lines_of(Outcome const& run) {
    std::vector<std::uint64_t> lines;
    for (auto const& e : run.errors) lines.push_back(e.first);
    return lines;
  }

  // Lines with bad ones at known numbers (1-based), and the count of good ones.
  static std::string with_bad_lines(int total, std::vector<std::pair<int, std::string>> const& bad, int& good) {
    std::string text;
    good = 0;
    for (int n = 1; n <= total; ++n) {
      std::string line;
      for (auto const& [at, content] : bad)
        if (at == n) line = content;
      if (line.empty()) {
        line = track_line(n);
        ++good;
      }
      text += line + "\n";
    }
    return text;
  }

  static std::vector<std::pair<int, std::string>> bad_lines() {
    return {{3, "this is not json"},
            {10, R"({"type":"track","userId":"u1","eve)"},
            {11, "[1,2,3]"},
            {20, R"({"type":"purchase","userId":"u","event":"e","messageId":"b20"})"},
            {21, R"({"type":"track","userId":"u","messageId":"b21"})"},
            {30, R"({"type":"track","event":"e","messageId":"b30"})"},
            {31, R"({"type":"track","userId":"u","event":"e","messageId":"b31"} {"x":1})"},
            {40, R"({"type":"track","userId":"u","event":"e","timestamp":"yesterday","messageId":"b40"})"},
            {41, R"({"type":"track","userId":"u","event":"e","messageId":"b41")"},
            {55, R"("just a string")"},
            {56, R"({"type":"track","userId":"u","event":"e","properties":[1],"messageId":"b56"})"},
            {70, R"({"type":"track","userId":"u","event":"e","properties":{"a":tru},"messageId":"b70"})"}};
  }
};

TEST_F(Replay, EveryValidLineArrivesOnce) {
  std::string text;
  int const n = 3000;
  for (int i = 0; i < n; ++i) text += mixed_line(i) + "\n";
  Outcome const run = replay(text);
  EXPECT_TRUE(run.errors.empty()) << run.errors.front().first << ": " << run.errors.front().second;
  EXPECT_EQ(run.result.totals.sent, static_cast<std::uint64_t>(n));
  EXPECT_EQ(run.result.totals.lines, static_cast<std::uint64_t>(n));
  EXPECT_EQ(run.result.totals.rejected, 0u);
  EXPECT_EQ(run.result.totals.bytes, text.size());
  ASSERT_TRUE(collector_.wait_for_unique(n, std::chrono::seconds(10)));
  auto const stats = collector_.stats();
  EXPECT_EQ(stats.unique_message_ids, static_cast<std::uint64_t>(n));
  EXPECT_EQ(stats.duplicate_message_ids, 0u);
  EXPECT_EQ(stats.invalid_messages, 0u);
  EXPECT_EQ(stats.by_type.track, 500u);
  EXPECT_EQ(stats.by_type.alias, 500u);
}

TEST_F(Replay, KeepsNestedValuesAndFields) {
  Outcome const run = replay(mixed_line(2) + "\n" + mixed_line(4) + "\n" + mixed_line(5) + "\n");
  ASSERT_TRUE(run.errors.empty());
  ASSERT_TRUE(collector_.wait_for_unique(3, std::chrono::seconds(10)));
  std::string all;
  for (auto const& body : collector_.bodies()) all += body;
  EXPECT_NE(all.find(R"("nested":{"a":[1,2,{"b":null}]})"), std::string::npos) << all;
  EXPECT_NE(all.find(R"("big":18446744073709551615)"), std::string::npos) << all;
  EXPECT_NE(all.find(R"("neg":-5)"), std::string::npos) << all;
  EXPECT_NE(all.find(R"("ip":"1.2.3.4")"), std::string::npos) << all;
  EXPECT_NE(all.find(R"("All":false)"), std::string::npos) << all;
  EXPECT_NE(all.find(R"("previousId":"old")"), std::string::npos) << all;
  EXPECT_NE(all.find("2026-11-26T10:00:00"), std::string::npos) << all;  // 12:00+02:00 in UTC
}

TEST_F(Replay, ReportsBadLinesWithTheirNumbersAndSendsTheRest) {
  int good = 0;
  std::string const text = with_bad_lines(100, bad_lines(), good);
  Outcome const run = replay(text);
  std::vector<std::uint64_t> expected;
  for (auto const& [at, content] : bad_lines()) expected.push_back(static_cast<std::uint64_t>(at));
  EXPECT_EQ(lines_of(run), expected);
  EXPECT_EQ(run.result.totals.sent, static_cast<std::uint64_t>(good));
  EXPECT_EQ(run.result.totals.rejected, expected.size());
  EXPECT_FALSE(run.result.stopped);
  ASSERT_TRUE(collector_.wait_for_unique(static_cast<std::uint64_t>(good), std::chrono::seconds(10)));
  EXPECT_EQ(collector_.stats().unique_message_ids, static_cast<std::uint64_t>(good));
  // A few reasons, as a user reads them.
  EXPECT_EQ(run.errors[2].second, "not a JSON object");
  EXPECT_EQ(run.errors[3].second, R"(unknown type "purchase")");
  EXPECT_EQ(run.errors[6].second, "extra text after the JSON object");
  EXPECT_EQ(run.errors[10].second, R"("properties" is not an object)");
}

TEST_F(Replay, StreamAndLineByLineAgreeAtAnyBatchSize) {
  int good = 0;
  std::string const text = with_bad_lines(400, bad_lines(), good);
  Options line_by_line;
  line_by_line.stream_batch_bytes = 0;
  Outcome const reference = replay(text, line_by_line);
  ASSERT_EQ(reference.errors.size(), bad_lines().size());
  for (std::size_t batch : {std::size_t{300}, std::size_t{1024}, std::size_t{4096}, std::size_t{1} << 20}) {
    Options options;
    options.stream_batch_bytes = batch;
    options.read_bytes = 5000;  // many chunks, lines cut at chunk ends
    Outcome const run = replay(text, options);
    EXPECT_EQ(run.errors, reference.errors) << "batch " << batch;
    EXPECT_EQ(run.result.totals.sent, static_cast<std::uint64_t>(good)) << "batch " << batch;
  }
}

TEST_F(Replay, StopEndsAtTheFirstBadLine) {
  int good = 0;
  std::string const text = with_bad_lines(100, bad_lines(), good);
  Options options;
  options.on_error = OnError::stop;
  Outcome const run = replay(text, options);
  ASSERT_EQ(run.errors.size(), 1u);
  EXPECT_EQ(run.errors[0].first, 3u);
  EXPECT_TRUE(run.result.stopped);
  EXPECT_EQ(run.result.totals.sent, 2u);
  ASSERT_TRUE(collector_.wait_for_unique(2, std::chrono::seconds(10)));
  EXPECT_EQ(collector_.stats().unique_message_ids, 2u);
}

TEST_F(Replay, CountsBlankLinesAndHandlesALastLineWithoutNewline) {
  // Appended piece by piece: GCC 12 -O3 warns falsely (-Wrestrict, bug 105329) on "lit" + std::string&&.
  std::string text = "\n";
  text.append(track_line(1)).append("\n\n  \r\n").append(track_line(2)).append("\r\n\nnope\n").append(track_line(3));
  Outcome const run = replay(text);
  ASSERT_EQ(run.errors.size(), 1u);
  EXPECT_EQ(run.errors[0].first, 7u);
  EXPECT_EQ(run.result.totals.sent, 3u);
  EXPECT_EQ(run.result.totals.lines, 4u);
}

TEST_F(Replay, ReadsAStreamWithLinesLongerThanAChunk) {
  std::string long_value(20000, 'x');
  std::string text = track_line(1) + "\n";
  text += R"({"type":"track","userId":"u","event":"e","messageId":"long","properties":{"v":")" + long_value + "\"}}\n";
  text += track_line(2) + "\n";
  std::istringstream in(text);
  Options options;
  options.read_bytes = 4096;
  std::vector<std::uint64_t> errors;
  options.on_line_error = [&](LineError const& e) { errors.push_back(e.line); };
  Client client(htevents::testing::write_key, config());
  Result const result = htevents::replay::replay(in, client, options);
  EXPECT_TRUE(client.close(std::chrono::seconds(20)));
  EXPECT_TRUE(errors.empty());
  EXPECT_EQ(result.totals.sent, 3u);
  EXPECT_TRUE(collector_.wait_for_unique(3, std::chrono::seconds(10)));
}

TEST(JsonInput, ParsesRfc3339) {
  using namespace std::chrono;
  auto const t = htevents::replay::parse_rfc3339("2026-11-26T10:00:00.5Z");
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(*t, sys_days(year(2026) / 11 / 26) + hours(10) + milliseconds(500));
  EXPECT_EQ(*htevents::replay::parse_rfc3339("2026-11-26T12:00:00+02:00"), sys_days(year(2026) / 11 / 26) + hours(10));
  EXPECT_FALSE(htevents::replay::parse_rfc3339("2026-11-26"));
  EXPECT_FALSE(htevents::replay::parse_rfc3339("2026-02-30T00:00:00Z"));
  EXPECT_FALSE(htevents::replay::parse_rfc3339("2026-11-26T10:00:00"));
  EXPECT_FALSE(htevents::replay::parse_rfc3339("2026-11-26T10:00:00Zjunk"));
}

TEST(JsonInput, ParsesObjectsWithEveryKindOfValue) {
  htevents::Object object;
  EXPECT_EQ(htevents::replay::parse_object(R"({"s":"a\n","i":-3,"u":18446744073709551615,"d":1.5,"b":true,"n":null,"a":[1,"x"],"o":{"k":{}}})", object), "");
  EXPECT_EQ(object, (htevents::Object{{"s", "a\n"},
                                      {"i", -3},
                                      {"u", std::uint64_t{18446744073709551615u}},
                                      {"d", 1.5},
                                      {"b", true},
                                      {"n", nullptr},
                                      {"a", htevents::Array{1, "x"}},
                                      {"o", htevents::Object{{"k", htevents::Object{}}}}}));
  EXPECT_EQ(htevents::replay::parse_object("[1]", object), "not a JSON object");
  EXPECT_NE(htevents::replay::parse_object(R"({"a":)", object), "");
  EXPECT_NE(htevents::replay::parse_object(R"({"a":1} x)", object), "");
}

}  // namespace
