// The spool's sync against everything else that touches the arena (ArenaFile::sync): it runs
// every millisecond, reads records while producers write the blocks' tails, senders settle
// records and the pool hands freed blocks out again to other producers. Under TSan this is
// where a read of bytes being rewritten would show; in every build, every accepted event must
// arrive once, and a kill between two syncs must leave a disk copy that reads without damage.

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "spool/format.hpp"
#include "support/client_fixture.hpp"
#include "support/killed_child.hpp"
#include "support/sanitized.hpp"
#include "support/temp_dir.hpp"

namespace htevents::testing {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

// Small blocks recycled fast: four producers through a 1 MiB queue (sixteen 64 KiB blocks), a
// collector slow enough that records wait several syncs (so the sync copies many of them)
// while others settle and free their blocks. (Not four blocks: four producers that each fill
// the block they hold then wait for another, with none free, wait until enqueue_timeout,
// spool or not: a limit of the intake noted in docs/lifecycle.md, "Thread counts".)
Config busy_spool(collector::Collector const& collector, std::string const& dir) {
  Config config = local_config(collector);
  config.spool_dir = dir;
  config.spool_sync_interval = 2ms;  // a sync every millisecond
  config.max_queue_bytes = 1u << 20;
  config.max_in_flight = 4;
  config.batch_size = 50;
  config.backpressure = Backpressure::block;
  config.enqueue_timeout = 60s;
  config.logger = [](LogLevel, std::string_view) {};
  return config;
}

TEST(SpoolSync, SyncingEveryMillisecondWhileBlocksRecycleDeliversEveryEventOnce) {
  collector::Options options;
  options.delay = 3ms;
  collector::Collector collector(options);
  TempDir dir;
  std::uint64_t const per_thread = sanitized ? 3'000 : 20'000;
  std::uint64_t const threads = 4;
  std::atomic<std::uint64_t> accepted{0};
  Stats stats;
  {
    Client client(write_key, busy_spool(collector, dir.path.string()));
    std::vector<std::thread> producers;
    for (std::uint64_t t = 0; t < threads; ++t) {
      producers.emplace_back([&, t] {
        for (std::uint64_t i = 0; i < per_thread; ++i) {
          accepted += client.enqueue(w1_event(t * per_thread + i)) == Status::ok;
        }
      });
    }
    for (auto& p : producers) p.join();
    ASSERT_TRUE(client.close(120s));
    stats = client.stats();
  }
  EXPECT_EQ(accepted.load(), threads * per_thread);
  EXPECT_EQ(stats.delivered, accepted.load());
  EXPECT_EQ(stats.failed, 0u);
  EXPECT_EQ(stats.spool_errors, 0u);
  EXPECT_EQ(stats.spool_corrupt, 0u);
  EXPECT_EQ(collector.stats().unique_message_ids, accepted.load());
  EXPECT_EQ(dir.entries(), 0u) << "a clean close leaves nothing";
}

// Killed while the sync runs every millisecond under load: the disk copy it leaves (the one an
// OS crash would recover) reads without a damaged record, and every record in it is one the
// child accepted (a W1 event), however the kill fell between the two steps of a sync. The
// child has its own slow collector: the parent must not have threads when it forks (TSan).
TEST(SpoolSync, AKillDuringSyncsLeavesADiskCopyWithoutDamage) {
  int const rounds = sanitized ? 3 : 10;
  std::size_t copied = 0;  // records the syncs had copied when the kills came
  for (int round = 0; round < rounds; ++round) {
    SCOPED_TRACE(round);
    TempDir dir;
    auto const linger = std::chrono::milliseconds(5 + 7 * round);
    std::uint64_t const ok = run_and_kill([&](auto die) {
      collector::Options options;
      options.delay = 5ms;
      collector::Collector collector(options);
      Client client(write_key, busy_spool(collector, dir.path.string()));
      std::uint64_t n = 0;
      auto const until = std::chrono::steady_clock::now() + linger;
      for (std::uint64_t i = 0; std::chrono::steady_clock::now() < until; ++i) n += client.enqueue(w1_event(i)) == Status::ok;
      die(n);
    });
    ASSERT_GT(ok, 0u);
    std::size_t disks = 0;
    for (auto const& e : fs::recursive_directory_iterator(dir.path)) {
      if (e.path().filename() != "arena") continue;
      ++disks;
      std::ifstream in(e.path(), std::ios::binary);
      std::string const bytes((std::istreambuf_iterator<char>(in)), {});
      detail::spool::ArenaScan const scan = detail::spool::scan_arena(bytes);
      EXPECT_TRUE(scan.usable);
      EXPECT_EQ(scan.corrupt, 0u);
      EXPECT_LE(scan.records.size(), ok);
      copied += scan.records.size();
      for (std::string_view record : scan.records) {
        ASSERT_TRUE(record.starts_with(R"({"type":"track")")) << record;
        ASSERT_TRUE(record.ends_with("}")) << record;
      }
    }
    EXPECT_EQ(disks, 1u);
    // The next client recovers the rest from the live copy in memory, none of it damaged.
    collector::Collector collector(collector::Options{});
    Config next = local_config(collector);
    next.spool_dir = dir.path.string();
    next.logger = [](LogLevel, std::string_view) {};
    Client recovering(write_key, next);
    ASSERT_TRUE(recovering.close(120s));
    EXPECT_EQ(recovering.stats().spool_corrupt, 0u);
    EXPECT_EQ(recovering.stats().delivered, recovering.stats().recovered);
    EXPECT_EQ(collector.stats().unique_message_ids, recovering.stats().recovered);
  }
  EXPECT_GT(copied, 0u) << "the records waited for the slow collector: the syncs copied some";
}

}  // namespace
}  // namespace htevents::testing
