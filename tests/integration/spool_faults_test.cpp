// The spool when the disk or its files misbehave (durability.md, promises 3, 7 and 8): a disk
// that fills up, a budget smaller than the backlog, and damaged files found at recovery. The
// rule in every case: nothing accepted is lost silently, the client keeps working.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <fstream>

#include "spool/format.hpp"
#include "support/client_fixture.hpp"
#include "support/killed_child.hpp"
#include "support/recorded_failure.hpp"
#include "support/temp_dir.hpp"

namespace htevents::testing {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

Config spooled(collector::Collector const& collector, std::string const& dir) {
  Config config = local_config(collector);
  config.spool_dir = dir;
  config.max_queue_bytes = 1u << 20;
  config.logger = [](LogLevel, std::string_view) {};
  return config;
}

// Through an outage, then healthy again: the collector refuses until `reached` holds for the
// client's stats (checked every 100 events; no wall-clock outage, so a slow machine reaches
// the same state as a fast one), or `max_events` were offered. Every ok event is then
// delivered or handed to on_failure (never neither), and the client delivers what comes after.
// Returns the client's stats.
template <class Reached>
Stats ride_out(Config config, collector::Collector& collector, std::uint64_t max_events, FailureCount& failures,
               Reached reached) {
  config.on_failure = failures.callback();
  config.enqueue_timeout = 2000ms;
  collector.refuse();
  Client client(write_key, config);
  std::uint64_t ok = 0;
  std::uint64_t offered = 0;
  while (offered < max_events) {
    bool const accepted = client.enqueue(w1_event(offered)) == Status::ok;
    ok += accepted;
    ++offered;
    // Looked at every 100 events, and at once when memory is full (each refusal under `block`
    // waits for enqueue_timeout).
    if ((offered % 100 == 0 || !accepted) && reached(client.stats())) break;
  }
  collector.release();
  EXPECT_TRUE(client.flush(60s) || failures.calls.load() > 0);
  // The client keeps working after the disk trouble.
  for (std::uint64_t i = 0; i < 100; ++i) ok += send_w1_fast(client, offered + i) == Status::ok;
  client.close(60s);
  Stats const s = client.stats();
  EXPECT_EQ(s.enqueued, ok);
  EXPECT_EQ(s.delivered + s.failed, ok) << "an accepted event was neither delivered nor failed";
  EXPECT_EQ(failures.calls.load(), s.failed);
  EXPECT_EQ(collector.stats().unique_message_ids, s.delivered);
  return s;
}

// 300,000 W1 events are about 7.8 MB compressed: far more than the budget or the tmpfs below.
constexpr std::uint64_t max_offered = 300'000;

TEST(SpoolFaults, BudgetSmallerThanTheBacklogKeepsBatchesInMemoryAndCountsIt) {
  collector::Collector collector;
  TempDir dir;
  Config config = spooled(collector, dir.path.string());
  config.spool_max_bytes = 128u << 10;
  FailureCount failures;
  Stats const s =
      ride_out(config, collector, max_offered, failures, [](Stats const& now) { return now.spool_overflows > 0; });
  EXPECT_GT(s.spool_overflows, 0u) << "the budget never ran out in " << max_offered << " events";
  EXPECT_EQ(s.spool_errors, 0u);
  EXPECT_EQ(s.failed, 0u);
}

// A small tmpfs in a private mount namespace (a child process, so that the mount is its own):
// the arena fits, the backlog does not.
TEST(SpoolFaults, DiskFullIsCountedAndNothingIsLostSilently) {
  TempDir dir;
  int report[2];
  ASSERT_EQ(::pipe(report), 0);
  pid_t const child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::close(report[0]);
    int verdict = 0;
    if (::unshare(CLONE_NEWNS) != 0 || ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
        ::mount("tmpfs", dir.path.c_str(), "tmpfs", 0, "size=1600k") != 0) {
      verdict = 2;  // not permitted here: skipped
    } else {
      collector::Collector collector;
      FailureCount failures;
      Stats const s = ride_out(spooled(collector, dir.path.string()), collector, max_offered, failures,
                               [](Stats const& now) { return now.spool_errors > 0; });
      verdict = ::testing::Test::HasFailure() ? 1 : (s.spool_errors > 0 ? 0 : 3);
      ::umount(dir.path.c_str());
    }
    if (::write(report[1], &verdict, sizeof verdict) != sizeof verdict) ::_exit(4);
    ::_exit(0);
  }
  ::close(report[1]);
  int verdict = -1;
  ASSERT_EQ(::read(report[0], &verdict, sizeof verdict), static_cast<ssize_t>(sizeof verdict));
  ::close(report[0]);
  int status = 0;
  ::waitpid(child, &status, 0);
  if (verdict == 2) GTEST_SKIP() << "no private mount namespace here (needs CAP_SYS_ADMIN)";
  EXPECT_NE(verdict, 3) << "the disk never filled in " << max_offered << " events: spool_errors stayed 0";
  EXPECT_EQ(verdict, 0) << "see the child's failures above";
}

