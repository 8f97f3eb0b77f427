// Crash tests of the disk spool with real processes (durability.md, contract points 1, 3, 4, 6):
// a writer process (spool_crash_writer) enqueues W1 events with deterministic messageIds into a
// Client with spool_dir set, recording its accepted prefix per thread in a MAP_SHARED counters
// file; the test kills it with SIGKILL at a pseudo-random moment (a seeded accepted-count target,
// reached by polling the counters: the waits count, they do not time), then lets another
// client deliver what the spool holds, and checks against the local collector (in this
// process) that
//   - every accepted messageId arrived (thread t, events 0..prefix[t]-1),
//   - duplicates stay within the bound below, per killed process,
//   - Stats::recovered > 0 whenever accepted events were missing at the collector at the kill.
//
// The duplicate bound asserted, per killed process: (max_in_flight + 2) * batch_size messages.
// Duplicates reach the server only for batches it received but whose 2xx the dead process had
// not recorded: at most max_in_flight batches in flight, plus one batch already in a segment
// whose records were not yet marked consumed in the arena (recovered from both), plus one batch
// whose 2xx came in but whose settled mark was not yet written.
//
// Seeds: HTEVENTS_CRASH_SEED overrides the base seed; every round prints its seed and counts.

#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "collector/collector.hpp"
#include "crash/crash_shared.hpp"
#include "htevents/htevents.hpp"
#include "load/w1.hpp"

extern char** environ;

namespace htevents::crash {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

constexpr std::uint64_t duplicate_bound_per_kill = (crash_max_in_flight + 2) * crash_batch_size;

std::uint64_t base_seed() {
  if (char const* env = std::getenv("HTEVENTS_CRASH_SEED")) return std::strtoull(env, nullptr, 10);
  return 20261126;
}

// Polls `done` every `poll` until it holds (true) or `bound` passes (false). A wait, not a
// measurement: the bound is generous and only turns a hang into a failure.
bool wait_until(std::function<bool()> const& done, std::chrono::milliseconds bound,
                std::chrono::milliseconds poll = 1ms) {
  auto const deadline = std::chrono::steady_clock::now() + bound;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(poll);
  }
  return true;
}

/// A spool_crash_writer child process (posix_spawn). Killed (SIGKILL) and reaped on destruction
/// if still running, so that a failed test leaves no process behind.
class Writer {
 public:
  Writer(std::string const& mode, std::string const& spool_dir, std::string const& endpoint,
         std::string const& counters, std::string const& tag, std::size_t threads,
         std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {
        SPOOL_CRASH_WRITER, "--mode", mode,    "--spool-dir", spool_dir,   "--endpoint",           endpoint,
        "--counters",       counters, "--tag", tag,           "--threads", std::to_string(threads)};
    args.insert(args.end(), extra.begin(), extra.end());
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    int const error = ::posix_spawn(&pid_, SPOOL_CRASH_WRITER, nullptr, nullptr, argv.data(), environ);
    if (error != 0) {
      pid_ = -1;
      ADD_FAILURE() << "posix_spawn " << SPOOL_CRASH_WRITER << ": " << std::strerror(error);
    }
  }
  Writer(Writer const&) = delete;
  Writer& operator=(Writer const&) = delete;
  ~Writer() {
    if (pid_ > 0) kill();
  }

  [[nodiscard]] bool spawned() const noexcept { return pid_ > 0 || status_.has_value(); }
  /// False once it exited (reaped here).
  bool running() {
    if (pid_ <= 0) return false;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      status_ = status;
      pid_ = -1;
      return false;
    }
    return true;
  }
  /// SIGKILL and reap. True when the signal is what ended it (it was still running).
  bool kill() {
    if (!running()) return false;
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    status_ = status;
    pid_ = -1;
    return WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
  }
  /// Waits for it to exit by itself, at most `bound` (then kills it); its exit code, or nullopt.
  std::optional<int> wait_exit(std::chrono::milliseconds bound) {
    wait_until([this] { return !running(); }, bound, 10ms);
    if (running()) {
      kill();
      return std::nullopt;
    }
    if (status_ && WIFEXITED(*status_)) return WEXITSTATUS(*status_);
    return std::nullopt;
  }

 private:
  pid_t pid_ = -1;
  std::optional<int> status_;
};

