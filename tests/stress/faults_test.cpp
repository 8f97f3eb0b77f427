// Delivery under faults: a collector that fails, refuses, drops connections, answers slowly or
// not at all, and callbacks that re-enter the client. Every test checks the accounting rule:
// after flush or close, every accepted message was delivered or handed to on_failure, once.

#include <gtest/gtest.h>
#include <simdjson.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "support/client_fixture.hpp"
#include "support/recorded_failure.hpp"
#include "support/sanitized.hpp"

namespace htevents::testing {
namespace {

using namespace std::chrono_literals;

// The messageId of one message's JSON; empty when the JSON does not parse or has none.
std::string message_id_of(std::string const& json) {
  thread_local simdjson::dom::parser parser;
  simdjson::padded_string const padded(json);
  std::string_view id;
  if (parser.parse(padded)["messageId"].get_string().get(id) != simdjson::SUCCESS) return {};
  return std::string(id);
}

// Checks each failure: the reason and status expected, JSON that parses, a messageId among
// `sent` and seen only once. Returns the number of distinct messageIds.
std::size_t check_failures(std::vector<Recorded> const& failures, FailureReason reason, int http_status,
                           std::set<std::string> const& sent) {
  std::set<std::string> seen;
  for (Recorded const& f : failures) {
    EXPECT_EQ(f.reason, reason) << to_string(f.reason) << " " << f.detail;
    EXPECT_EQ(f.http_status, http_status) << f.detail;
    std::string const id = message_id_of(f.json);
    EXPECT_FALSE(id.empty()) << "not a message: " << f.json;
    if (!sent.empty()) {
      EXPECT_TRUE(sent.contains(id)) << "never sent: " << id;
    }
    EXPECT_TRUE(seen.insert(id).second) << "reported twice: " << id;
  }
  return seen.size();
}

Track tagged_event(std::string const& tag, std::uint64_t i) {
  Track t = w1_event(i);
  t.message_id = tag + "-" + std::to_string(i);
  return t;
}

// Enqueues `count` tagged W1 events from the calling thread; returns how many were accepted and
// adds their ids to `sent`.
std::uint64_t enqueue_tagged(Client& client, std::string const& tag, std::uint64_t count,
                             std::set<std::string>& sent) {
  std::uint64_t ok = 0;
  for (std::uint64_t i = 0; i < count; ++i) {
    Track const t = tagged_event(tag, i);
    if (client.enqueue(t) == Status::ok) {
      sent.insert(t.message_id);
      ++ok;
    }
  }
  return ok;
}

// Runs `body(thread_index)` on `n` threads and joins them.
void on_threads(int n, std::function<void(int)> const& body) {
  std::vector<std::thread> threads;
  threads.reserve(static_cast<std::size_t>(n));
  for (int t = 0; t < n; ++t) threads.emplace_back(body, t);
  for (auto& thread : threads) thread.join();
}

// ---------------------------------------------------------------------------------------------
// Retryable faults: everything arrives, once.

TEST(Faults, RetriesDeliverEveryMessageOnce) {
  collector::Options options;
  options.share_500 = 0.2;
  // A 429 with Retry-After pauses every batch for that second (wire-format.md): 1% of the
  // requests is enough to see it honoured without making the test wait half a minute.
  options.share_429 = 0.01;
  options.retry_after_seconds = 1;
  options.share_drop_connection = 0.05;
  options.seed = 20240313;
  collector::Collector collector(options);
  Config config = local_config(collector);
  config.retry_max = 2s;  // at least Retry-After: 1, so that it is honoured rather than capped
  Client client(write_key, config);

  constexpr int threads = 8;
  constexpr std::uint64_t per_thread = 20'000;
  std::atomic<std::uint64_t> accepted{0};
  on_threads(threads, [&](int t) {
    std::uint64_t ok = 0;
    for (std::uint64_t i = 0; i < per_thread; ++i) {
      if (client.enqueue(w1_event(static_cast<std::uint64_t>(t) * per_thread + i)) == Status::ok) ++ok;
    }
    accepted += ok;
  });
  // Retry-After makes 1% of the requests pause sending for a second: generous timeouts.
  ASSERT_TRUE(client.flush(120s));

  Stats const s = client.stats();
  collector::Stats const c = collector.stats();
  EXPECT_EQ(accepted.load(), threads * per_thread) << "the default queue holds the whole run";
  EXPECT_EQ(s.enqueued, accepted.load());
  EXPECT_EQ(s.delivered, accepted.load());
  EXPECT_EQ(s.failed, 0u);
  EXPECT_GT(s.retries, 0u);
  EXPECT_EQ(c.unique_message_ids, accepted.load());
  // The collector decides a drop before it counts the batch, so a dropped connection never
  // counted anything: a resend is never a duplicate here.
  EXPECT_EQ(c.duplicate_message_ids, 0u);
  EXPECT_EQ(c.invalid_messages, 0u);
  EXPECT_GT(c.injected_500, 0u);
  EXPECT_GT(c.injected_429, 0u);
  EXPECT_GT(c.dropped_connections, 0u);
  // curl may replay a request on a fresh connection by itself when a reused one was dropped,
  // so the collector can see more requests than the client made, never fewer.
  EXPECT_GE(c.requests, s.requests);
  EXPECT_TRUE(client.close(30s));
}

// ---------------------------------------------------------------------------------------------
// Permanent failures: each message to on_failure once, each batch sent once.

TEST(Faults, PermanentRejectionFailsEachMessageOnce) {
  collector::Options options;
  options.fixed_status = 403;  // permanent (400 is split to isolate messages: responses_test.cpp)
  collector::Collector collector(options);
  auto log = std::make_shared<FailureLog>();
  Config config = local_config(collector);
  config.compression = Compression::none;  // no encoding fallback: no batch may be sent twice
  config.on_failure = record_into(log);
  Client client(write_key, config);

  std::set<std::string> sent;
  std::uint64_t const accepted = enqueue_tagged(client, "rejected", 3000, sent);
  ASSERT_EQ(accepted, 3000u);
  client.flush(30s);  // settles everything; true or false depending on whether failures came before it

  Stats const s = client.stats();
  collector::Stats const c = collector.stats();
  EXPECT_EQ(s.enqueued, accepted);
  EXPECT_EQ(s.failed, accepted);
  EXPECT_EQ(s.delivered, 0u);
  EXPECT_EQ(s.retries, 0u);
  EXPECT_EQ(s.compression_fallbacks, 0u);
  EXPECT_GT(s.batches_failed, 0u);
  EXPECT_EQ(s.requests, s.batches_failed);
  EXPECT_EQ(c.requests, s.batches_failed) << "a rejected batch was resent";
  EXPECT_EQ(c.answered_4xx, c.requests);
  EXPECT_EQ(c.unique_message_ids, 0u);

  auto const failures = log->items();
  EXPECT_EQ(failures.size(), accepted);
  EXPECT_EQ(check_failures(failures, FailureReason::rejected, 403, sent), accepted);
  for (Recorded const& f : failures) {
    ASSERT_TRUE(f.detail.starts_with("HTTP 403")) << f.detail;
  }
  EXPECT_FALSE(client.close(10s)) << "close() is true only when every accepted message was delivered";
}

TEST(Faults, BadRequestToEveryEncodingFallsBackThenFailsEachMessageOnce) {
  collector::Options options;
  options.fixed_status = 400;
  collector::Collector collector(options);
  auto log = std::make_shared<FailureLog>();
  Config config = local_config(collector);
  config.compression = Compression::zstd;
  config.on_failure = record_into(log);
  Client client(write_key, config);

  std::set<std::string> sent;
  std::uint64_t const accepted = enqueue_tagged(client, "fallback", 2000, sent);
  ASSERT_EQ(accepted, 2000u);
  client.flush(30s);  // settles everything; true or false depending on whether failures came before it

  Stats const s = client.stats();
  collector::Stats const c = collector.stats();
  EXPECT_EQ(s.failed, accepted);
  EXPECT_EQ(s.delivered, 0u);
  // 400 to an encoding that never had a 2xx may mean "not that encoding": zstd, then gzip, are
  // given up once each; uncompressed, 400 is about the messages: split within the budget, fail.
  EXPECT_EQ(s.compression_fallbacks, 2u);
  EXPECT_EQ(s.retries, 0u);
  EXPECT_EQ(s.requests, c.requests);
  EXPECT_GE(c.by_encoding.zstd, 1u);
  EXPECT_GE(c.by_encoding.identity, 1u);
  EXPECT_EQ(collector.last_headers().content_encoding, "");
  EXPECT_EQ(check_failures(log->items(), FailureReason::rejected, 400, sent), accepted);
  EXPECT_FALSE(client.close(10s)) << "close() is true only when every accepted message was delivered";
}

// ---------------------------------------------------------------------------------------------
// Refused encodings (415): fall back and deliver.

struct RefusalCase {
  std::vector<std::string> refused;
  char const* expected_header;  // Content-Encoding of the last request
  std::uint64_t min_fallbacks;
};

void deliver_despite_refusal(RefusalCase const& refusal) {
  collector::Options options;
  options.refused_encodings = refusal.refused;
  collector::Collector collector(options);
  Config config = local_config(collector);
  config.compression = Compression::zstd;
  Client client(write_key, config);

  for (std::uint64_t i = 0; i < 5000; ++i) ASSERT_EQ(client.enqueue(w1_event(i)), Status::ok);
  ASSERT_TRUE(client.flush(30s));

  Stats const s = client.stats();
  collector::Stats const c = collector.stats();
  EXPECT_EQ(s.delivered, 5000u);
  EXPECT_EQ(s.failed, 0u);
  EXPECT_GE(s.compression_fallbacks, refusal.min_fallbacks);
  EXPECT_EQ(c.unique_message_ids, 5000u);
  EXPECT_EQ(c.duplicate_message_ids, 0u);
  EXPECT_EQ(collector.last_headers().content_encoding, refusal.expected_header);
  if (std::string_view(refusal.expected_header) == "gzip") {
    EXPECT_GE(c.by_encoding.gzip, 1u);
    EXPECT_EQ(c.by_encoding.identity, 0u);
  } else {
    EXPECT_GE(c.by_encoding.identity, 1u);
  }
  EXPECT_TRUE(client.close(10s));
}

TEST(Faults, RefusedZstdFallsBackToGzip) { deliver_despite_refusal({{"zstd"}, "gzip", 1}); }

TEST(Faults, RefusedZstdAndGzipFallsBackToNone) { deliver_despite_refusal({{"zstd", "gzip"}, "", 2}); }

// ---------------------------------------------------------------------------------------------
// Retries run out.

TEST(Faults, ServiceUnavailableExhaustsAttempts) {
  collector::Options options;
  options.fixed_status = 503;
  collector::Collector collector(options);
  auto log = std::make_shared<FailureLog>();
  Config config = local_config(collector);
  config.compression = Compression::none;
  config.max_attempts = 3;
  config.retry_base = 1ms;
  config.retry_max = 5ms;
  config.on_failure = record_into(log);
  Client client(write_key, config);

  std::set<std::string> sent;
  std::uint64_t const accepted = enqueue_tagged(client, "unavailable", 2000, sent);
  ASSERT_EQ(accepted, 2000u);
  client.flush(30s);  // settles everything; true or false depending on whether failures came before it

  Stats const s = client.stats();
  collector::Stats const c = collector.stats();
  EXPECT_EQ(s.failed, accepted);
  EXPECT_EQ(s.delivered, 0u);
  EXPECT_GT(s.batches_failed, 0u);
  EXPECT_EQ(s.requests, 3 * s.batches_failed);
  EXPECT_EQ(s.retries, 2 * s.batches_failed);
  EXPECT_EQ(c.requests, 3 * s.batches_failed);
  EXPECT_EQ(c.answered_5xx, c.requests);
  EXPECT_EQ(check_failures(log->items(), FailureReason::retries_exhausted, 503, sent), accepted);
  EXPECT_FALSE(client.close(10s)) << "close() is true only when every accepted message was delivered";
}

// ---------------------------------------------------------------------------------------------
// Backpressure against a collector that cannot keep up.

class SlowCollector : public ::testing::TestWithParam<Backpressure> {};

TEST_P(SlowCollector, PolicyAccountsForEveryMessage) {
  Backpressure const policy = GetParam();
  collector::Options options;
  options.delay = 200ms;
  collector::Collector collector(options);
  auto log = std::make_shared<FailureLog>();
  Config config = local_config(collector);
  config.max_in_flight = 1;
  config.max_queue_bytes = 4 * 64 * 1024;  // the smallest allowed: 3 arena blocks
  config.backpressure = policy;
  config.enqueue_timeout = 20ms;
  config.on_failure = record_into(log);
  Client client(write_key, config);

  // Far more than the queue and the batch buffers hold. Stop early once the policy has shown
  // itself (block waits up to enqueue_timeout per refusal: few of those).
  std::uint64_t const attempts = policy == Backpressure::drop_oldest ? 5000 : 20'000;
  std::uint64_t const enough_refusals = policy == Backpressure::block ? 5 : 200;
  std::uint64_t accepted = 0, queue_full = 0, other = 0;
  for (std::uint64_t i = 0; i < attempts && queue_full < enough_refusals; ++i) {
    switch (client.enqueue(w1_event(i))) {
      case Status::ok: ++accepted; break;
      case Status::queue_full: ++queue_full; break;
      default: ++other; break;
    }
  }
  EXPECT_EQ(other, 0u);
  bool const closed = client.close(60s);

  Stats const s = client.stats();
  EXPECT_EQ(closed, s.failed == 0) << "close() is true exactly when every accepted message was delivered";
  collector::Stats const c = collector.stats();
  EXPECT_EQ(s.enqueued, accepted);
  EXPECT_EQ(s.dropped_newest, queue_full);
  EXPECT_EQ(s.enqueued, s.delivered + s.failed);
  EXPECT_EQ(c.unique_message_ids, s.delivered);
  EXPECT_EQ(c.duplicate_message_ids, 0u);
  auto const failures = log->items();
  EXPECT_EQ(failures.size(), s.failed);
  if (policy == Backpressure::drop_oldest) {
    EXPECT_GT(s.dropped_oldest, 0u);
    EXPECT_EQ(s.failed, s.dropped_oldest);
    EXPECT_EQ(check_failures(failures, FailureReason::evicted, 0, {}), s.dropped_oldest);
  } else {
    EXPECT_GT(queue_full, 0u);
    EXPECT_EQ(s.dropped_oldest, 0u);
    EXPECT_EQ(s.failed, 0u);
  }
}

INSTANTIATE_TEST_SUITE_P(Faults, SlowCollector,
                         ::testing::Values(Backpressure::drop_newest, Backpressure::fail, Backpressure::block,
                                           Backpressure::drop_oldest),
                         [](::testing::TestParamInfo<Backpressure> const& param) -> std::string {
                           switch (param.param) {
                             case Backpressure::block: return "Block";
                             case Backpressure::drop_newest: return "DropNewest";
                             case Backpressure::drop_oldest: return "DropOldest";
                             case Backpressure::fail: return "Fail";
                           }
                           return "Unknown";
                         });

// ---------------------------------------------------------------------------------------------
// An outage: memory stays within max_queue_bytes.

TEST(Faults, MemoryStaysBoundedThroughAnOutage) {
  collector::Options options;
  options.fixed_status = 503;
  collector::Collector collector(options);
  Config config = local_config(collector);
  config.backpressure = Backpressure::drop_newest;
  config.max_queue_bytes = std::size_t{1} << 20;
  Client client(write_key, config);

  constexpr std::uint64_t total = sanitized ? 500'000 : 2'000'000;
  Track const small{.user_id = "u", .event = "e"};
  std::uint64_t accepted = 0, refused = 0, samples = 0;
  for (std::uint64_t i = 0; i < total; ++i) {
    Status const status = client.enqueue(small);
    if (status == Status::ok) {
      ++accepted;
    } else {
      ASSERT_EQ(status, Status::queue_full);
      ++refused;
    }
    if (i % 10'000 == 0) {
      Stats const s = client.stats();
      ASSERT_LE(s.queued_bytes, config.max_queue_bytes) << "after " << i << " enqueues";
      ++samples;
    }
  }
  EXPECT_GT(refused, 0u);
  EXPECT_EQ(samples, total / 10'000);
  client.close(1s);  // may or may not make it: what is left goes to on_failure

  Stats const s = client.stats();
  EXPECT_LE(s.queued_bytes, config.max_queue_bytes);
  EXPECT_EQ(s.enqueued, accepted);
  EXPECT_EQ(s.dropped_newest, refused);
  EXPECT_EQ(s.delivered, 0u);
  EXPECT_EQ(s.enqueued, s.failed);
  EXPECT_EQ(collector.stats().unique_message_ids, 0u);
}

// ---------------------------------------------------------------------------------------------
// close() with a deadline the collector cannot meet.

TEST(Faults, CloseDeadlineHandsBackWhatIsLeft) {
  collector::Options options;
  options.delay = 2s;
  collector::Collector collector(options);
  auto log = std::make_shared<FailureLog>();
  Config config = local_config(collector);
  config.on_failure = record_into(log);
  Client client(write_key, config);

  std::set<std::string> sent;
  std::uint64_t const accepted = enqueue_tagged(client, "deadline", 3000, sent);
  ASSERT_EQ(accepted, 3000u);
  EXPECT_FALSE(client.close(200ms));  // returns (bounded), and says not everything made it

  Stats const s = client.stats();
  EXPECT_EQ(s.enqueued, accepted);
  EXPECT_EQ(s.enqueued, s.delivered + s.failed);
  EXPECT_GT(s.failed, 0u);
  auto const failures = log->items();
  EXPECT_EQ(failures.size(), s.failed);
  EXPECT_EQ(check_failures(failures, FailureReason::deadline, 0, sent), s.failed);
  // Idempotent: the same answer again, at once.
  EXPECT_FALSE(client.close(10s));
  EXPECT_EQ(client.enqueue(w1_event(1)), Status::closed);
}

// ---------------------------------------------------------------------------------------------
// Callbacks that call back into the client.

TEST(Faults, FailureCallbackMayReenterTheClient) {
  collector::Options options;
  options.fixed_status = 400;
  collector::Collector collector(options);
  Config config = local_config(collector);
  config.compression = Compression::none;
  config.batch_size = 10;

  struct Reentry {
    std::atomic<Client*> client{nullptr};
    std::mutex mutex;
    std::condition_variable closed_cv;
    int failures = 0;
    int reenqueued_ok = 0, reenqueued_full = 0, reenqueued_other = 0;
    int flush_true = 0, flush_false = 0;
    bool closed = false;
    bool enqueued_all = false;
    bool close_result = true;
    Status after_close = Status::ok;
  };
  auto r = std::make_shared<Reentry>();
  config.on_failure = [r](Failure const&) {
    Client* client = r->client.load();
    std::unique_lock lock(r->mutex);
    int const n = ++r->failures;
    lock.unlock();
    if (n <= 20) {  // enqueue: subject to backpressure, never waiting
      Status const status =
          client->enqueue(Track{.user_id = "re", .event = "Reentered", .message_id = "re-" + std::to_string(n)});
      lock.lock();
      (status == Status::ok ? r->reenqueued_ok : status == Status::queue_full ? r->reenqueued_full
                                                                                : r->reenqueued_other)++;
      lock.unlock();
    }
    if (n <= 5) {  // flush from a callback: false at once
      bool const flushed = client->flush(10s);
      lock.lock();
      (flushed ? r->flush_true : r->flush_false)++;
      lock.unlock();
    }
    if (n == 30) {  // close from a callback: stops accepting, returns false
      // Only once the test thread has enqueued all 100: otherwise this close races its loop.
      lock.lock();
      r->closed_cv.wait_for(lock, 30s, [&] { return r->enqueued_all; });
      lock.unlock();
      bool const closed = client->close(10s);
      Status const after = client->enqueue(w1_event(0));
      lock.lock();
      r->close_result = closed;
      r->after_close = after;
      r->closed = true;
      lock.unlock();
      r->closed_cv.notify_all();
    }
  };
  Client client(write_key, config);
  r->client.store(&client);

  for (std::uint64_t i = 0; i < 100; ++i) ASSERT_EQ(client.enqueue(w1_event(i)), Status::ok);
  {
    std::lock_guard lock(r->mutex);
    r->enqueued_all = true;
  }
  r->closed_cv.notify_all();
  {
    std::unique_lock lock(r->mutex);
    ASSERT_TRUE(r->closed_cv.wait_for(lock, 30s, [&] { return r->closed; })) << "close from on_failure never ran";
  }
  EXPECT_EQ(client.enqueue(w1_event(1)), Status::closed);
  EXPECT_FALSE(client.flush(1s)) << "flush after close";
  client.close(30s);

  Stats const s = client.stats();
  std::lock_guard lock(r->mutex);
  EXPECT_FALSE(r->close_result);
  EXPECT_EQ(r->after_close, Status::closed);
  EXPECT_EQ(r->flush_true, 0);
  EXPECT_EQ(r->flush_false, 5);
  EXPECT_EQ(r->reenqueued_other, 0);
  EXPECT_EQ(r->reenqueued_ok + r->reenqueued_full, 20);
  EXPECT_GT(r->reenqueued_ok, 0);
  EXPECT_EQ(s.enqueued, 100u + static_cast<std::uint64_t>(r->reenqueued_ok));
  EXPECT_EQ(s.enqueued, s.delivered + s.failed);
  EXPECT_EQ(s.failed, static_cast<std::uint64_t>(r->failures));
}

TEST(Faults, SuccessCallbackMayReadStats) {
  collector::Collector collector;
  Config config = local_config(collector);
  struct Observed {
    std::atomic<Client*> client{nullptr};
    std::mutex mutex;
    std::uint64_t calls = 0, events = 0, inconsistent = 0, flushed = 0;
  };
  auto o = std::make_shared<Observed>();
  config.on_success = [o](Delivery const& d) {
    Client* client = o->client.load();
    Stats const s = client->stats();
    bool const flushed = client->flush(10s);
    std::lock_guard lock(o->mutex);
    ++o->calls;
    o->events += d.events;
    // This batch is counted before its callback runs, and nothing is delivered unaccepted.
    if (s.delivered < o->events || s.delivered + s.failed > s.enqueued) ++o->inconsistent;
    if (flushed) ++o->flushed;
  };
  Client client(write_key, config);
  o->client.store(&client);

  for (std::uint64_t i = 0; i < 5000; ++i) ASSERT_EQ(client.enqueue(w1_event(i)), Status::ok);
  ASSERT_TRUE(client.flush(30s));
  EXPECT_TRUE(client.close(10s));

  Stats const s = client.stats();
  std::lock_guard lock(o->mutex);
  EXPECT_EQ(o->calls, s.batches_sent);
  EXPECT_EQ(o->events, 5000u);
  EXPECT_EQ(o->inconsistent, 0u);
  EXPECT_EQ(o->flushed, 0u);
}

// ---------------------------------------------------------------------------------------------
// Concurrency: flush, stats and close racing with producers.

TEST(Faults, FlushAndStatsRaceWithEnqueuers) {
  collector::Collector collector;
  Config config = local_config(collector);
  Client client(write_key, config);

  constexpr int threads = 8;
  constexpr std::uint64_t per_thread = 5000;
  std::atomic<int> producing{threads};
  std::atomic<std::uint64_t> accepted{0};
  std::uint64_t flushes = 0, inconsistent = 0;
  std::thread observer([&] {
    while (producing.load() > 0) {
      client.flush(20ms);  // either result is fine while producers keep adding
      Stats const s = client.stats();
      if (s.delivered + s.failed > s.enqueued || s.queued_bytes > config.max_queue_bytes) ++inconsistent;
      ++flushes;
    }
  });
  on_threads(threads, [&](int t) {
    std::uint64_t ok = 0;
    for (std::uint64_t i = 0; i < per_thread; ++i) {
      if (client.enqueue(w1_event(static_cast<std::uint64_t>(t) * per_thread + i)) == Status::ok) ++ok;
    }
    accepted += ok;
    --producing;
  });
  observer.join();
  ASSERT_TRUE(client.flush(30s));

  Stats const s = client.stats();
  EXPECT_GT(flushes, 0u);
  EXPECT_EQ(inconsistent, 0u);
  EXPECT_EQ(accepted.load(), threads * per_thread);
  EXPECT_EQ(s.enqueued, accepted.load());
  EXPECT_EQ(s.delivered, accepted.load());
  EXPECT_EQ(collector.stats().unique_message_ids, accepted.load());
  EXPECT_TRUE(client.close(10s));
}

TEST(Faults, CloseRacingWithEnqueuersLosesNothing) {
  collector::Collector collector;
  Config config = local_config(collector);
  config.max_queue_bytes = std::size_t{4} << 20;  // bounds what close() has to drain
  Client client(write_key, config);

  constexpr int threads = 8;
  std::atomic<std::uint64_t> accepted{0}, after_closed{0};
  std::thread closer([&] {
    // Close once the pipeline is demonstrably moving, while producers are still at it.
    collector.wait_for_unique(1000, 30s);
    EXPECT_TRUE(client.close(60s));
  });
  on_threads(threads, [&](int t) {
    std::uint64_t ok = 0;
    for (std::uint64_t i = 0;; ++i) {
      Status const status = client.enqueue(w1_event(static_cast<std::uint64_t>(t) * 10'000'000 + i));
      if (status == Status::closed) break;
      if (status == Status::ok) ++ok;
    }
    // Once closed, always closed.
    if (client.enqueue(w1_event(0)) != Status::closed) ++after_closed;
    accepted += ok;
  });
  closer.join();

  Stats const s = client.stats();
  EXPECT_EQ(after_closed.load(), 0u);
  EXPECT_GT(accepted.load(), 0u);
  EXPECT_EQ(s.enqueued, accepted.load());
  EXPECT_EQ(s.enqueued, s.delivered + s.failed);
  EXPECT_EQ(s.failed, 0u);
  EXPECT_EQ(collector.stats().unique_message_ids, s.delivered);
  EXPECT_EQ(collector.stats().duplicate_message_ids, 0u);
}

}  // namespace
}  // namespace htevents::testing
