// The spool's arena in a memory file system (Config::spool_memory_dir, ArenaFile): the live
// arena is a tmpfs file that outlives a killed process, and its blocks in use are copied to
// the spool directory every spool_sync_interval, for an OS crash (which empties the tmpfs).
// Without a usable memory directory the arena is mapped from the spool directory as before.

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include "queue/block_pool.hpp"
#include "spool/arena_file.hpp"
#include "spool/format.hpp"
#include "support/client_fixture.hpp"
#include "support/killed_child.hpp"
#include "support/temp_dir.hpp"

namespace htevents::testing {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr long tmpfs_magic = 0x01021994;  // TMPFS_MAGIC

bool is_tmpfs(std::string const& dir) {
  struct statfs fs {};
  return ::statfs(dir.c_str(), &fs) == 0 && fs.f_type == tmpfs_magic;
}

std::vector<fs::path> files_in(fs::path const& dir) {
  std::vector<fs::path> out;
  for (auto const& e : fs::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) out.push_back(e.path());
  }
  return out;
}

// Records stay in the arena, unbatched: one open batch that neither count nor interval closes.
Config arena_only(std::string const& spool_dir, std::string const& memory_dir) {
  Config config;
  config.endpoint = "http://127.0.0.1:9";  // nothing listens: nothing is delivered
  config.spool_dir = spool_dir;
  config.spool_memory_dir = memory_dir;
  config.max_queue_bytes = 4u << 20;
  config.interval = std::chrono::minutes(10);
  config.batch_size = 2500;
  config.logger = [](LogLevel, std::string_view) {};
  return config;
}

// A child process accepts `events` into its arena, waits `linger`, reports how many it got ok
// for, and is killed with SIGKILL. Returns that count (0 on any failure of the child).
// `before_death` runs after the events, while the client is alive.
template <class BeforeDeath>
std::uint64_t accept_and_die(Config const& config, std::uint64_t events, BeforeDeath before_death) {
  return run_and_kill([&](auto die) {
    Client client(write_key, config);
    std::uint64_t ok = 0;
    for (std::uint64_t i = 0; i < events; ++i) ok += client.enqueue(w1_event(i)) == Status::ok;
    before_death();
    die(ok);
  });
}
std::uint64_t accept_and_die(Config const& config, std::uint64_t events) {
  return accept_and_die(config, events, [] {});
}