/// Every messageId the writer tagged `tag` had recorded as accepted.
std::vector<std::string> accepted_ids(SharedCounters const& counters, std::string const& tag) {
  std::vector<std::string> ids;
  ids.reserve(counters.total_accepted());
  for (std::size_t t = 0; t < counters.thread_count(); ++t)
    for (std::uint64_t i = 0; i < counters.accepted(t); ++i) ids.push_back(message_id(tag, t, i));
  return ids;
}

/// What a client in this process found and delivered with spool_dir = `spool_dir`: created,
/// closed at once with a long timeout.
struct Recovery {
  Stats stats{};
  bool close_ok = false;
};
Recovery recover_here(collector::Collector const& collector, std::string const& spool_dir) {
  Client client(crash_write_key, crash_config(collector.endpoint(), spool_dir));
  Recovery r;
  r.close_ok = client.close(60s);
  r.stats = client.stats();
  return r;
}

// The checks every round ends with (see the top of the file).
void expect_delivered(collector::Collector const& collector, std::vector<std::string> const& ids,
                      std::uint64_t killed_processes, std::string const& what) {
  std::vector<std::string> const unseen = collector.unseen_message_ids(ids);
  EXPECT_TRUE(unseen.empty()) << what << ": " << unseen.size() << " of " << ids.size()
                              << " accepted events never reached the collector, e.g. " << unseen.front();
  std::uint64_t const duplicates = collector.stats().duplicate_message_ids;
  EXPECT_LE(duplicates, killed_processes * duplicate_bound_per_kill)
      << what << ": " << duplicates << " duplicates for " << killed_processes << " killed process(es); bound "
      << duplicate_bound_per_kill << " each = (max_in_flight " << crash_max_in_flight << " + 2) * batch_size "
      << crash_batch_size;
}

class SpoolCrash : public ::testing::Test {
 protected:
  void SetUp() override {
    auto const* info = ::testing::UnitTest::GetInstance()->current_test_info();
    root_ = fs::temp_directory_path() / ("htevents-crash-" + std::to_string(::getpid()) + "-" + info->name());
    fs::remove_all(root_);
    fs::create_directories(root_);
  }
  void TearDown() override {
    std::error_code ignored;
    fs::remove_all(root_, ignored);
  }
  // A fresh spool directory and counters file per round.
  std::string spool_dir(int round) const { return (root_ / ("spool-" + std::to_string(round))).string(); }
  std::string counters_path(int round, std::string const& who) const {
    return (root_ / ("counters-" + std::to_string(round) + "-" + who)).string();
  }

  // Waits until the writer accepted at least `target` events (and `also` holds); fails the test
  // when it dies or 30 s pass first.
  static void wait_accepted(Writer& writer, SharedCounters const& counters, std::uint64_t target,
                            std::function<bool()> const& also = {}) {
    bool const reached = wait_until(
        [&] { return !writer.running() || (counters.total_accepted() >= target && (!also || also())); }, 30s);
    ASSERT_TRUE(writer.running()) << "the writer exited early (accepted " << counters.total_accepted() << ", started "
                                  << counters.load(started) << ")";
    ASSERT_TRUE(reached) << "the writer accepted only " << counters.total_accepted() << " of " << target
                         << " events in 30 s (spooled " << counters.load(spooled_events) << ")";
  }

  fs::path root_;
};

// (a) A healthy endpoint under load: the writer is killed mid-stream; a client in this process
// delivers the spool's leftovers.
TEST_F(SpoolCrash, KilledUnderLoadLosesNoAcceptedEvent) {
  for (int round = 0; round < 3; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    std::uint64_t const seed = base_seed() * 131 + 1000 + static_cast<std::uint64_t>(round);
    std::mt19937_64 rng(seed);
    std::uint64_t const target = std::uniform_int_distribution<std::uint64_t>(2'000, 40'000)(rng);
    collector::Collector collector;
    SharedCounters counters = SharedCounters::create(counters_path(round, "a"), 2);
    {
      Writer writer("write", spool_dir(round), collector.endpoint(), counters.path(), "a", 2);
      ASSERT_TRUE(writer.spawned());
      wait_accepted(writer, counters, target);
      ASSERT_TRUE(writer.kill());
    }
    std::vector<std::string> const ids = accepted_ids(counters, "a");
    std::size_t const missing = collector.unseen_message_ids(ids).size();
    Recovery const r = recover_here(collector, spool_dir(round));
    std::printf(
        "[ crash a ] seed %llu: killed at %zu accepted, %zu missing at the collector, recovered %llu, "
        "duplicates %llu\n",
        static_cast<unsigned long long>(seed), ids.size(), missing, static_cast<unsigned long long>(r.stats.recovered),
        static_cast<unsigned long long>(collector.stats().duplicate_message_ids));
    EXPECT_TRUE(r.close_ok);
    EXPECT_EQ(r.stats.failed, 0u);
    if (missing > 0) {
      EXPECT_GT(r.stats.recovered, 0u) << missing << " accepted events were missing at the kill";
    }
    expect_delivered(collector, ids, 1, "after recovery");
  }
}

