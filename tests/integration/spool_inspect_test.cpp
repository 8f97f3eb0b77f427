// `htevents-cpp spool inspect` (tools/spool): a spool directory built with the format's writer
// helpers, one live and two dead clients, damaged and foreign files; the numbers it reports,
// as the library returns them, as text and JSON, and from the command itself.

#include <fcntl.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "spool/inspect.hpp"
#include "support/spool_images.hpp"

namespace {

namespace fs = std::filesystem;
namespace spool = htevents::detail::spool;
using htevents::inspect::FileState;
using htevents::inspect::Owner;
using htevents::testing::ArenaImage;
using htevents::testing::batch_meta;
using htevents::testing::SegmentImage;

constexpr std::int64_t t0 = 1'700'000'000'000;  // 2023-11-14T22:13:20.000Z

void write_file(fs::path const& path, std::string const& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  ASSERT_TRUE(out.good()) << path;
}

// clients/
//   a/ (dead)  seg-...1: 3 batches (10, 20 settled, 30 events)   seg-...2: 1 batch (5) + a damaged one
//              arena: 4 records in 2 blocks, 1 consumed
//   b/ (live)  arena: 3 records, the middle one overwritten
//   c/ (dead, no lock file)  seg-...1 of a newer format version, notes.txt
class SpoolInspect : public ::testing::Test {
 protected:
  SpoolInspect()
      : dir_(fs::temp_directory_path() /
             ("htevents-inspect-test-" + std::to_string(::getpid()) + "-" +
              std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()))) {}

  void SetUp() override {
    fs::create_directories(dir_ / "a");
    fs::create_directories(dir_ / "b");
    fs::create_directories(dir_ / "c");
    write_file(dir_ / "a" / "lock", "");
    write_file(dir_ / "b" / "lock", "");
    write_file(dir_ / "stray-file", "not a client");

    SegmentImage first(1);
    first.append(batch_meta(1, 10, t0 + 5000), std::string(100, 'a'));
    first.settle(first.append(batch_meta(2, 20, t0), std::string(200, 'b')));  // settled: not the oldest
    first.append(batch_meta(3, 30, t0 + 1000), std::string(300, 'c'));
    write_file(dir_ / "a" / "seg-0000000000000001", first.bytes());

    SegmentImage second(2);
    second.append(batch_meta(4, 5, t0 + 9000), std::string(50, 'd'));
    std::size_t const bad = second.append(batch_meta(5, 7, t0 + 9000), std::string(70, 'e'));
    second.bytes()[bad + spool::batch_header_bytes + 1] ^= 1;
    write_file(dir_ / "a" / "seg-0000000000000002", second.bytes());

    ArenaImage arena_a(64 + 512, 4);
    arena_a.open_slot(0, 1);
    arena_a.append(0, "consumed");
    arena_a.set_consumed_end(0, arena_a.append(0, "event-1"));
    arena_a.append(0, "event-2");
    arena_a.open_slot(3, 2);
    arena_a.append(3, "event-3");
    write_file(dir_ / "a" / "arena", arena_a.bytes());

    ArenaImage arena_b(64 + 512, 2);
    arena_b.open_slot(1, 9);
    arena_b.append(1, "first");
    std::uint32_t const middle = arena_b.append(1, "second");
    arena_b.append(1, "third");
    arena_b.data(1)[middle + spool::record_frame_bytes] ^= 1;
    write_file(dir_ / "b" / "arena", arena_b.bytes());

    SegmentImage newer(1);
    newer.append(batch_meta(1, 99, t0), "x");
    newer.bytes()[spool::segment_off_version] = static_cast<char>(spool::segment_format_version + 1);
    write_file(dir_ / "c" / "seg-0000000000000001", newer.bytes());
    write_file(dir_ / "c" / "notes.txt", "ignored");

    // b is live: its lock is held, as a running client holds it.
    lock_fd_ = ::open((dir_ / "b" / "lock").c_str(), O_RDWR | O_CLOEXEC);
    ASSERT_GE(lock_fd_, 0);
    ASSERT_EQ(::flock(lock_fd_, LOCK_EX | LOCK_NB), 0);
  }

