// The spool end to end in one process (durability.md): the healthy path leaves nothing behind,
// an outage is ridden out on disk beyond max_attempts, what close() could not deliver stays
// for the next client, which recovers and delivers it, and an unusable spool_dir is a
// ConfigError. Crash tests with real processes and SIGKILL are in tests/crash/.

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <thread>
#include <vector>

#include "support/client_fixture.hpp"
#include "support/killed_child.hpp"
#include "support/temp_dir.hpp"

namespace htevents::testing {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

Config spooled(collector::Collector const& collector, TempDir const& dir) {
  Config config = local_config(collector);
  config.spool_dir = dir.path.string();
  config.max_queue_bytes = 4u << 20;
  config.logger = [](LogLevel, std::string_view) {};
  return config;
}

TEST(Spool, HealthyDeliversEverythingAndLeavesNothingBehind) {
  collector::Collector collector(collector::Options{});
  TempDir dir;
  {
    Client client(write_key, spooled(collector, dir));
    for (std::uint64_t i = 0; i < 20'000; ++i) {
      Status const s = (i % 2 == 0) ? client.enqueue(w1_event(i)) : send_w1_fast(client, i);
      ASSERT_EQ(s, Status::ok);
    }
    EXPECT_TRUE(client.close(30s));
    Stats const s = client.stats();
    EXPECT_EQ(s.delivered, 20'000u);
    EXPECT_EQ(s.failed, 0u);
    EXPECT_EQ(s.spooled_events, 0u);
    EXPECT_EQ(s.spool_errors, 0u);
  }
  EXPECT_EQ(collector.stats().unique_message_ids, 20'000u);
  EXPECT_EQ(dir.entries(), 0u) << "a clean close removes the client's spool directory";
}

TEST(Spool, OutageIsRiddenOutOnDiskBeyondMaxAttempts) {
  collector::Options options;
  options.outage = 1500ms;
  collector::Collector collector(options);
  TempDir dir;
  Config config = spooled(collector, dir);
  config.max_attempts = 2;  // without the spool, the outage would fail every batch
  Client client(write_key, config);
  for (std::uint64_t i = 0; i < 50'000; ++i) ASSERT_EQ(client.enqueue(w1_event(i)), Status::ok);
  EXPECT_TRUE(client.close(60s));
  Stats const s = client.stats();
  EXPECT_EQ(s.delivered, 50'000u);
  EXPECT_EQ(s.failed, 0u);
  EXPECT_EQ(collector.stats().unique_message_ids, 50'000u);
}

// With a spool a block is let go only when its records' batch settles. An arena (four blocks,
// ~1,000 records) smaller than one batch can ever fill (batch_size 2,000, interval an hour) is
// held whole by the open batch, so the serializer closes it for the producer waiting for room.
// Without that, every enqueue past the arena would wait out enqueue_timeout (queue_full).
TEST(Spool, AnOpenBatchHoldingTheWholeArenaIsClosedForAWaitingProducer) {
  collector::Collector collector(collector::Options{});
  TempDir dir;
  Config config = spooled(collector, dir);
  config.max_queue_bytes = 4 * (64u << 10);  // the least: four 64 KiB blocks
  config.batch_size = 2'000;
  config.interval = std::chrono::hours(1);
  config.enqueue_timeout = 20s;
  constexpr std::uint64_t n = 10'000;
  Client client(write_key, config);
  for (std::uint64_t i = 0; i < n; ++i) ASSERT_EQ(send_w1_fast(client, i), Status::ok) << "event " << i;
  EXPECT_TRUE(client.close(30s));
  EXPECT_EQ(client.stats().delivered, n);
  EXPECT_EQ(collector.stats().unique_message_ids, n);
}

// ...and only then: while the ring still has records to batch, a waiting producer is no reason
// to close the open batch early (its blocks are let go when it settles, whatever its size).
// Eight producers outrun the pipeline and wait for room throughout, yet every batch is full:
// closing on "a producer waits" alone sent ~34% more requests than batch_size allows (load:
// 5,377 against 4,000 per million events), and more wire bytes per event.
TEST(Spool, BatchesStayFullWhileProducersWaitForRoom) {
  collector::Collector collector(collector::Options{});
  TempDir dir;
  Config config = spooled(collector, dir);
  config.max_queue_bytes = 8u << 20;  // ~32,000 records: well below what the producers send
  config.interval = std::chrono::hours(1);
  config.enqueue_timeout = 60s;
  constexpr unsigned threads = 8;
  constexpr std::uint64_t per_thread = 25'000;
  Client client(write_key, config);
  std::vector<std::thread> producers;
  std::atomic<std::uint64_t> not_ok{0};
  for (unsigned t = 0; t < threads; ++t) {
    producers.emplace_back([&, t] {
      for (std::uint64_t i = t * per_thread; i < (t + 1) * per_thread; ++i) {
        if (send_w1_fast(client, i) != Status::ok) not_ok.fetch_add(1);
      }
    });
  }
  for (auto& p : producers) p.join();
  EXPECT_TRUE(client.close(60s));
  EXPECT_EQ(not_ok.load(), 0u);
  Stats const s = client.stats();
  EXPECT_EQ(s.delivered, threads * per_thread);
  EXPECT_EQ(s.retries, 0u);
  EXPECT_EQ(s.requests, threads * per_thread / config.batch_size) << "every batch full";
}

TEST(Spool, WhatCloseCouldNotDeliverIsRecoveredByTheNextClient) {
  TempDir dir;
  constexpr std::uint64_t n = 5'000;
  {
    // An endpoint nobody listens on: nothing is delivered before close's deadline.
    collector::Collector gone(collector::Options{});
    Config config = spooled(gone, dir);
    config.endpoint = "http://127.0.0.1:9";  // discard port: connection refused
    Client client(write_key, config);
    for (std::uint64_t i = 0; i < n; ++i) ASSERT_EQ(client.enqueue(w1_event(i)), Status::ok);
    EXPECT_FALSE(client.close(300ms));
    Stats const s = client.stats();
    EXPECT_EQ(s.delivered, 0u);
    EXPECT_EQ(s.failed, 0u) << "spooled events are not failed at the deadline: they wait on disk";
  }
  EXPECT_EQ(dir.entries(), 1u) << "the client's directory stays for the next client";
  collector::Collector collector(collector::Options{});
  Client next(write_key, spooled(collector, dir));
  EXPECT_TRUE(next.close(60s));
  Stats const s = next.stats();
  EXPECT_EQ(s.recovered, n);
  EXPECT_EQ(s.delivered, n);
  EXPECT_EQ(collector.stats().unique_message_ids, n);
  EXPECT_EQ(dir.entries(), 0u);
}

// A process killed with records still in its arena (not yet batched: the interval is long):
// the next client finds them in the arena file and delivers each once.
TEST(Spool, RecordsInTheArenaOfAKilledProcessAreRecovered) {
  TempDir dir;
  std::uint64_t const accepted = run_and_kill([&](auto die) {
    Config config;
    config.endpoint = "http://127.0.0.1:9";
    config.spool_dir = dir.path.string();
    config.max_queue_bytes = 4u << 20;
    config.interval = std::chrono::minutes(10);
    config.batch_size = 2500;
    config.logger = [](LogLevel, std::string_view) {};
    Client client(write_key, config);
    std::uint64_t ok = 0;
    for (std::uint64_t i = 0; i < 1'000; ++i) {
      if (((i % 2 == 0) ? client.enqueue(w1_event(i)) : send_w1_fast(client, i)) == Status::ok) ++ok;
    }
    die(ok);
  });
  ASSERT_EQ(accepted, 1'000u);

  collector::Collector collector(collector::Options{});
  Client next(write_key, spooled(collector, dir));
  EXPECT_TRUE(next.close(60s));
  Stats const s = next.stats();
  EXPECT_EQ(s.recovered, accepted);
  EXPECT_EQ(s.delivered, accepted);
  EXPECT_EQ(s.spool_corrupt, 0u);
  EXPECT_EQ(collector.stats().unique_message_ids, accepted);
  EXPECT_EQ(collector.stats().duplicate_message_ids, 0u);
  EXPECT_EQ(dir.entries(), 0u);
}

// A client that adopts a spool but cannot deliver it (a drain that timed out) leaves the
// adopted data where it was, and no directory of its own (with an arena of max_queue_bytes)
// beside it.
TEST(Spool, AClientWithNothingOfItsOwnLeftRemovesItsDirectory) {
  TempDir dir;
  collector::Collector unused(collector::Options{});
  Config down = spooled(unused, dir);
  down.endpoint = "http://127.0.0.1:9";
  {
    Client first(write_key, down);
    for (std::uint64_t i = 0; i < 500; ++i) ASSERT_EQ(first.enqueue(w1_event(i)), Status::ok);
    EXPECT_FALSE(first.close(200ms));
  }
  ASSERT_EQ(dir.entries(), 1u);
  for (int round = 0; round < 3; ++round) {
    Client again(write_key, down);
    EXPECT_EQ(again.stats().recovered, 500u);
    EXPECT_FALSE(again.close(200ms));
    EXPECT_EQ(dir.entries(), 1u) << "round " << round << ": only the first client's directory stays";
  }
}

TEST(Spool, MissingParentsOfSpoolDirAreCreated) {
  TempDir dir;
  collector::Collector collector(collector::Options{});
  Config config = spooled(collector, dir);
  config.spool_dir = (dir.path / "a" / "b" / "spool").string();
  Client client(write_key, config);
  ASSERT_EQ(client.enqueue(w1_event(1)), Status::ok);
  EXPECT_TRUE(client.close(30s));
  EXPECT_TRUE(fs::is_directory(config.spool_dir));
}

TEST(Spool, UnusableSpoolDirIsAConfigErrorNamingPathAndReason) {
  TempDir dir;
  collector::Collector collector(collector::Options{});
  std::string const file = (dir.path / "a-file").string();
  std::ofstream(file) << "x";
  for (std::string const& bad : {file, file + "/below-a-file", std::string("/proc/self/htevents-spool")}) {
    Config config = spooled(collector, dir);
    config.spool_dir = bad;
    try {
      Client client(write_key, config);
      ADD_FAILURE() << "no ConfigError for " << bad;
    } catch (ConfigError const& e) {
      EXPECT_NE(std::string(e.what()).find(bad), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("spool_dir"), std::string::npos) << e.what();
    }
  }
}

TEST(Spool, DirectoriesArePrivate) {
  TempDir dir;
  collector::Collector collector(collector::Options{});
  Client client(write_key, spooled(collector, dir));
  ASSERT_EQ(client.enqueue(w1_event(1)), Status::ok);
  for (auto const& sub : fs::directory_iterator(dir.path)) {
    struct stat st {};
    ASSERT_EQ(::stat(sub.path().c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0700u) << sub.path();
    for (auto const& file : fs::directory_iterator(sub.path())) {
      ASSERT_EQ(::stat(file.path().c_str(), &st), 0);
      EXPECT_EQ(st.st_mode & 0777, 0600u) << file.path();
    }
  }
  EXPECT_TRUE(client.close(30s));
}

}  // namespace
}  // namespace htevents::testing