// (b) During an outage: the collector refuses everything, so the writer's batches pile up in the
// spool; killed; the outage ends; a client in this process delivers all of it.
TEST_F(SpoolCrash, KilledDuringAnOutageLosesNoAcceptedEvent) {
  for (int round = 0; round < 3; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    std::uint64_t const seed = base_seed() * 131 + 2000 + static_cast<std::uint64_t>(round);
    std::mt19937_64 rng(seed);
    std::uint64_t const target = std::uniform_int_distribution<std::uint64_t>(2'000, 60'000)(rng);
    collector::Collector collector({.refuse_until_released = true});
    SharedCounters counters = SharedCounters::create(counters_path(round, "b"), 2);
    {
      Writer writer("write", spool_dir(round), collector.endpoint(), counters.path(), "b", 2);
      ASSERT_TRUE(writer.spawned());
      // Batches are being spooled: the writer's spooled_events gauge is up.
      wait_accepted(writer, counters, target, [&] { return counters.load(spooled_events) > 0; });
      ASSERT_TRUE(writer.kill());
    }
    EXPECT_GT(collector.stats().outage_refusals, 0u);
    std::vector<std::string> const ids = accepted_ids(counters, "b");
    // Nothing got through. Looked at before the release: a request the writer sent just before
    // its death may still complete afterwards, and once released it is accepted (a duplicate of
    // what recovery sends, as promise 4 allows; CI saw 400 such events).
    EXPECT_EQ(collector.unseen_message_ids(ids).size(), ids.size());
    collector.release();
    Recovery const r = recover_here(collector, spool_dir(round));
    std::printf("[ crash b ] seed %llu: killed at %zu accepted (all missing), recovered %llu, duplicates %llu\n",
                static_cast<unsigned long long>(seed), ids.size(), static_cast<unsigned long long>(r.stats.recovered),
                static_cast<unsigned long long>(collector.stats().duplicate_message_ids));
    EXPECT_TRUE(r.close_ok);
    EXPECT_EQ(r.stats.failed, 0u);
    EXPECT_GE(r.stats.recovered, ids.size());
    expect_delivered(collector, ids, 1, "after the outage");
  }
}