  void TearDown() override {
    if (lock_fd_ >= 0) ::close(lock_fd_);
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  fs::path dir_;
  int lock_fd_ = -1;
};

TEST_F(SpoolInspect, CountsWhatEachClientLeft) {
  auto const report = htevents::inspect::inspect_spool(dir_);
  ASSERT_EQ(report.clients.size(), 3U);

  auto const& a = report.clients[0];
  EXPECT_EQ(a.name, "a");
  EXPECT_EQ(a.owner, Owner::dead);
  ASSERT_EQ(a.segments.size(), 2U);
  EXPECT_EQ(a.segments[0].file, "seg-0000000000000001");
  EXPECT_EQ(a.segments[0].state, FileState::ok);
  EXPECT_EQ(a.segments[0].pending_batches, 2U);
  EXPECT_EQ(a.segments[0].pending_events, 40U);
  EXPECT_EQ(a.segments[0].pending_bytes, 400U);
  EXPECT_EQ(a.segments[0].settled_batches, 1U);
  EXPECT_EQ(a.segments[0].damaged, 0U);
  EXPECT_EQ(a.segments[0].oldest_ms, t0 + 1000) << "the oldest pending batch; settled ones do not count";
  EXPECT_EQ(a.segments[1].pending_batches, 1U);
  EXPECT_EQ(a.segments[1].pending_events, 5U);
  EXPECT_EQ(a.segments[1].damaged, 1U);
  ASSERT_TRUE(a.arena);
  EXPECT_EQ(a.arena->unconsumed_events, 3U);
  EXPECT_EQ(a.arena->unconsumed_bytes, 21U);
  EXPECT_EQ(a.arena->blocks, 2U);
  EXPECT_EQ(a.arena->damaged, 0U);

  auto const& b = report.clients[1];
  EXPECT_EQ(b.owner, Owner::live);
  EXPECT_TRUE(b.segments.empty());
  ASSERT_TRUE(b.arena);
  EXPECT_EQ(b.arena->unconsumed_events, 2U);
  EXPECT_EQ(b.arena->damaged, 1U);

  auto const& c = report.clients[2];
  EXPECT_EQ(c.owner, Owner::dead) << "no lock file: nobody holds it";
  ASSERT_EQ(c.segments.size(), 1U);
  EXPECT_EQ(c.segments[0].state, FileState::newer_version);
  EXPECT_EQ(c.segments[0].pending_events, 0U);
  EXPECT_FALSE(c.arena);

  auto const& t = report.total;
  EXPECT_EQ(t.clients, 3U);
  EXPECT_EQ(t.live, 1U);
  EXPECT_EQ(t.dead, 2U);
  EXPECT_EQ(t.pending_batches, 3U);
  EXPECT_EQ(t.pending_events, 45U);
  EXPECT_EQ(t.pending_bytes, 450U);
  EXPECT_EQ(t.unconsumed_events, 5U);
  EXPECT_EQ(t.events(), 50U);
  EXPECT_EQ(t.settled_batches, 1U);
  EXPECT_EQ(t.damaged, 2U);
  EXPECT_EQ(t.unreadable_files, 1U);
  EXPECT_EQ(t.oldest_ms, t0 + 1000);
}

TEST_F(SpoolInspect, PrintsOneLinePerFileAndATotal) {
  std::ostringstream text;
  htevents::inspect::print_text(text, htevents::inspect::inspect_spool(dir_));
  std::string const s = text.str();
  EXPECT_NE(s.find("client a (dead)\n"), std::string::npos) << s;
  EXPECT_NE(s.find("client b (live)\n"), std::string::npos) << s;
  EXPECT_NE(s.find("  seg-0000000000000001: 2 pending batches, 40 events, 400 bytes; 1 settled; 0 damaged; "
                   "oldest 2023-11-14T22:13:21.000Z\n"),
            std::string::npos)
      << s;
  EXPECT_NE(s.find("  arena: 3 unconsumed events (21 bytes) in 2 blocks; 0 damaged\n"), std::string::npos) << s;
  EXPECT_NE(s.find("  arena: 2 unconsumed events (10 bytes) in 1 blocks; 1 damaged\n"), std::string::npos) << s;
  EXPECT_NE(s.find("  seg-0000000000000001: written by a newer format version, left alone; 0 damaged\n"),
            std::string::npos)
      << s;
  EXPECT_NE(s.find("total: 3 clients (1 live, 2 dead); 50 events (45 in 3 pending batches of 450 bytes, 5 "
                   "unconsumed in arenas); 1 settled; 2 damaged; 1 unreadable files; oldest "
                   "2023-11-14T22:13:21.000Z\n"),
            std::string::npos)
      << s;
}

TEST_F(SpoolInspect, PrintsJson) {
  std::ostringstream json;
  htevents::inspect::print_json(json, htevents::inspect::inspect_spool(dir_));
  std::string const s = json.str();
  EXPECT_NE(s.find(R"("total":{"clients":3,"live":1,"dead":2,"events":50,"pending_batches":3,"pending_events":45,)"
                   R"("pending_bytes":450,"unconsumed_events":5,"settled_batches":1,"damaged":2,)"
                   R"("unreadable_files":1,"oldest":"2023-11-14T22:13:21.000Z"}})"),
            std::string::npos)
      << s;
  EXPECT_NE(s.find(R"({"name":"b","lock":"live","segments":[],"arena":{"status":"ok",)"), std::string::npos) << s;
  EXPECT_NE(s.find(R"("status":"newer_version")"), std::string::npos) << s;
}

TEST(SpoolInspectErrors, MissingOrNonDirectoryIsAnError) {
  EXPECT_THROW(htevents::inspect::inspect_spool("/nonexistent/htevents-spool"), htevents::inspect::InspectError);
  EXPECT_THROW(htevents::inspect::inspect_spool("/dev/null"), htevents::inspect::InspectError);
}

TEST(SpoolInspectErrors, FormatsTimesAsUtc) {
  EXPECT_EQ(htevents::inspect::iso8601_utc(t0), "2023-11-14T22:13:20.000Z");
  EXPECT_EQ(htevents::inspect::iso8601_utc(t0 + 42), "2023-11-14T22:13:20.042Z");
  EXPECT_EQ(htevents::inspect::iso8601_utc(-1), "1969-12-31T23:59:59.999Z");
}

#if defined(HTEVENTS_CLI_PATH)

// Runs the htevents-cpp binary; returns its exit status and stdout.
int run_cli(std::string const& args, std::string& out) {
  std::string const command = std::string(HTEVENTS_CLI_PATH) + " " + args + " 2>/dev/null";
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return -1;
  std::array<char, 4096> buffer{};
  out.clear();
  for (std::size_t n; (n = std::fread(buffer.data(), 1, buffer.size(), pipe)) > 0;) out.append(buffer.data(), n);
  int const status = ::pclose(pipe);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST_F(SpoolInspect, CommandPrintsTheSameReport) {
  std::ostringstream text;
  std::ostringstream json;
  auto const report = htevents::inspect::inspect_spool(dir_);
  htevents::inspect::print_text(text, report);
  htevents::inspect::print_json(json, report);
  std::string out;
  EXPECT_EQ(run_cli("spool inspect " + dir_.string(), out), 0);
  EXPECT_EQ(out, text.str());
  EXPECT_EQ(run_cli("spool inspect --json " + dir_.string(), out), 0);
  EXPECT_EQ(out, json.str());
}

TEST(SpoolInspectCommand, ExitsTwoWhenDirIsNotADirectory) {
  std::string out;
  EXPECT_EQ(run_cli("spool inspect /nonexistent/htevents-spool", out), 2);
  EXPECT_EQ(run_cli("spool inspect /dev/null", out), 2);
  EXPECT_EQ(run_cli("spool inspect", out), 2);
  EXPECT_EQ(run_cli("spool frobnicate /tmp", out), 2);
  EXPECT_EQ(run_cli("spool --help", out), 0);
}

#endif

}  // namespace
