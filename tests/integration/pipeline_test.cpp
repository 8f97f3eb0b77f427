// The pipeline end to end against the local collector: compression, batching limits, the
// interval, flush/close semantics, many producer threads with exact counts, thread and client
// lifetimes, and the consistency of Stats and on_success.
#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <cstdio>
#include <chrono>
#include <cstdint>
#include <future>
#include <latch>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "support/client_fixture.hpp"
#include "support/sanitized.hpp"
#include "support/wire_json.hpp"

namespace htevents::testing {
namespace {

using namespace std::chrono_literals;

// Messages per body, parsed.
std::vector<std::size_t> batch_sizes(std::vector<std::string> const& bodies) {
  std::vector<std::size_t> sizes;
  for (auto const& body : bodies) {
    JsonDocument const doc(body);
    EXPECT_TRUE(doc.ok()) << doc.error();
    simdjson::dom::array batch;
    EXPECT_EQ(doc.root()["batch"].get_array().get(batch), simdjson::SUCCESS);
    sizes.push_back(batch.size());
  }
  return sizes;
}

class Pipeline : public ClientWithCollector {};

// A collector that keeps no bodies, for volume.
class PipelineVolume : public ClientWithCollector {
 protected:
  PipelineVolume() : ClientWithCollector(options()) {}
  static collector::Options options() {
    collector::Options o;
    o.threads = 2;
    return o;
  }
};

TEST_F(Pipeline, EachCompressionDelivers) {
  struct Case {
    Compression compression;
    std::uint64_t collector::EncodingCounts::*counter;
  };
  for (Case const c : {Case{Compression::none, &collector::EncodingCounts::identity},
                       Case{Compression::gzip, &collector::EncodingCounts::gzip},
                       Case{Compression::zstd, &collector::EncodingCounts::zstd}}) {
    SCOPED_TRACE(static_cast<int>(c.compression));
    collector::Collector collector;
    Config config = local_config(collector);
    config.compression = c.compression;
    config.batch_size = 50;
    Client client(write_key, config);
    for (std::uint64_t i = 0; i < 200; ++i) ASSERT_EQ(client.enqueue(w1_event(i)), Status::ok);
    ASSERT_TRUE(client.flush(10s));
    auto const cs = collector.stats();
    EXPECT_EQ(cs.unique_message_ids, 200u);
    EXPECT_EQ(cs.invalid_messages, 0u);
    EXPECT_GE(cs.requests, 4u);
    EXPECT_EQ(cs.by_encoding.*c.counter, cs.requests);
    EXPECT_EQ(cs.by_encoding.identity + cs.by_encoding.gzip + cs.by_encoding.zstd, cs.requests);
    auto const s = client.stats();
    EXPECT_EQ(s.delivered, 200u);
    EXPECT_EQ(s.compression_fallbacks, 0u);
    EXPECT_EQ(s.bytes_sent, cs.bytes_received);
    EXPECT_EQ(s.bytes_uncompressed, cs.bytes_decoded);
    if (c.compression == Compression::none) {
      EXPECT_EQ(s.bytes_sent, s.bytes_uncompressed);
    } else {
      EXPECT_LT(s.bytes_sent, s.bytes_uncompressed);
    }
  }
}

TEST_F(Pipeline, BatchSizeBoundsEachRequest) {
  Config config = this->config();
  config.batch_size = 10;
  config.interval = 30s;  // only full batches, and the last one at flush
  Client client(write_key, config);
  for (std::uint64_t i = 0; i < 95; ++i) ASSERT_EQ(client.enqueue(w1_event(i)), Status::ok);
  ASSERT_TRUE(client.flush(10s));
  auto const bodies = collector_.bodies();
  ASSERT_EQ(bodies.size(), 10u);
  auto const sizes = batch_sizes(bodies);
  std::size_t total = 0;
  std::size_t full = 0;
  for (auto n : sizes) {
    EXPECT_LE(n, 10u);
    total += n;
    full += n == 10 ? 1 : 0;
  }
  EXPECT_EQ(total, 95u);
  EXPECT_EQ(full, 9u);
  EXPECT_EQ(collector_.stats().requests, 10u);
  EXPECT_EQ(client.stats().batches_sent, 10u);
}

TEST_F(Pipeline, MaxBatchBytesBoundsEachBody) {
  Config config = this->config();
  config.max_message_bytes = 1000;
  config.max_batch_bytes = 5096;  // the least allowed: one message + 4 KiB of envelope
  config.interval = 30s;
  Client client(write_key, config);
  constexpr std::uint64_t count = 500;
  for (std::uint64_t i = 0; i < count; ++i) {
    if (i % 2 == 0) {
      ASSERT_EQ(client.enqueue(w1_event(i)), Status::ok);
    } else {
      ASSERT_EQ(send_w1_fast(client, i), Status::ok);
    }
  }
  // Messages near the message limit: a few per body at most.
  for (int i = 0; i < 50; ++i) {
    ASSERT_EQ(client.enqueue(Track{.user_id = "u", .event = "big", .properties = {{"pad", std::string(800, 'x')}}}),
              Status::ok);
  }
  ASSERT_TRUE(client.flush(10s));
  auto const bodies = collector_.bodies();
  ASSERT_GT(bodies.size(), 10u);
  for (auto const& body : bodies) EXPECT_LE(body.size(), config.max_batch_bytes);
  std::size_t total = 0;
  for (auto n : batch_sizes(bodies)) total += n;
  EXPECT_EQ(total, count + 50);
  EXPECT_EQ(collector_.stats().unique_message_ids, count + 50);
  EXPECT_EQ(client.stats().delivered, count + 50);
}

TEST_F(Pipeline, LargeDefaultContextNeverOverflowsMaxBatchBytes) {
  // The envelope carries default_context: either the config is refused, or bodies still respect
  // max_batch_bytes (see /tmp/htevents-bugs.md, "Heap buffer overflow in Serializer::close_batch").
  Config config = this->config();
  config.max_message_bytes = 256;
  config.max_batch_bytes = 256 + 4096;
  config.compression = Compression::none;
  config.default_context = {{"big", std::string(8000, 'x')}};
  std::unique_ptr<Client> client;
  try {
    client = std::make_unique<Client>(write_key, config);
  } catch (ConfigError const& e) {
    std::string const what = e.what();
    EXPECT_TRUE(what.find("default_context") != std::string::npos || what.find("max_batch_bytes") != std::string::npos)
        << what;
    return;
  }
  ASSERT_EQ(client->enqueue(Track{.user_id = "u", .event = "e"}), Status::ok);
  client->close(10s);
  for (auto const& body : collector_.bodies()) EXPECT_LE(body.size(), config.max_batch_bytes);
  auto const s = client->stats();
  EXPECT_EQ(s.delivered + s.failed, 1u);
}

TEST_F(Pipeline, IntervalSendsWithoutFlush) {
  Config config = this->config();
  config.interval = 50ms;
  Client client(write_key, config);
  ASSERT_EQ(client.enqueue(Track{.user_id = "u", .event = "lonely"}), Status::ok);
  EXPECT_TRUE(collector_.wait_for_unique(1, 10s));
  ASSERT_EQ(client.track("lonely too").user_id("u").send(), Status::ok);
  EXPECT_TRUE(collector_.wait_for_unique(2, 10s));
  EXPECT_EQ(collector_.stats().requests, 2u);
}

TEST_F(Pipeline, FlushDeliversEverythingEnqueuedBefore) {
  Config config = this->config();
  config.interval = 30s;  // flush, not the timer, must send the partial batch
  Client client(write_key, config);
  for (int round = 1; round <= 3; ++round) {
    for (std::uint64_t i = 0; i < 333; ++i) {
      ASSERT_EQ(i % 3 == 0 ? send_w1_fast(client, i) : client.enqueue(w1_event(i)), Status::ok);
    }
    ASSERT_TRUE(client.flush(10s));
    std::uint64_t const expected = 333u * static_cast<std::uint64_t>(round);
    EXPECT_EQ(collector_.stats().unique_message_ids, expected);  // no waiting: flush already did
    auto const s = client.stats();
    EXPECT_EQ(s.delivered, expected);
    EXPECT_EQ(s.pending(), 0u);
    EXPECT_EQ(s.queued_events, 0u);
  }
  // Flushing with nothing pending succeeds at once.
  EXPECT_TRUE(client.flush(10s));
}

TEST_F(Pipeline, FlushCoversWhatOtherThreadsEnqueuedBefore) {
  Config config = this->config();
  config.interval = 30s;
  Client client(write_key, config);
  std::atomic<bool> stop{false};
  std::atomic<std::uint64_t> background_ok{0};
  std::thread background([&] {  // keeps traffic going during the flush
    for (std::uint64_t i = 0; !stop.load(std::memory_order_relaxed); ++i) {
      if (client.enqueue(w1_event(i)) == Status::ok) ++background_ok;
    }
  });
  std::promise<void> done;
  std::promise<void> release;
  std::thread identifier([&, go = release.get_future()]() mutable {
    for (int i = 0; i < 1000; ++i) {
      EXPECT_EQ(i % 2 == 0 ? client.enqueue(Identify{.user_id = "u", .traits = {{"i", i}}})
                           : client.identify().user_id("u").trait("i", i).send(),
                Status::ok);
    }
    done.set_value();
    go.wait();  // stays alive: flush must not depend on the thread exiting
  });
  done.get_future().wait();
  EXPECT_TRUE(client.flush(10s));
  EXPECT_EQ(collector_.stats().by_type.identify, 1000u);
  release.set_value();
  identifier.join();
  stop = true;
  background.join();
  EXPECT_TRUE(client.close(30s));
  EXPECT_EQ(collector_.stats().unique_message_ids, 1000u + background_ok.load());
  EXPECT_EQ(client.stats().delivered, 1000u + background_ok.load());
}

TEST_F(Pipeline, CloseDeliversEverythingAndIsIdempotent) {
  Config config = this->config();
  config.interval = 30s;
  Client client(write_key, config);
  for (std::uint64_t i = 0; i < 1000; ++i) ASSERT_EQ(client.enqueue(w1_event(i)), Status::ok);
  EXPECT_TRUE(client.close(10s));
  EXPECT_EQ(collector_.stats().unique_message_ids, 1000u);
  EXPECT_EQ(client.stats().delivered, 1000u);
  EXPECT_TRUE(client.close(10s));
  EXPECT_TRUE(client.close());
  EXPECT_EQ(client.stats().delivered, 1000u);
}

TEST_F(Pipeline, EnqueueAfterCloseIsRefused) {
  Client client(write_key, config());
  ASSERT_EQ(client.enqueue(Track{.user_id = "u", .event = "before"}), Status::ok);
  ASSERT_TRUE(client.close(10s));
  EXPECT_EQ(client.enqueue(Track{.user_id = "u", .event = "after"}), Status::closed);
  EXPECT_EQ(client.enqueue(Identify{.user_id = "u"}), Status::closed);
  EXPECT_EQ(client.track("after").user_id("u").send(), Status::closed);
  EXPECT_EQ(client.alias("p").user_id("u").send(), Status::closed);
  EXPECT_FALSE(client.flush(1s));  // documented: false after close
  auto const s = client.stats();
  EXPECT_EQ(s.enqueued, 1u);
  EXPECT_EQ(s.delivered, 1u);
  EXPECT_EQ(s.rejected, 4u);
  EXPECT_EQ(s.rejected_by_status[static_cast<std::size_t>(Status::closed)], 4u);
  EXPECT_EQ(collector_.stats().unique_message_ids, 1u);
}

TEST_F(Pipeline, DestructorClosesAndDelivers) {
  {
    Config config = this->config();
    config.interval = 30s;
    Client client(write_key, config);
    for (std::uint64_t i = 0; i < 500; ++i) ASSERT_EQ(client.enqueue(w1_event(i)), Status::ok);
    for (std::uint64_t i = 0; i < 500; ++i) ASSERT_EQ(send_w1_fast(client, i), Status::ok);
  }
  EXPECT_EQ(collector_.stats().unique_message_ids, 1000u);  // no waiting: the destructor did
}

TEST_F(PipelineVolume, ManyThreadsExactCounts) {
  constexpr int threads = 8;
  std::uint64_t const per_thread = sanitized ? 10'000 : 100'000;
  Config config = this->config();
  config.enqueue_timeout = 30s;  // block rather than refuse: every event must be accepted
  Client client(write_key, config);
  std::array<std::uint64_t, threads> ok{};
  std::array<std::uint64_t, threads> refused{};
  std::latch start(threads + 1);
  std::vector<std::thread> producers;
  for (int t = 0; t < threads; ++t) {
    producers.emplace_back([&, t] {
      std::uint64_t const base = static_cast<std::uint64_t>(t) * per_thread;
      start.arrive_and_wait();
      for (std::uint64_t i = base; i < base + per_thread; ++i) {
        Status const s = t % 2 == 0 ? send_w1_fast(client, i) : client.enqueue(w1_event(i));
        (s == Status::ok ? ok : refused)[static_cast<std::size_t>(t)]++;
      }
    });
  }
  auto const started = std::chrono::steady_clock::now();
  start.arrive_and_wait();
  for (auto& p : producers) p.join();
  ASSERT_TRUE(client.close(60s));
  auto const elapsed = std::chrono::steady_clock::now() - started;

  std::uint64_t sum_ok = 0;
  std::uint64_t sum_refused = 0;
  for (int t = 0; t < threads; ++t) {
    sum_ok += ok[static_cast<std::size_t>(t)];
    sum_refused += refused[static_cast<std::size_t>(t)];
  }
  auto const s = client.stats();
  auto const cs = collector_.stats();
  EXPECT_EQ(sum_refused, 0u);
  EXPECT_EQ(sum_ok, threads * per_thread);
  EXPECT_EQ(cs.unique_message_ids, sum_ok);
  EXPECT_EQ(s.delivered, sum_ok);
  EXPECT_EQ(s.enqueued, sum_ok);
  EXPECT_EQ(s.failed, 0u);
  EXPECT_EQ(cs.duplicate_message_ids, 0u);
  EXPECT_EQ(cs.invalid_messages, 0u);
  EXPECT_EQ(cs.by_type.track, sum_ok);
  RecordProperty("events_per_second",
                 std::to_string(static_cast<double>(sum_ok) / std::chrono::duration<double>(elapsed).count()));
  std::printf("[ info     ] %llu events from %d threads in %.3f s (enqueue to last delivery)\n",
              static_cast<unsigned long long>(sum_ok), threads, std::chrono::duration<double>(elapsed).count());
}

TEST_F(Pipeline, TwoClientsFromTheSameThreads) {
  collector::Collector other;
  Client a(write_key, config());
  Client b(write_key, local_config(other));
  constexpr int threads = 4;
  constexpr std::uint64_t per_thread = 2'000;
  std::atomic<std::uint64_t> failures{0};
  std::vector<std::thread> producers;
  for (int t = 0; t < threads; ++t) {
    producers.emplace_back([&, t] {
      std::uint64_t const base = static_cast<std::uint64_t>(t) * per_thread;
      for (std::uint64_t i = base; i < base + per_thread; ++i) {
        switch (i % 3) {
          case 0:
            if (a.enqueue(w1_event(i)) != Status::ok) ++failures;
            if (b.enqueue(w1_event(i)) != Status::ok) ++failures;
            break;
          case 1:
            if (send_w1_fast(b, i) != Status::ok) ++failures;
            if (send_w1_fast(a, i) != Status::ok) ++failures;
            break;
          default: {
            // One writer open on each client at once, on the same thread.
            auto wa = a.track("Order completed");
            auto wb = b.track("Order completed");
            wa.user_id("ua").property("i", i);
            wb.user_id("ub").property("i", i);
            if (wb.send() != Status::ok) ++failures;
            if (wa.send() != Status::ok) ++failures;
          }
        }
      }
    });
  }
  for (auto& p : producers) p.join();
  EXPECT_TRUE(a.close(30s));
  EXPECT_TRUE(b.close(30s));
  EXPECT_EQ(failures.load(), 0u);
  std::uint64_t const each = threads * per_thread;
  EXPECT_EQ(collector_.stats().unique_message_ids, each);
  EXPECT_EQ(other.stats().unique_message_ids, each);
  EXPECT_EQ(a.stats().delivered, each);
  EXPECT_EQ(b.stats().delivered, each);
  EXPECT_EQ(collector_.stats().duplicate_message_ids + other.stats().duplicate_message_ids, 0u);
}

TEST_F(Pipeline, EventsOfAThreadThatExitedArrive) {
  Config config = this->config();
  config.interval = 30s;  // nothing leaves before close
  Client client(write_key, config);
  std::vector<std::thread> gone;
  for (int t = 0; t < 4; ++t) {
    gone.emplace_back([&client, t] {
      std::uint64_t const base = static_cast<std::uint64_t>(t) * 1000;
      for (std::uint64_t i = base; i < base + 1000; ++i) {
        EXPECT_EQ(i % 2 == 0 ? client.enqueue(w1_event(i)) : send_w1_fast(client, i), Status::ok);
      }
    });
  }
  for (auto& t : gone) t.join();  // the threads and their thread-local state are gone
  EXPECT_TRUE(client.close(30s));
  EXPECT_EQ(collector_.stats().unique_message_ids, 4000u);
  EXPECT_EQ(client.stats().delivered, 4000u);
}

TEST_F(Pipeline, ProducerThreadOutlivesItsClient) {
  auto first = std::make_unique<Client>(write_key, config());
  std::promise<void> used_first;
  std::promise<void> first_gone;
  std::unique_ptr<Client> second;
  std::array<Status, 4> results{Status::closed, Status::closed, Status::closed, Status::closed};
  std::thread producer([&, gone = first_gone.get_future()]() mutable {
    results[0] = first->enqueue(Track{.user_id = "u", .event = "to first"});
    results[1] = first->track("to first, fast").user_id("u").send();
    used_first.set_value();
    gone.wait();  // the first client is destroyed; this thread still holds its thread-locals
    results[2] = second->enqueue(Track{.user_id = "u", .event = "to second"});
    results[3] = second->track("to second, fast").user_id("u").send();
  });
  used_first.get_future().wait();
  first.reset();
  EXPECT_EQ(collector_.stats().unique_message_ids, 2u);
  // Very likely at the address the first one had: stale per-thread state must not be reused.
  second = std::make_unique<Client>(write_key, config());
  first_gone.set_value();
  producer.join();
  for (Status s : results) EXPECT_EQ(s, Status::ok);
  EXPECT_TRUE(second->close(30s));
  EXPECT_EQ(second->stats().delivered, 2u);
  EXPECT_EQ(second->stats().enqueued, 2u);
  EXPECT_EQ(collector_.stats().unique_message_ids, 4u);
}

TEST_F(Pipeline, ManyShortLivedClientsOnOneThread) {
  for (int round = 0; round < 20; ++round) {
    Client client(write_key, config());
    ASSERT_EQ(client.enqueue(w1_event(static_cast<std::uint64_t>(round))), Status::ok);
    ASSERT_EQ(send_w1_fast(client, static_cast<std::uint64_t>(round)), Status::ok);
    EXPECT_EQ(client.stats().enqueued, 2u) << round;
  }
  EXPECT_EQ(collector_.stats().unique_message_ids, 40u);
}

TEST_F(Pipeline, StatsAreConsistentAfterFlush) {
  Client client(write_key, config());
  for (std::uint64_t i = 0; i < 1000; ++i) ASSERT_EQ(client.enqueue(w1_event(i)), Status::ok);
  EXPECT_EQ(client.enqueue(Track{.user_id = "u"}), Status::missing_event);
  EXPECT_EQ(client.enqueue(Identify{}), Status::missing_user_id);
  auto const mid = client.stats();
  EXPECT_EQ(mid.enqueued, mid.delivered + mid.failed + mid.pending());
  EXPECT_LE(mid.delivered + mid.failed, mid.enqueued);
  ASSERT_TRUE(client.flush(10s));
  auto const s = client.stats();
  auto const cs = collector_.stats();
  EXPECT_EQ(s.enqueued, 1000u);
  EXPECT_EQ(s.enqueued, s.delivered + s.failed + s.pending());
  EXPECT_EQ(s.pending(), 0u);
  EXPECT_EQ(s.delivered, 1000u);
  EXPECT_EQ(s.failed, 0u);
  EXPECT_EQ(s.rejected, 2u);
  EXPECT_EQ(s.dropped, 0u);
  EXPECT_EQ(s.queued_events, 0u);
  EXPECT_EQ(s.in_flight, 0u);
  EXPECT_EQ(s.retries, 0u);
  EXPECT_EQ(s.batches_sent, cs.accepted_batches);
  EXPECT_EQ(s.requests, cs.requests);
  EXPECT_EQ(s.bytes_sent, cs.bytes_received);
  EXPECT_EQ(s.bytes_uncompressed, cs.bytes_decoded);
}

TEST_F(Pipeline, OnSuccessCountsSumToDelivered) {
  struct Tally {
    std::atomic<std::uint64_t> calls{0}, events{0}, bytes_uncompressed{0}, bytes_sent{0}, not_200{0}, retried{0};
  };
  auto tally = std::make_shared<Tally>();
  Config config = this->config();
  config.batch_size = 37;
  config.on_success = [tally](Delivery const& d) {
    ++tally->calls;
    tally->events += d.events;
    tally->bytes_uncompressed += d.bytes_uncompressed;
    tally->bytes_sent += d.bytes_sent;
    if (d.http_status != 200) ++tally->not_200;
    if (d.attempts != 1) ++tally->retried;
  };
  std::uint64_t failures = 0;
  config.on_failure = [&failures](Failure const&) { ++failures; };
  Client client(write_key, config);
  for (std::uint64_t i = 0; i < 1000; ++i) ASSERT_EQ(client.enqueue(w1_event(i)), Status::ok);
  ASSERT_TRUE(client.close(30s));  // joins the sender: every callback has returned
  auto const s = client.stats();
  EXPECT_EQ(s.delivered, 1000u);
  EXPECT_EQ(tally->events.load(), s.delivered);
  EXPECT_EQ(tally->calls.load(), s.batches_sent);
  EXPECT_GE(tally->calls.load(), 1000u / 37);
  EXPECT_EQ(tally->bytes_uncompressed.load(), s.bytes_uncompressed);
  EXPECT_EQ(tally->bytes_sent.load(), s.bytes_sent);
  EXPECT_EQ(tally->not_200.load(), 0u);
  EXPECT_EQ(tally->retried.load(), 0u);
  EXPECT_EQ(failures, 0u);
}

}  // namespace
}  // namespace htevents::testing