// (c) Killed during recovery: the first writer dies during an outage, a second process starts
// recovering its spool (answers slowed down, so that recovery takes a while) and is killed at a
// random point of it, then a client in this process delivers what is left.
TEST_F(SpoolCrash, KilledDuringRecoveryLosesNothingEither) {
  for (int round = 0; round < 3; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    std::uint64_t const seed = base_seed() * 131 + 3000 + static_cast<std::uint64_t>(round);
    std::mt19937_64 rng(seed);
    std::uint64_t const target = std::uniform_int_distribution<std::uint64_t>(5'000, 40'000)(rng);
    collector::Collector collector({.refuse_until_released = true});
    SharedCounters counters = SharedCounters::create(counters_path(round, "c"), 2);
    {
      Writer writer("write", spool_dir(round), collector.endpoint(), counters.path(), "c", 2);
      ASSERT_TRUE(writer.spawned());
      wait_accepted(writer, counters, target, [&] { return counters.load(spooled_events) > 0; });
      ASSERT_TRUE(writer.kill());
    }
    std::vector<std::string> const ids = accepted_ids(counters, "c");
    collector.release();
    collector.set_delay(20ms);  // 4 requests of 100 events per 20 ms: recovery takes a while

    // Kill the recoverer once the collector has seen a random share (0 included: at start-up)
    // of the events.
    std::uint64_t const kill_at = std::uniform_int_distribution<std::uint64_t>(0, ids.size() * 3 / 4)(rng);
    SharedCounters recoverer_counters = SharedCounters::create(counters_path(round, "r"), 0);
    bool killed_mid_recovery = false;
    {
      Writer recoverer("recover", spool_dir(round), collector.endpoint(), recoverer_counters.path(), "r", 0);
      ASSERT_TRUE(recoverer.spawned());
      ASSERT_TRUE(wait_until([&] { return !recoverer.running() || recoverer_counters.load(started) == 1; }, 30s));
      wait_until([&] { return !recoverer.running() || collector.stats().unique_message_ids >= kill_at; }, 60s);
      killed_mid_recovery = recoverer.kill();
    }
    collector.set_delay(0ms);
    std::size_t const missing = collector.unseen_message_ids(ids).size();
    Recovery const r = recover_here(collector, spool_dir(round));
    std::printf(
        "[ crash c ] seed %llu: first killed at %zu accepted; recoverer killed %s at %llu seen "
        "(it had recovered %llu, delivered %llu); %zu missing; the third recovered %llu; duplicates %llu\n",
        static_cast<unsigned long long>(seed), ids.size(), killed_mid_recovery ? "mid-recovery" : "(it had finished)",
        static_cast<unsigned long long>(ids.size() - missing),
        static_cast<unsigned long long>(recoverer_counters.load(recovered)),
        static_cast<unsigned long long>(recoverer_counters.load(delivered)), missing,
        static_cast<unsigned long long>(r.stats.recovered),
        static_cast<unsigned long long>(collector.stats().duplicate_message_ids));
    EXPECT_TRUE(r.close_ok);
    EXPECT_EQ(r.stats.failed, 0u);
    if (missing > 0) {
      EXPECT_GT(r.stats.recovered, 0u) << missing << " accepted events were missing when the recoverer died";
    }
    expect_delivered(collector, ids, 2, "after the third client");
  }
}

// (d) Two processes on one spool_dir: B (a client in this process, enqueuing all along) is
// running before A starts; A is killed; B adopts A's subdirectory by itself (its periodic scan
// for dead siblings) and delivers A's leftovers without being restarted.
TEST_F(SpoolCrash, LiveSiblingAdoptsADeadOnesSpool) {
  for (int round = 0; round < 2; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    bool const outage = round == 1;  // round 1: A dies with everything still spooled
    std::uint64_t const seed = base_seed() * 131 + 4000 + static_cast<std::uint64_t>(round);
    std::mt19937_64 rng(seed);
    std::uint64_t const target = std::uniform_int_distribution<std::uint64_t>(2'000, 30'000)(rng);
    collector::Collector collector;
    if (outage) collector.refuse();

    auto b = std::make_unique<Client>(crash_write_key, crash_config(collector.endpoint(), spool_dir(round)));
    std::atomic<bool> stop_b{false};
    std::vector<std::string> b_ids;
    std::thread b_producer([&] {
      for (std::uint64_t i = 0; !stop_b.load(std::memory_order_relaxed); ++i) {
        Track event = load::w1_event(i);
        event.message_id = message_id("bsib", 0, i);
        if (b->enqueue(event) == Status::ok) b_ids.push_back(event.message_id);
        std::this_thread::sleep_for(1ms);  // a trickle: B is alive and working, not a load
      }
    });

    SharedCounters counters = SharedCounters::create(counters_path(round, "d"), 2);
    {
      Writer a("write", spool_dir(round), collector.endpoint(), counters.path(), "d", 2);
      ASSERT_TRUE(a.spawned());
      if (outage)
        wait_accepted(a, counters, target, [&] { return counters.load(spooled_events) > 0; });
      else
        wait_accepted(a, counters, target);
      ASSERT_TRUE(a.kill());
    }
    std::vector<std::string> const ids = accepted_ids(counters, "d");
    std::size_t const missing = collector.unseen_message_ids(ids).size();
    if (outage) collector.release();

    bool const all_seen = wait_until([&] { return collector.unseen_message_ids(ids).empty(); }, 60s, 50ms);
    stop_b.store(true);
    b_producer.join();
    bool const b_closed = b->close(60s);
    Stats const bs = b->stats();
    std::printf(
        "[ crash d ] seed %llu%s: A killed at %zu accepted, %zu missing; B recovered %llu, delivered %llu "
        "(own accepted %zu); duplicates %llu\n",
        static_cast<unsigned long long>(seed), outage ? " (outage)" : "", ids.size(), missing,
        static_cast<unsigned long long>(bs.recovered), static_cast<unsigned long long>(bs.delivered), b_ids.size(),
        static_cast<unsigned long long>(collector.stats().duplicate_message_ids));
    EXPECT_TRUE(all_seen) << "B did not deliver A's leftovers within 60 s";
    EXPECT_TRUE(b_closed);
    EXPECT_EQ(bs.failed, 0u);
    if (missing > 0) {
      EXPECT_GT(bs.recovered, 0u) << missing << " of A's accepted events were missing at the kill";
    }
    expect_delivered(collector, ids, 1, "A's events, delivered by B");
    EXPECT_TRUE(collector.unseen_message_ids(b_ids).empty()) << "B's own events";
  }
}

