// What an operator relies on: the periodic stats callback, the logger (levels, one fallback
// line, never the write key), and the TLS settings failing loudly rather than silently.
#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <vector>

#include "support/client_fixture.hpp"

namespace htevents::testing {
namespace {

using namespace std::chrono_literals;

constexpr char const* secret_key = "wk_live_do-not-print-me";

class Operations : public ClientWithCollector {};

TEST_F(Operations, StatsCallbackSeesMonotonicCountersUntilEverythingIsDelivered) {
  struct Seen {
    std::mutex mutex;
    std::condition_variable changed;
    std::vector<Stats> snapshots;
  } seen;
  Config config = this->config();
  config.stats_interval = 10ms;
  config.on_stats = [&seen](Stats const& s) {
    std::lock_guard lock(seen.mutex);
    seen.snapshots.push_back(s);
    seen.changed.notify_all();
  };
  Client client(write_key, config);
  constexpr std::uint64_t events = 5'000;
  for (std::uint64_t i = 0; i < events; ++i) ASSERT_EQ(client.enqueue(w1_event(i)), Status::ok);
  ASSERT_TRUE(client.flush(10s));
  {
    std::unique_lock lock(seen.mutex);
    // Periodic: it keeps coming after the work is done, and the latest shows all of it.
    ASSERT_TRUE(seen.changed.wait_for(lock, 10s, [&] {
      return seen.snapshots.size() >= 3 && seen.snapshots.back().delivered == events;
    })) << "no third stats snapshot showing every event delivered";
  }
  client.close(10s);
  std::lock_guard lock(seen.mutex);
  for (std::size_t i = 1; i < seen.snapshots.size(); ++i) {
    Stats const& a = seen.snapshots[i - 1];
    Stats const& b = seen.snapshots[i];
    EXPECT_LE(a.enqueued, b.enqueued);
    EXPECT_LE(a.delivered, b.delivered);
    EXPECT_LE(a.bytes_sent, b.bytes_sent);
    EXPECT_LE(b.delivered + b.failed, b.enqueued) << "a snapshot is never ahead of itself";
  }
}

TEST_F(Operations, ZeroStatsIntervalNeverCallsOnStats) {
  int calls = 0;
  Config config = this->config();
  config.on_stats = [&calls](Stats const&) { ++calls; };  // stats_interval stays 0: off
  Client client(write_key, config);
  ASSERT_EQ(client.enqueue(w1_event(1)), Status::ok);
  ASSERT_TRUE(client.flush(5s));
  client.close(5s);
  EXPECT_EQ(calls, 0);
}

// A collector that refuses zstd bodies, so the client logs its one fallback warning.
class OperationsRefusingZstd : public ClientWithCollector {
 protected:
  OperationsRefusingZstd() : ClientWithCollector(options()) {}
  static collector::Options options() {
    collector::Options o;
    o.refused_encodings = {"zstd"};
    return o;
  }
};

TEST_F(OperationsRefusingZstd, LoggerGetsOneFallbackWarningAtWarnLevelAndNeverTheKey) {
  std::mutex mutex;
  std::vector<std::pair<LogLevel, std::string>> lines;
  Config config = this->config();
  config.batch_size = 10;
  config.log_level = LogLevel::warn;
  config.logger = [&](LogLevel level, std::string_view line) {
    std::lock_guard lock(mutex);
    lines.emplace_back(level, std::string(line));
  };
  Client client(secret_key, config);
  for (std::uint64_t i = 0; i < 100; ++i) ASSERT_EQ(client.enqueue(w1_event(i)), Status::ok);
  ASSERT_TRUE(client.close(10s));
  EXPECT_EQ(client.stats().delivered, 100u);
  EXPECT_GE(client.stats().compression_fallbacks, 1u);
  std::lock_guard lock(mutex);
  int warnings = 0;
  for (auto const& [level, line] : lines) {
    EXPECT_EQ(line.find(secret_key), std::string::npos) << line;
    if (level == LogLevel::warn && line.find("gzip") != std::string::npos) ++warnings;
  }
  EXPECT_EQ(warnings, 1) << "the fallback is logged once, however many batches it affects";
}

TEST_F(OperationsRefusingZstd, DefaultLogLevelPassesNoWarnings) {
  std::mutex mutex;
  std::vector<std::string> lines;
  Config config = this->config();
  config.logger = [&](LogLevel, std::string_view line) {
    std::lock_guard lock(mutex);
    lines.emplace_back(line);
  };
  Client client(write_key, config);
  ASSERT_EQ(client.enqueue(w1_event(1)), Status::ok);
  ASSERT_TRUE(client.close(10s));
  std::lock_guard lock(mutex);
  EXPECT_TRUE(lines.empty()) << lines.front();
}

// TLS is verified by default: an https endpoint that is not a TLS server (the plain-HTTP
// collector) fails every message, with a curl detail, never the write key, never silently.
TEST_F(Operations, HttpsToAPlainServerFailsEachMessageWithADetail) {
  std::mutex mutex;
  std::vector<Failure> failures;
  std::vector<std::string> details;
  Config config = this->config();
  config.endpoint = "https://127.0.0.1:" + std::to_string(collector_.port());
  config.max_attempts = 2;
  config.retry_base = 1ms;
  config.retry_max = 5ms;
  config.on_failure = [&](Failure const& f) {
    std::lock_guard lock(mutex);
    failures.push_back(f);
    details.emplace_back(f.detail);
  };
  Client client(secret_key, config);
  for (std::uint64_t i = 0; i < 20; ++i) ASSERT_EQ(client.enqueue(w1_event(i)), Status::ok);
  ASSERT_FALSE(client.close(10s)) << "close() is true only when every accepted message was delivered";
  Stats const s = client.stats();
  EXPECT_EQ(s.delivered, 0u);
  EXPECT_EQ(s.failed, 20u);
  EXPECT_EQ(collector_.stats().events, 0u);
  std::lock_guard lock(mutex);
  ASSERT_EQ(failures.size(), 20u);
  for (std::size_t i = 0; i < details.size(); ++i) {
    EXPECT_EQ(failures[i].http_status, 0);
    EXPECT_EQ(details[i].rfind("curl: ", 0), 0u) << details[i];
    EXPECT_EQ(details[i].find(secret_key), std::string::npos) << details[i];
  }
}

TEST_F(Operations, MissingCaBundleFailsWithoutRetrying) {
  std::mutex mutex;
  std::vector<FailureReason> reasons;
  Config config = this->config();
  config.endpoint = "https://127.0.0.1:" + std::to_string(collector_.port());
  config.ca_bundle = "/nonexistent/htevents-test-ca.pem";
  config.on_failure = [&](Failure const& f) {
    std::lock_guard lock(mutex);
    reasons.push_back(f.reason);
  };
  Client client(write_key, config);
  ASSERT_EQ(client.enqueue(w1_event(1)), Status::ok);
  ASSERT_FALSE(client.close(10s)) << "the message failed: close() says so";
  EXPECT_EQ(client.stats().retries, 0u) << "a CA bundle that cannot be read is not worth a retry";
  std::lock_guard lock(mutex);
  ASSERT_EQ(reasons.size(), 1u);
  EXPECT_EQ(reasons[0], FailureReason::rejected);
}

}  // namespace
}  // namespace htevents::testing