std::string file_bytes(fs::path const& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

// Records the disk copy of the arena (`arena` in a client directory under `spool_dir`) holds.
std::size_t records_on_disk(std::string const& spool_dir) {
  for (auto const& e : fs::recursive_directory_iterator(spool_dir)) {
    if (e.path().filename() == "arena") return detail::spool::scan_arena(file_bytes(e.path())).records.size();
  }
  return 0;
}

// A child accepts `events` into an arena synced every 20 ms and dies once a sync has copied
// every one of them to the disk copy (looked at, not waited for by time). Returns how many it
// got ok for.
std::uint64_t accept_sync_and_die(std::string const& spool_dir, std::string const& memory_dir, std::uint64_t events) {
  Config config = arena_only(spool_dir, memory_dir);
  config.spool_sync_interval = 20ms;
  return accept_and_die(config, events, [&] {
    for (int tries = 0; tries < 60'000 && records_on_disk(spool_dir) < events; ++tries) {
      std::this_thread::sleep_for(1ms);
    }
  });
}

// The next client on the same directories: what it recovers and delivers.
Stats recover(std::string const& spool_dir, std::string const& memory_dir, collector::Collector& collector) {
  Config config = local_config(collector);
  config.spool_dir = spool_dir;
  config.spool_memory_dir = memory_dir;
  config.logger = [](LogLevel, std::string_view) {};
  Client next(write_key, config);
  EXPECT_TRUE(next.close(60s));
  return next.stats();
}

class SpoolMemoryArena : public ::testing::Test {
 protected:
  void SetUp() override {
#if defined(HTEVENTS_PORTABLE) || !defined(__linux__)
    GTEST_SKIP() << "memory arenas are built for Linux only (the portable build maps the arena directly)";
#endif
    if (!is_tmpfs("/dev/shm")) GTEST_SKIP() << "no tmpfs at /dev/shm here";
    ASSERT_FALSE(memory_.path.empty());
  }
  TempDir spool_;
  TempDir memory_{"/dev/shm"};
};

TEST_F(SpoolMemoryArena, TheLiveArenaIsAPrivateMemoryFileNamedInTheSpoolAndRemovedWhenClean) {
  collector::Collector collector(collector::Options{});
  Config config = local_config(collector);
  config.spool_dir = spool_.path.string();
  config.spool_memory_dir = memory_.path.string();
  {
    Client client(write_key, config);
    auto const live = files_in(memory_.path);
    ASSERT_EQ(live.size(), 1u);
    EXPECT_EQ((fs::status(live[0]).permissions() & fs::perms::all), fs::perms::owner_read | fs::perms::owner_write);
    auto const spooled = files_in(spool_.path);
    auto const pointer =
        std::find_if(spooled.begin(), spooled.end(), [](fs::path const& p) { return p.filename() == "arena.live"; });
    ASSERT_NE(pointer, spooled.end());
    std::ifstream in(*pointer);
    std::string const named((std::istreambuf_iterator<char>(in)), {});
    EXPECT_EQ(named, live[0].string());
    for (std::uint64_t i = 0; i < 5'000; ++i) ASSERT_EQ(client.enqueue(w1_event(i)), Status::ok);
    EXPECT_TRUE(client.close(30s));
  }
  EXPECT_EQ(collector.stats().unique_message_ids, 5'000u);
  EXPECT_EQ(memory_.entries(), 0u) << "a clean close removes the live arena";
  EXPECT_EQ(spool_.entries(), 0u);
}

// A process death: the live copy is newer than the disk copy (no sync in the hour), and it is
// the one recovered.
TEST_F(SpoolMemoryArena, AKilledProcessIsRecoveredFromTheLiveCopy) {
  Config config = arena_only(spool_.path.string(), memory_.path.string());
  config.spool_sync_interval = std::chrono::hours(1);
  std::uint64_t const accepted = accept_and_die(config, 1'000);
  ASSERT_EQ(accepted, 1'000u);
  EXPECT_EQ(memory_.entries(), 1u) << "the live arena outlives the process";

  collector::Collector collector(collector::Options{});
  Stats const s = recover(spool_.path.string(), memory_.path.string(), collector);
  EXPECT_EQ(s.recovered, accepted);
  EXPECT_EQ(s.delivered, accepted);
  EXPECT_EQ(collector.stats().unique_message_ids, accepted);
  EXPECT_EQ(memory_.entries(), 0u) << "recovered: the live arena is removed";
  EXPECT_EQ(spool_.entries(), 0u);
}

// An OS crash empties the tmpfs: what the last sync copied to the spool directory is
// recovered; what was accepted after it is what promise 2 allows to lose.
TEST_F(SpoolMemoryArena, AfterTheMemoryFileSystemIsGoneTheSyncedDiskCopyIsRecovered) {
  std::uint64_t const accepted = accept_sync_and_die(spool_.path.string(), memory_.path.string(), 1'000);
  ASSERT_EQ(accepted, 1'000u);
  for (auto const& live : files_in(memory_.path)) fs::remove(live);  // "reboot"

  collector::Collector collector(collector::Options{});
  Stats const s = recover(spool_.path.string(), memory_.path.string(), collector);
  EXPECT_EQ(s.recovered, accepted);
  EXPECT_EQ(collector.stats().unique_message_ids, accepted);
  EXPECT_EQ(spool_.entries(), 0u);
}

// Producers leave the checksum to the sync: in the live copy every record is unchecked (the
// header says live), on the disk copy every record the sync copied is checked (the header does
// not say live, so an unchecked one would not be read there at all).
TEST_F(SpoolMemoryArena, TheLiveCopyHoldsUncheckedRecordsAndTheSyncChecksumsTheDiskCopys) {
  namespace spool = detail::spool;
  std::uint64_t const accepted = accept_sync_and_die(spool_.path.string(), memory_.path.string(), 1'000);
  ASSERT_EQ(accepted, 1'000u);
  auto const live_files = files_in(memory_.path);
  ASSERT_EQ(live_files.size(), 1u);
  std::string const live = file_bytes(live_files[0]);
  auto flags = [](std::string const& bytes) {
    std::uint32_t v = 0;
    std::memcpy(&v, bytes.data() + spool::arena_off_flags, sizeof v);
    return v;
  };
  EXPECT_EQ(flags(live), spool::arena_flag_live);
  spool::ArenaScan const live_scan = spool::scan_arena(live);
  ASSERT_EQ(live_scan.records.size(), 1'000u);
  std::size_t unchecked = 0;
  for (std::string_view record : live_scan.records) {
    std::uint32_t length = 0;
    std::memcpy(&length, record.data() - spool::record_frame_bytes, sizeof length);
    unchecked += (length & spool::record_unchecked) != 0;
  }
  EXPECT_EQ(unchecked, 1'000u) << "no producer computed a checksum";

  std::string disk;
  for (auto const& file : files_in(spool_.path)) {
    if (file.filename() == "arena") disk = file_bytes(file);
  }
  ASSERT_FALSE(disk.empty());
  EXPECT_EQ(flags(disk), 0u);
  spool::ArenaScan const disk_scan = spool::scan_arena(disk);
  EXPECT_EQ(disk_scan.corrupt, 0u);
  ASSERT_EQ(disk_scan.records.size(), 1'000u);
  for (std::size_t i = 0; i < disk_scan.records.size(); ++i) {
    ASSERT_EQ(disk_scan.records[i], live_scan.records[i]) << i;
    std::uint32_t length = 0;
    std::memcpy(&length, disk_scan.records[i].data() - spool::record_frame_bytes, sizeof length);
    ASSERT_EQ(length, disk_scan.records[i].size()) << "checked on the disk: " << i;
  }
}

TEST_F(SpoolMemoryArena, WithoutASyncSinceTheEventsTheDiskCopyHoldsNone) {
  // The control for the test above: the disk copy is only as new as its last sync, so that
  // test's events came through the copy, not through some other path.
  Config config = arena_only(spool_.path.string(), memory_.path.string());
  config.spool_sync_interval = std::chrono::hours(1);
  ASSERT_EQ(accept_and_die(config, 1'000), 1'000u);
  for (auto const& live : files_in(memory_.path)) fs::remove(live);

  collector::Collector collector(collector::Options{});
  Stats const s = recover(spool_.path.string(), memory_.path.string(), collector);
  EXPECT_EQ(s.recovered, 0u);
  EXPECT_EQ(spool_.entries(), 0u) << "the arena's files are removed, the stale name of the live copy too";
}

// The sync writes a block's header to the disk copy only when the disk holds records of that
// block that recovery would deliver, or with records it copies: records that settle before
// any sync copies them (on a healthy endpoint, almost all) cost the disk no write at all, and
// nothing on the disk ever names a record that is settled.
TEST_F(SpoolMemoryArena, TheSyncWritesAHeaderOnlyWhenTheDiskHoldsRecordsOfItsBlock) {
  namespace spool = detail::spool;
  constexpr std::size_t capacity = 4096, slots = 2;
  constexpr std::size_t stride = spool::block_header_bytes + capacity;
  constexpr std::size_t bytes = spool::arena_header_bytes + slots * stride;
  detail::Logger const logger([](LogLevel, std::string_view) {}, LogLevel::error);
  detail::ArenaFile file(spool_.path.string(), "own", memory_.path.string(), bytes, logger);
  ASSERT_TRUE(file.copied());
  spool::write_arena_header(file.data(), stride, slots, 0, spool::arena_flag_live);
  detail::BlockPool pool(capacity, slots,
                         detail::BlockArena{file.data() + spool::arena_header_bytes, stride, slots, file.walking(),
                                            file.epoch()});
  detail::Block* block = pool.try_acquire();
  ASSERT_NE(block, nullptr);
  std::uint32_t end = 0;  // where the next record's frame goes
  auto put = [&] {
    std::string const json = R"({"type":"track","event":"e"})";
    std::memcpy(block->data() + end + spool::record_frame_bytes, json.data(), json.size());
    spool::write_unchecked_record_frame(block->data() + end, static_cast<std::uint32_t>(json.size()), block->seed,
                                        file.epoch()->load());
    end = spool::align_record(static_cast<std::uint32_t>(end + spool::record_frame_bytes + json.size()));
  };
  auto settle_all = [&] { block->consumed_end.store(end); };
  auto sync_twice = [&] {  // a record is copied by the second sync that finds it whole
    ASSERT_EQ(file.sync(spool::arena_header_bytes, stride, slots, false), 0);
    ASSERT_EQ(file.sync(spool::arena_header_bytes, stride, slots, false), 0);
  };
  fs::path const disk_path = spool_.path / "arena";
  auto disk_generation = [&] {
    std::string const disk = file_bytes(disk_path);
    std::uint64_t generation = 0;
    std::memcpy(&generation, disk.data() + spool::arena_header_bytes + spool::slot_off_generation, sizeof generation);
    return generation;
  };
  auto records_recovered = [&] { return spool::scan_arena(file_bytes(disk_path)).records.size(); };

  // Three records settle before any sync: the block's header is never written.
  for (int i = 0; i < 3; ++i) put();
  settle_all();
  sync_twice();
  EXPECT_EQ(disk_generation(), 0u) << "a header was written for a block whose records all settled";
  EXPECT_EQ(records_recovered(), 0u);

  // One that stays unsettled through two syncs is copied, with the header that names it.
  put();
  sync_twice();
  EXPECT_EQ(disk_generation(), block->generation.load());
  EXPECT_EQ(records_recovered(), 1u);

  // Once it settles, the header follows (else recovery would send it again), and once the
  // block is free there is nothing left to name.
  settle_all();
  sync_twice();
  EXPECT_EQ(records_recovered(), 0u) << "a settled record is still on the disk for recovery";
  pool.release(block);
  sync_twice();
  EXPECT_EQ(records_recovered(), 0u);
}

// Direct mapping: no memory directory, one that is missing, or one that is not a tmpfs. The
// reason is logged at info, and a killed process is recovered from the spool directory.
class SpoolDirectArena : public ::testing::TestWithParam<std::string> {};

TEST_P(SpoolDirectArena, TheArenaIsMappedFromTheSpoolAndRecovered) {
  TempDir spool;
  std::string const memory_dir = GetParam() == "not-tmpfs" ? spool.path.string() : GetParam();
  if (GetParam() == "not-tmpfs" && is_tmpfs(memory_dir)) GTEST_SKIP() << "/tmp is a tmpfs here";
  {
    std::mutex mutex;
    std::string logged;
    Config config = arena_only(spool.path.string(), memory_dir);
    config.log_level = LogLevel::info;
    config.logger = [&](LogLevel, std::string_view line) {
      std::lock_guard lock(mutex);
      logged += std::string(line) + "\n";
    };
    Client client(write_key, config);
    client.close(0ms);
    auto const files = files_in(spool.path);
    EXPECT_TRUE(
        std::none_of(files.begin(), files.end(), [](fs::path const& p) { return p.filename() == "arena.live"; }));
    std::lock_guard lock(mutex);
    if (!memory_dir.empty()) {
      EXPECT_NE(logged.find("spool_memory_dir '" + memory_dir + "'"), std::string::npos) << logged;
    }
  }
  for (auto const& e : fs::directory_iterator(spool.path)) fs::remove_all(e.path());
  std::uint64_t const accepted = accept_and_die(arena_only(spool.path.string(), memory_dir), 1'000);
  ASSERT_EQ(accepted, 1'000u);
  collector::Collector collector(collector::Options{});
  Stats const s = recover(spool.path.string(), memory_dir, collector);
  EXPECT_EQ(s.recovered, accepted);
  EXPECT_EQ(collector.stats().unique_message_ids, accepted);
}

INSTANTIATE_TEST_SUITE_P(MemoryDirs, SpoolDirectArena,
                         ::testing::Values(std::string{}, std::string{"/nonexistent/htevents-memory"},
                                           std::string{"not-tmpfs"}),
                         [](auto const& param_info) {
                           return param_info.param.empty()          ? std::string("Empty")
                                  : param_info.param == "not-tmpfs" ? std::string("NotATmpfs")
                                                                    : std::string("Missing");
                         });

}  // namespace
}  // namespace htevents::testing