// (e) The long outage: 1,000,000 W1 events through max_queue_bytes = 4 MiB while the collector
// refuses everything for 10 s. Every enqueue is ok, every event delivered, none failed, and the
// writer's peak RSS (VmHWM, read by the writer itself at the end) stays within
// max_queue_bytes + 64 MiB: the backlog waits on disk.
TEST_F(SpoolCrash, LongOutageIsRiddenOutOnDisk) {
  constexpr std::size_t threads = 2;
  constexpr std::uint64_t events = 1'000'000;
  constexpr std::size_t max_queue_bytes = std::size_t{4} << 20;
  collector::Collector collector;
  collector.refuse_for(10s);
  SharedCounters counters = SharedCounters::create(counters_path(0, "e"), threads);
  std::optional<int> exit_code;
  bool enqueued_during_outage = false;
  {
    Writer writer("write", spool_dir(0), collector.endpoint(), counters.path(), "e", threads,
                  {"--events", std::to_string(events / threads), "--max-queue-bytes", std::to_string(max_queue_bytes),
                   "--batch-size", "250"});
    ASSERT_TRUE(writer.spawned());
    // For the report only: whether the million went through 4 MiB while the outage still held.
    wait_until([&] { return !writer.running() || counters.load(all_enqueued) == 1; }, 300s, 5ms);
    enqueued_during_outage = counters.load(all_enqueued) == 1 && collector.refusing();
    exit_code = writer.wait_exit(300s);
  }
  std::printf(
      "[ crash e ] exit %d: accepted %llu (%s), not ok %llu, delivered %llu, failed %llu, recovered %llu, "
      "VmHWM %.1f MiB; collector refused %llu requests\n",
      exit_code.value_or(-1), static_cast<unsigned long long>(counters.total_accepted()),
      enqueued_during_outage ? "all while the collector was refusing" : "not all during the outage",
      static_cast<unsigned long long>(counters.load(not_ok)), static_cast<unsigned long long>(counters.load(delivered)),
      static_cast<unsigned long long>(counters.load(failed)), static_cast<unsigned long long>(counters.load(recovered)),
      static_cast<double>(counters.load(vm_hwm_kib)) / 1024.0,
      static_cast<unsigned long long>(collector.stats().outage_refusals));
  ASSERT_EQ(exit_code, 0) << "the writer did not finish and close within 300 s";
  EXPECT_EQ(counters.load(done), 1u);
  EXPECT_EQ(counters.load(close_ok), 1u);
  EXPECT_EQ(counters.total_accepted(), events);
  EXPECT_EQ(counters.load(not_ok), 0u) << "enqueue did not answer ok every time";
  EXPECT_EQ(counters.load(enqueued), events);
  EXPECT_EQ(counters.load(delivered), events);
  EXPECT_EQ(counters.load(failed), 0u);
  EXPECT_GT(collector.stats().outage_refusals, 0u);
  std::vector<std::string> const ids = accepted_ids(counters, "e");
  EXPECT_TRUE(collector.unseen_message_ids(ids).empty());
#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
  std::uint64_t const budget = max_queue_bytes + (std::uint64_t{64} << 20);
  EXPECT_LE(counters.load(vm_hwm_kib) * 1024, budget)
      << "peak RSS over max_queue_bytes + 64 MiB = " << budget / 1048576 << " MiB";
#endif
}

}  // namespace
}  // namespace htevents::crash