// A child spools `events` into `dir` while the endpoint is down, then is killed: segments and
// the arena both hold events.
std::uint64_t spool_and_die(std::string const& dir, std::uint64_t events) {
  return run_and_kill([&](auto die) {
    Config config;
    config.endpoint = "http://127.0.0.1:9";
    config.spool_dir = dir;
    config.max_queue_bytes = 1u << 20;
    config.batch_size = 100;
    config.interval = 20ms;
    config.logger = [](LogLevel, std::string_view) {};
    Client client(write_key, config);
    std::uint64_t ok = 0;
    for (std::uint64_t i = 0; i < events; ++i) ok += client.enqueue(w1_event(i)) == Status::ok;
    client.flush(300ms);  // batches into segments; the last ones stay in the arena
    for (std::uint64_t i = 0; i < 50; ++i) ok += send_w1_fast(client, events + i) == Status::ok;
    die(ok);
  });
}

std::vector<fs::path> files_named(fs::path const& root, std::string_view prefix) {
  std::vector<fs::path> out;
  for (auto const& e : fs::recursive_directory_iterator(root)) {
    if (e.is_regular_file() && e.path().filename().string().starts_with(prefix)) out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

TEST(SpoolFaults, DamagedFilesAreSkippedCountedAndTheRestDelivered) {
  TempDir dir;
  std::uint64_t const accepted = spool_and_die(dir.path.string(), 3'000);
  ASSERT_EQ(accepted, 3'050u);
  auto segments = files_named(dir.path, "seg-");
  ASSERT_GE(segments.size(), 1u);
  fs::path const sub = segments.front().parent_path();
  // Overwritten bytes in the middle of the first segment's first batch body.
  {
    std::fstream f(segments.front(), std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(detail::spool::segment_header_bytes + detail::spool::batch_header_bytes + 40));
    f.write("garbage!", 8);
  }
  // An empty segment, a truncated copy of a segment, and a file from a newer format version.
  std::ofstream(sub / "seg-7000000000000000").close();
  {
    std::ifstream in(segments.front(), std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), {});
    std::ofstream(sub / "seg-7000000000000001", std::ios::binary) << bytes.substr(0, bytes.size() * 2 / 3);
    std::string newer = bytes;
    newer[detail::spool::segment_off_version] = 9;
    std::ofstream(sub / "seg-7000000000000002", std::ios::binary) << newer;
  }
  // (Damage inside the arena is the format's unit tests' and the reader fuzzer's.)
  ASSERT_TRUE(fs::exists(sub / "arena"));

  collector::Collector collector(collector::Options{});
  Client next(write_key, spooled(collector, dir.path.string()));
  next.close(60s);
  Stats const s = next.stats();
  EXPECT_GE(s.spool_corrupt, 3u) << "the damaged batch, the torn copy's tail and the newer file";
  EXPECT_GT(s.delivered, 0u);
  EXPECT_EQ(s.failed, 0u);
  auto const c = collector.stats();
  EXPECT_EQ(c.invalid_messages, 0u) << "only valid bodies are sent";
  EXPECT_EQ(c.answered_4xx, 0u);
  // Everything but the damaged batch arrives (the truncated copy repeats messageIds).
  EXPECT_GE(c.unique_message_ids, accepted - 100);
  EXPECT_LT(c.unique_message_ids, accepted);
  EXPECT_TRUE(fs::exists(sub / "seg-7000000000000002")) << "a newer format's file is left for a reader that knows it";
}

}  // namespace
}  // namespace htevents::testing
