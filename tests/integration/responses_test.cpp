// Segment's response rules (wire-format.md, Responses), row by row, against the local collector:
// what the client does with each answer, counted on both sides. No timing assertions: counts,
// bounds and the order of requests only.

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <thread>
#include <vector>

#include "support/client_fixture.hpp"
#include "support/recorded_failure.hpp"

namespace htevents::testing {
namespace {

using namespace std::chrono_literals;

// on_failure calls and log lines, copied out of the callbacks.
class Observed {
 public:
  void watch(Config& config) {
    config.on_failure = [this](Failure const& f) {
      std::lock_guard lock(mutex_);
      failures_.push_back(record(f));
    };
    watch_logs(config);
  }
  void watch_logs(Config& config) {
    config.logger = [this](LogLevel level, std::string_view line) {
      std::lock_guard lock(mutex_);
      lines_.emplace_back(level, std::string(line));
    };
  }
  std::vector<Recorded> failures() const {
    std::lock_guard lock(mutex_);
    return failures_;
  }
  // Log lines at `level` that contain every one of `words`.
  std::vector<std::string> lines(LogLevel level, std::vector<std::string_view> const& words = {}) const {
    std::lock_guard lock(mutex_);
    std::vector<std::string> out;
    for (auto const& entry : lines_) {
      std::string const& line = entry.second;  // not a structured binding: clang 14 cannot capture one
      if (entry.first != level) continue;
      if (std::all_of(words.begin(), words.end(), [&](std::string_view w) { return line.find(w) != std::string::npos; }))
        out.push_back(line);
    }
    return out;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<Recorded> failures_;
  std::vector<std::pair<LogLevel, std::string>> lines_;
};

Config plain_config(collector::Collector const& collector) {
  Config config = local_config(collector);
  config.compression = Compression::none;  // no encoding fallback in the way of the row tested
  return config;
}

// ---- 413: split, and only a single message still refused fails --------------------------------

TEST(Responses, TooLargeSplitsUntilPiecesFitAndFailsOnlyTheOversizedMessage) {
  collector::Collector collector({.max_body_bytes = 8 * 1024});
  Observed observed;
  Config config = plain_config(collector);
  config.batch_size = 100;
  observed.watch(config);
  Client client(write_key, config);

  constexpr std::uint64_t events = 300;
  for (std::uint64_t i = 0; i < events; ++i) {
    if (i == 150) {
      Track big = w1_event(i);
      big.message_id = "oversized-message";
      big.properties = {{"blob", std::string(10'000, 'x')}};
      ASSERT_EQ(client.enqueue(big), Status::ok);
    }
    ASSERT_EQ(client.enqueue(w1_event(i)), Status::ok);
  }
  client.flush(30s);  // settles everything; true or false depending on whether failures came before it

  Stats const s = client.stats();
  EXPECT_EQ(s.delivered, events);
  EXPECT_EQ(s.failed, 1u);
  EXPECT_EQ(collector.stats().unique_message_ids, events);
  EXPECT_GE(s.batches_split, 3u) << "every 100-event batch is over 8 KiB";
  auto const failures = observed.failures();
  ASSERT_EQ(failures.size(), 1u);
  EXPECT_EQ(failures[0].reason, FailureReason::rejected);
  EXPECT_EQ(failures[0].http_status, 413);
  EXPECT_TRUE(failures[0].detail.starts_with("HTTP 413")) << failures[0].detail;
  EXPECT_NE(failures[0].json.find("oversized-message"), std::string::npos);
  EXPECT_FALSE(client.close(10s));
}

// ---- 400: split until the refused messages stand alone -----------------------------------------

TEST(Responses, BadRequestIsolatesTheRefusedMessagesWithBoundedExtraRequests) {
  collector::Collector collector({.refuse_marker = "poison-pill"});
  Observed observed;
  Config config = plain_config(collector);
  config.batch_size = 100;
  // Batches close on count only (and at flush), whatever the machine's speed: under TSan an
  // interval close once made 11 batches of the 1,000 events, one request more than counted.
  config.interval = std::chrono::minutes(10);
  observed.watch(config);
  Client client(write_key, config);

  constexpr std::uint64_t events = 1000;
  std::set<std::uint64_t> const marked{17, 450, 455};  // two in one batch, one in another
  for (std::uint64_t i = 0; i < events; ++i) {
    Track t = w1_event(i);
    if (marked.contains(i)) t.event = "poison-pill";
    ASSERT_EQ(client.enqueue(t), Status::ok);
  }
  client.flush(30s);  // settles everything; true or false depending on whether failures came before it

  Stats const s = client.stats();
  collector::Stats const c = collector.stats();
  EXPECT_EQ(s.failed, 3u);
  EXPECT_EQ(s.delivered, events - 3);
  EXPECT_EQ(c.unique_message_ids, events - 3);
  EXPECT_EQ(c.duplicate_message_ids, 0u);
  auto const failures = observed.failures();
  ASSERT_EQ(failures.size(), 3u);
  for (Recorded const& f : failures) {
    EXPECT_EQ(f.reason, FailureReason::rejected);
    EXPECT_EQ(f.http_status, 400);
    EXPECT_NE(f.json.find("poison-pill"), std::string::npos) << f.json;
  }
  // Two batches held marked messages; each halving costs two requests, 7 halvings isolate one
  // message of 100: at most 2 * 7 per marked message.
  EXPECT_EQ(s.batches_split, 2u);
  EXPECT_GT(s.split_requests, 0u);
  EXPECT_LE(s.split_requests, 2u * 7 * 3);
  EXPECT_EQ(c.requests, events / 100 + s.split_requests) << "every extra request is counted";
  EXPECT_EQ(s.requests, c.requests);
  EXPECT_FALSE(client.close(10s));
}

TEST(Responses, ServerRefusingEverythingCostsABoundedNumberOfRequests) {
  collector::Collector collector({.fixed_status = 400});
  Observed observed;
  Config config = plain_config(collector);
  config.batch_size = 100;
  observed.watch(config);
  Client client(write_key, config);
  for (std::uint64_t i = 0; i < 200; ++i) ASSERT_EQ(client.enqueue(w1_event(i)), Status::ok);
  client.flush(30s);  // settles everything; true or false depending on whether failures came before it

  Stats const s = client.stats();
  EXPECT_EQ(s.failed, 200u);
  EXPECT_EQ(s.delivered, 0u);
  EXPECT_EQ(observed.failures().size(), 200u);
  // Splitting stops at the budget (wire-format.md): far fewer than 2n - 2 per batch.
  EXPECT_LE(s.split_requests, 2u * 2 * 7 * 4);
  EXPECT_EQ(collector.stats().requests, 2 + s.split_requests);
  EXPECT_FALSE(client.close(10s));
}

// ---- Transient and permanent statuses ----------------------------------------------------------

TEST(Responses, Status460IsRetried) {
  collector::Collector collector({.fail_first = 3, .fail_first_status = 460});
  Observed observed;
  Config config = plain_config(collector);
  config.batch_size = 10;
  config.max_in_flight = 1;
  config.max_attempts = 5;
  observed.watch(config);
  Client client(write_key, config);
  for (std::uint64_t i = 0; i < 10; ++i) ASSERT_EQ(client.enqueue(w1_event(i)), Status::ok);
  ASSERT_TRUE(client.flush(30s));

  Stats const s = client.stats();
  EXPECT_EQ(s.delivered, 10u);
  EXPECT_EQ(s.failed, 0u);
  EXPECT_EQ(s.retries, 3u);
  EXPECT_EQ(collector.stats().failed_first, 3u);
  EXPECT_EQ(collector.stats().unique_message_ids, 10u);
  client.close(10s);
}

class PermanentStatus : public ::testing::TestWithParam<int> {};

TEST_P(PermanentStatus, FailsAtOnceWithoutRetries) {
  collector::Collector collector({.fixed_status = GetParam()});
  Observed observed;
  Config config = plain_config(collector);
  config.batch_size = 10;
  observed.watch(config);
  Client client(write_key, config);
  for (std::uint64_t i = 0; i < 30; ++i) ASSERT_EQ(client.enqueue(w1_event(i)), Status::ok);
  client.flush(30s);  // settles everything; true or false depending on whether failures came before it

  Stats const s = client.stats();
  EXPECT_EQ(s.failed, 30u);
  EXPECT_EQ(s.retries, 0u);
  EXPECT_EQ(s.requests, s.batches_failed);
  EXPECT_EQ(collector.stats().requests, s.batches_failed);
  for (Recorded const& f : observed.failures()) {
    EXPECT_EQ(f.reason, FailureReason::rejected);
    EXPECT_EQ(f.http_status, GetParam());
  }
  EXPECT_FALSE(client.close(10s));
}

INSTANTIATE_TEST_SUITE_P(Responses, PermanentStatus, ::testing::Values(401, 403, 501, 505, 511));

// ---- Retry-After --------------------------------------------------------------------------------

TEST(Responses, RetryAfterIsHonouredWithoutUsingAttempts) {
  // Three 429s with Retry-After: 1 against max_attempts 2: the waits are the server's, not tries.
  collector::Collector collector({.fail_first = 3, .fail_first_status = 429, .fail_first_retry_after = 1});
  Observed observed;
  Config config = plain_config(collector);
  config.max_attempts = 2;
  observed.watch(config);
  Client client(write_key, config);
  for (std::uint64_t i = 0; i < 10; ++i) ASSERT_EQ(client.enqueue(w1_event(i)), Status::ok);
  ASSERT_TRUE(client.flush(30s));

  Stats const s = client.stats();
  EXPECT_EQ(s.delivered, 10u);
  EXPECT_EQ(s.failed, 0u);
  EXPECT_EQ(collector.stats().failed_first, 3u);
  EXPECT_EQ(collector.stats().requests, 4u);
  client.close(10s);
}

TEST(Responses, RetryAfterPausesEveryBatchUntilItEnds) {
  collector::Collector collector(
      {.fail_first = 1, .fail_first_status = 503, .fail_first_retry_after = 1, .record_envelopes = true});
  Observed observed;
  Config config = plain_config(collector);
  config.log_level = LogLevel::debug;
  observed.watch(config);
  Client client(write_key, config);

  // Batch A gets the 503 + Retry-After; batch B is handed over during the pause.
  ASSERT_EQ(client.enqueue(w1_event(1)), Status::ok);
  for (int i = 0; i < 10'000 && observed.lines(LogLevel::debug, {"retrying"}).empty(); ++i) {
    std::this_thread::sleep_for(1ms);
  }
  ASSERT_FALSE(observed.lines(LogLevel::debug, {"retrying"}).empty());
  ASSERT_EQ(client.enqueue(w1_event(2)), Status::ok);
  ASSERT_TRUE(client.flush(30s));

  auto const envelopes = collector.envelopes();
  ASSERT_EQ(envelopes.size(), 3u);
  EXPECT_EQ(envelopes[0].status, 503);
  // Nothing went out before the pause ended, and the paused batch went first after it.
  EXPECT_EQ(envelopes[1].message_id, envelopes[0].message_id) << "batch B was sent during the pause";
  EXPECT_NE(envelopes[2].message_id, envelopes[0].message_id);
  EXPECT_EQ(client.stats().delivered, 2u);
  client.close(10s);
}

TEST(Responses, AnOutageWithRetryAfterIsRiddenOutWithoutFailures) {
  collector::Collector collector({.outage_retry_after = 1});
  Config config = plain_config(collector);
  config.batch_size = 10;
  config.max_attempts = 1;  // only waits that are not tries can get these through
  Client client(write_key, config);
  // From here, not from the collector's start: under qemu (tools/cross-test.sh) starting the
  // client alone can take longer than the outage, and then no batch meets it.
  collector.start_outage(300ms);
  for (std::uint64_t i = 0; i < 100; ++i) ASSERT_EQ(client.enqueue(w1_event(i)), Status::ok);
  ASSERT_TRUE(client.flush(30s));
  EXPECT_EQ(client.stats().delivered, 100u);
  EXPECT_EQ(client.stats().failed, 0u);
  EXPECT_GE(collector.stats().outage_refusals, 1u);
  client.close(10s);
}

// ---- A fresh sentAt on every attempt ------------------------------------------------------------

TEST(Responses, EveryAttemptCarriesAFreshSentAtAndTheSameIds) {
  collector::Collector collector(
      {.keep_bodies = true, .fail_first = 2, .fail_first_status = 500, .record_envelopes = true});
  Config config = local_config(collector);  // zstd: the envelope is rewritten and recompressed
  Client client(write_key, config);
  for (std::uint64_t i = 0; i < 10; ++i) ASSERT_EQ(client.enqueue(w1_event(i)), Status::ok);
  ASSERT_TRUE(client.flush(30s));

  auto const envelopes = collector.envelopes();
  ASSERT_EQ(envelopes.size(), 3u);
  std::set<std::string> sent_ats;
  for (auto const& e : envelopes) {
    EXPECT_EQ(e.message_id, envelopes[0].message_id) << "a retry keeps the batch messageId";
    EXPECT_FALSE(e.sent_at.empty());
    sent_ats.insert(e.sent_at);
  }
  EXPECT_EQ(sent_ats.size(), 3u) << "each attempt has its own sentAt";
  EXPECT_EQ(collector.stats().unique_message_ids, 10u);
  EXPECT_EQ(collector.stats().duplicate_message_ids, 0u);
  client.close(10s);
}

// ---- Compression fallback (issue 8, edge 7) -----------------------------------------------------

TEST(Responses, ZstdRefusedWith400ReencodesEveryBatchAndFailsNone) {
  collector::Collector collector({.bad_request_encodings = {"zstd"}});
  Config config = local_config(collector);
  config.compression = Compression::zstd;
  config.batch_size = 10;
  Client client(write_key, config);
  for (std::uint64_t i = 0; i < 2000; ++i) ASSERT_EQ(client.enqueue(w1_event(i)), Status::ok);
  ASSERT_TRUE(client.flush(30s));

  Stats const s = client.stats();
  EXPECT_EQ(s.delivered, 2000u);
  EXPECT_EQ(s.failed, 0u);
  EXPECT_EQ(s.compression_fallbacks, 1u);
  EXPECT_EQ(s.batches_split, 0u);
  EXPECT_EQ(collector.stats().unique_message_ids, 2000u);
  EXPECT_EQ(collector.last_headers().content_encoding, "gzip");
  client.close(10s);
}

// ---- What a user sees -----------------------------------------------------------------------------

TEST(Responses, RetriesAreLoggedAtDebugAndARunOfFailuresAtWarn) {
  collector::Collector collector({.fail_first = 4, .fail_first_status = 503});
  Observed observed;
  Config config = plain_config(collector);
  config.max_in_flight = 1;
  config.log_level = LogLevel::debug;
  observed.watch_logs(config);
  Client client(write_key, config);
  ASSERT_EQ(client.enqueue(w1_event(1)), Status::ok);
  ASSERT_TRUE(client.flush(30s));
  EXPECT_EQ(client.stats().delivered, 1u);
  EXPECT_EQ(observed.lines(LogLevel::debug, {"retrying", "HTTP 503"}).size(), 4u);
  EXPECT_EQ(observed.lines(LogLevel::warn, {"3 attempts in a row failed", "HTTP 503"}).size(), 1u);
  EXPECT_EQ(observed.lines(LogLevel::warn, {"delivering again after 4 failed attempts"}).size(), 1u);
  client.close(10s);
}

TEST(Responses, FailedEventsWithoutOnFailureAreLoggedAtErrorRateLimited) {
  collector::Collector collector({.fixed_status = 401});
  Observed observed;
  Config config = plain_config(collector);
  config.batch_size = 10;
  observed.watch_logs(config);  // no on_failure
  {
    Client client(write_key, config);
    for (std::uint64_t i = 0; i < 100; ++i) ASSERT_EQ(client.enqueue(w1_event(i)), Status::ok);
    client.close(10s);
    EXPECT_EQ(client.stats().failed, 100u);
  }
  auto const single = observed.lines(LogLevel::error, {"not delivered", "reason=rejected", "http_status=401", "HTTP 401"});
  auto const summary = observed.lines(LogLevel::error, {"95 more events were not delivered", "http_status=401"});
  EXPECT_EQ(single.size(), 6u) << "five single lines and the summary match";
  EXPECT_EQ(summary.size(), 1u);
  EXPECT_LE(observed.lines(LogLevel::error).size(), 6u) << "rate-limited: not one line per event";
}

TEST(Responses, DeadlineFailureCarriesTheLastErrorSeen) {
  collector::Collector collector({.outage = std::chrono::minutes(10), .outage_drops = true});
  Observed observed;
  Config config = plain_config(collector);
  config.max_attempts = 1'000'000;
  observed.watch(config);
  Client client(write_key, config);
  ASSERT_EQ(client.enqueue(w1_event(1)), Status::ok);
  for (int i = 0; i < 10'000 && collector.stats().outage_refusals < 2; ++i) std::this_thread::sleep_for(1ms);
  ASSERT_GE(collector.stats().outage_refusals, 2u);
  EXPECT_FALSE(client.close(100ms));
  auto const failures = observed.failures();
  ASSERT_EQ(failures.size(), 1u);
  EXPECT_EQ(failures[0].reason, FailureReason::deadline);
  EXPECT_NE(failures[0].detail.find("last error: curl: "), std::string::npos) << failures[0].detail;
}

TEST(Responses, HttpsToAPlainHttpServerFailsAtOnceWithTheTlsError) {
  collector::Collector collector;
  Observed observed;
  Config config = local_config(collector);
  config.endpoint = "https://127.0.0.1:" + std::to_string(collector.port());
  config.max_attempts = 10;
  config.retry_base = 1s;  // were it retried, the default backoff would take many seconds
  config.retry_max = 10s;
  observed.watch(config);
  Client client(write_key, config);
  for (std::uint64_t i = 0; i < 5; ++i) ASSERT_EQ(client.enqueue(w1_event(i)), Status::ok);
  client.flush(30s);  // settles everything; true or false depending on whether failures came before it
  Stats const s = client.stats();
  EXPECT_EQ(s.failed, 5u);
  // The wrong-version answer fails at once. Under load the collector may reset the connection
  // before its answer arrives (a transient error, retried once or twice); never ten attempts.
  EXPECT_LE(s.retries, 2u);
  EXPECT_LE(s.requests, s.batches_failed + 2);
  auto const failures = observed.failures();
  ASSERT_EQ(failures.size(), 5u);
  for (Recorded const& f : failures) {
    EXPECT_EQ(f.reason, FailureReason::rejected);
    EXPECT_NE(f.detail.find("wrong version number"), std::string::npos) << f.detail;
  }
  EXPECT_FALSE(client.close(10s));
}

}  // namespace
}  // namespace htevents::testing
