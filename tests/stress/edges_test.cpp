// The promise at the edges: an event for which enqueue returned ok is delivered or handed to
// on_failure, whatever the close deadline, the number of threads, a fork, a thread that exits
// while its thread_locals still enqueue, or a logger that closes the client.

#include <gtest/gtest.h>
#if defined(__linux__)
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#endif
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>

#include <atomic>
#include <barrier>
#include <chrono>
#include <cstdint>
#include <future>
#include <latch>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "common/process_barrier.hpp"
#include "support/client_fixture.hpp"
#include "support/recorded_failure.hpp"
#include "support/sanitized.hpp"
#include "support/temp_dir.hpp"

namespace htevents::testing {
namespace {

using namespace std::chrono_literals;

constexpr char const* closed_port = "http://127.0.0.1:1";

// One round: `threads` producers enqueue as fast as they can until close() (from this thread,
// after `before_close`) has stopped them; returns the number of ok answers.
std::uint64_t race_close(Client& client, unsigned threads, std::chrono::microseconds before_close,
                         std::chrono::milliseconds deadline, bool* close_result) {
  std::atomic<std::uint64_t> ok{0};
  std::atomic<bool> stop{false};
  std::vector<std::thread> producers;
  std::latch started(threads + 1);
  for (unsigned t = 0; t < threads; ++t) {
    producers.emplace_back([&, t] {
      started.arrive_and_wait();
      std::uint64_t mine = 0;
      for (std::uint64_t i = 0; !stop.load(std::memory_order_relaxed); ++i) {
        Status const s = (i % 2 == 0) ? client.enqueue(w1_event(t * 1'000'000 + i)) : send_w1_fast(client, t * 1'000'000 + i);
        if (s == Status::ok) ++mine;
        else if (s == Status::closed) break;
      }
      ok.fetch_add(mine);
    });
  }
  started.arrive_and_wait();
  std::this_thread::sleep_for(before_close);
  *close_result = client.close(deadline);
  stop = true;
  for (auto& p : producers) p.join();
  return ok.load();
}

void close_race_rounds(char const* endpoint_or_null, int rounds) {
  std::unique_ptr<collector::Collector> collector;
  if (endpoint_or_null == nullptr) collector = std::make_unique<collector::Collector>(collector::Options{});
  std::mt19937 rng(12345);
  for (int round = 0; round < rounds; ++round) {
    FailureCount failures;
    Config config;
    config.endpoint = collector ? collector->endpoint() : endpoint_or_null;
    config.interval = 5ms;
    config.retry_base = 1ms;
    config.retry_max = 2ms;
    config.request_timeout = 1000ms;
    config.on_failure = failures.callback();
    config.log_level = LogLevel::error;
    config.logger = [](LogLevel, std::string_view) {};  // a closed port fails loudly: keep CI logs short
    bool closed_true = false;
    std::uint64_t ok = 0;
    {
      Client client(write_key, config);
      auto const before = std::chrono::microseconds(std::uniform_int_distribution<int>(0, 2000)(rng));
      auto const deadline = std::chrono::milliseconds(std::uniform_int_distribution<int>(0, 3)(rng));
      ok = race_close(client, 8, before, deadline, &closed_true);
      Stats const s = client.stats();
      ASSERT_EQ(s.enqueued, ok) << "round " << round;
      ASSERT_EQ(s.delivered + s.failed, ok) << "round " << round << ": an ok event was neither delivered nor failed";
      ASSERT_EQ(s.failed, failures.calls.load()) << "round " << round;
      ASSERT_EQ(closed_true, s.delivered == ok) << "round " << round << ": close() true iff all delivered";
    }
  }
}

// 1,000 rounds everywhere, sanitizers included (about 5 ms a round under TSan here).
int close_rounds() { return 1000; }

TEST(Edges, CloseRacingProducersAccountsForEveryOkAgainstAHealthyCollector) {
  close_race_rounds(nullptr, close_rounds());
}

TEST(Edges, CloseRacingProducersAccountsForEveryOkAgainstAClosedPort) {
  close_race_rounds(closed_port, close_rounds());
}

// Several threads close at once, each with its own deadline, while producers run.
TEST(Edges, ConcurrentClosersEachReturnAndAgree) {
  collector::Collector collector(collector::Options{});
  for (int round = 0; round < (sanitized ? 20 : 100); ++round) {
    FailureCount failures;
    Config config = local_config(collector);
    config.on_failure = failures.callback();
    Client client(write_key, config);
    std::atomic<std::uint64_t> ok{0};
    std::atomic<bool> stop{false};
    std::vector<std::thread> threads;
    for (unsigned t = 0; t < 4; ++t) {
      threads.emplace_back([&, t] {
        for (std::uint64_t i = 0; !stop; ++i) {
          Status const s = client.enqueue(w1_event(t * 1'000'000 + i));
          if (s == Status::ok) ok.fetch_add(1);
          else if (s == Status::closed) break;
        }
      });
    }
    std::vector<std::future<bool>> closers;
    for (std::chrono::milliseconds deadline : {0ms, 1ms, 3ms, 10000ms}) {
      closers.push_back(std::async(std::launch::async, [&client, deadline] { return client.close(deadline); }));
    }
    std::vector<bool> results;
    for (auto& c : closers) {
      ASSERT_EQ(c.wait_for(60s), std::future_status::ready) << "a close() never returned";
      results.push_back(c.get());
    }
    stop = true;
    for (auto& t : threads) t.join();
    Stats const s = client.stats();
    ASSERT_EQ(s.delivered + s.failed, ok.load()) << "round " << round;
    for (bool r : results) {
      if (r) {
        ASSERT_EQ(s.delivered, ok.load()) << "a close() said true but not everything was delivered";
      }
    }
    // The longest deadline waits for the close to finish: its answer is the final one.
    ASSERT_EQ(results.back(), s.delivered == ok.load());
  }
}

// flush() that starts while close() runs returns when close is done, not at its own timeout.
TEST(Edges, FlushRacingCloseReturnsWhenCloseIsDone) {
  collector::Collector collector(collector::Options{});
  for (int round = 0; round < (sanitized ? 20 : 200); ++round) {
    Client client(write_key, local_config(collector));
    for (std::uint64_t i = 0; i < 50; ++i) ASSERT_EQ(client.enqueue(w1_event(i)), Status::ok);
    auto flusher = std::async(std::launch::async, [&] { return client.flush(std::chrono::milliseconds::max()); });
    ASSERT_TRUE(client.close(10s));
    // A hang guard, not a timing check: the bug was a flush waiting for its whole timeout.
    ASSERT_EQ(flusher.wait_for(60s), std::future_status::ready) << "flush() outlived close() (round " << round << ")";
    flusher.get();
    EXPECT_EQ(client.stats().delivered, 50u);
  }
}

// flush() is true only if every event still pending when it was called was delivered; a later
// flush with nothing of its own failing is true again.
TEST(Edges, FlushIsFalseWhenAnEventItWaitedForFailed) {
  collector::Options options;
  options.fixed_status = 403;
  collector::Collector collector(options);
  Config config = local_config(collector);
  config.interval = std::chrono::minutes(10);  // nothing leaves before the flush asks
  config.logger = [](LogLevel, std::string_view) {};
  Client client(write_key, config);
  for (std::uint64_t i = 0; i < 10; ++i) ASSERT_EQ(client.enqueue(w1_event(i)), Status::ok);
  EXPECT_FALSE(client.flush(30s)) << "all 10 it waited for failed";
  EXPECT_EQ(client.stats().failed, 10u);
  EXPECT_TRUE(client.flush(30s)) << "nothing pending, nothing of its own failed";
  EXPECT_FALSE(client.close(10s)) << "close() answers for the client's whole life";
}

// "As long as it takes" must not overflow into "already too late".
TEST(Edges, HugeTimeoutsMeanWaitNotFail) {
  collector::Collector collector(collector::Options{});
  FailureCount failures;
  Config config = local_config(collector);
  config.on_failure = failures.callback();
  Client client(write_key, config);
  for (std::uint64_t i = 0; i < 1000; ++i) ASSERT_EQ(client.enqueue(w1_event(i)), Status::ok);
  EXPECT_TRUE(client.flush(std::chrono::milliseconds::max()));
  for (std::uint64_t i = 1000; i < 2000; ++i) ASSERT_EQ(client.enqueue(w1_event(i)), Status::ok);
  EXPECT_TRUE(client.close(std::chrono::milliseconds::max()));
  Stats const s = client.stats();
  EXPECT_EQ(s.delivered, 2000u);
  EXPECT_EQ(s.failed, 0u);
  EXPECT_EQ(failures.calls.load(), 0u);
}

// Backpressure::block with enqueue_timeout = max waits for room instead of failing at once.
TEST(Edges, HugeEnqueueTimeoutWaitsForRoom) {
  collector::Options options;
  options.delay = 20ms;
  collector::Collector collector(options);
  Config config = local_config(collector);
  config.max_in_flight = 1;
  config.max_queue_bytes = 4 * 64 * 1024;
  config.backpressure = Backpressure::block;
  config.enqueue_timeout = std::chrono::milliseconds::max();
  Client client(write_key, config);
  std::uint64_t queue_full = 0;
  for (std::uint64_t i = 0; i < 5000; ++i) {
    if (client.enqueue(w1_event(i)) == Status::queue_full) ++queue_full;
  }
  EXPECT_EQ(queue_full, 0u) << "an enqueue_timeout of max() overflowed into no wait at all";
  EXPECT_TRUE(client.close(std::chrono::milliseconds::max()));
  EXPECT_EQ(client.stats().delivered, 5000u);
}

// close() from another thread cuts short an enqueue blocked for room: it answers, and close()
// does not wait out its (here endless) enqueue_timeout.
TEST(Edges, CloseInterruptsAnEnqueueBlockedForRoom) {
  collector::Options options;
  options.fixed_status = 503;  // nothing ever leaves: the queue stays full
  collector::Collector collector(options);
  Config config = local_config(collector);
  config.max_in_flight = 1;
  config.max_queue_bytes = 4 * 64 * 1024;
  config.enqueue_timeout = std::chrono::milliseconds::max();
  config.max_attempts = 1000;  // retried, never failed, for as long as the test runs
  config.logger = [](LogLevel, std::string_view) {};
  Client client(write_key, config);
  std::atomic<std::uint64_t> ok{0};
  std::atomic<bool> blocked_answered{false};
  std::thread producer([&] {
    for (std::uint64_t i = 0;; ++i) {
      Status const s = client.enqueue(w1_event(i));
      if (s != Status::ok) break;
      ok.fetch_add(1);
    }
    blocked_answered = true;
  });
  // Wait until the producer is stuck (the queue is full), by counts, not by time.
  while (client.stats().queued_bytes < config.max_queue_bytes - 64 * 1024) std::this_thread::sleep_for(1ms);
  auto closer = std::async(std::launch::async, [&] { return client.close(100ms); });
  ASSERT_EQ(closer.wait_for(60s), std::future_status::ready) << "close() waited for the blocked enqueue's timeout";
  EXPECT_FALSE(closer.get());
  producer.join();
  EXPECT_TRUE(blocked_answered.load());
  Stats const s = client.stats();
  EXPECT_EQ(s.enqueued, ok.load());
  EXPECT_EQ(s.delivered + s.failed, ok.load());
}

// More live threads than arena blocks (the default pool holds 1,024). All threads stay alive
// until every one has sent, so each holds its block meanwhile.
//  - block (with an enqueue_timeout long enough to mean "wait for room"): every call ok,
//    every event delivered.
//  - fail, drop_oldest: a refusal is allowed (a reclaimed block comes back only once the
//    serializer has copied its records, and a starved serializer may lag), but every thread
//    makes progress: it retries each refused event, and all get through. Before reclaim, the
//    threads beyond the 1,024th never got a block while the others lived.
void many_live_threads(unsigned threads, unsigned events_each, Backpressure policy) {
  collector::Options options;
  options.threads = 2;
  collector::Collector collector(options);
  FailureCount failures;
  Config config = local_config(collector);
  config.backpressure = policy;
  config.on_failure = failures.callback();
  // What is tested is progress, not speed: a waiter under `block` is served once the consumer
  // has cycled blocks back, however long thousands of threads on two loaded cores take to run.
  // With the default 100 ms, a CI run refused 5,794 of 40,000 calls by timeout alone.
  if (policy == Backpressure::block) config.enqueue_timeout = std::chrono::minutes(2);
  Client client(write_key, config);
  bool const retry = policy != Backpressure::block;
  constexpr int max_tries = 100'000;
  std::atomic<std::uint64_t> ok{0}, refused{0}, gave_up{0};
  std::latch all_sent(threads);
  std::vector<std::thread> pool;
  pool.reserve(threads);
  for (unsigned t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      for (unsigned i = 0; i < events_each; ++i) {
        for (int tries = 0;; ++tries) {
          Status const s = (i % 2 == 0) ? client.enqueue(w1_event(t * 100 + i)) : send_w1_fast(client, t * 100 + i);
          if (s == Status::ok) {
            ok.fetch_add(1);
            break;
          }
          refused.fetch_add(1);
          if (!retry || tries == max_tries) {
            gave_up.fetch_add(1);
            break;
          }
          std::this_thread::yield();
        }
      }
      all_sent.count_down();
      all_sent.wait();
    });
  }
  for (auto& th : pool) th.join();
  if (!retry) {
    EXPECT_EQ(refused.load(), 0u) << "calls refused with " << threads << " live threads";
  }
  EXPECT_EQ(gave_up.load(), 0u) << "events that never got through with " << threads << " live threads";
  EXPECT_EQ(ok.load(), std::uint64_t{threads} * events_each);
  bool const all_delivered = client.close(60s);
  Stats const s = client.stats();
  EXPECT_EQ(s.enqueued, ok.load());
  EXPECT_EQ(s.delivered + s.failed, ok.load());
  EXPECT_EQ(s.failed, s.dropped_oldest) << "the only failures allowed are drop_oldest's evictions";
  EXPECT_EQ(failures.calls.load(), s.failed);
  EXPECT_EQ(all_delivered, s.failed == 0);
  EXPECT_EQ(collector.stats().unique_message_ids, s.delivered);
  if (policy == Backpressure::block) {
    EXPECT_EQ(s.failed, 0u);
  }
}

TEST(Edges, FourThousandLiveThreadsAllDelivered) { many_live_threads(sanitized ? 1500 : 4000, 10, Backpressure::block); }

TEST(Edges, ManyLiveThreadsUnderDropOldestAllGetThrough) { many_live_threads(1500, 10, Backpressure::drop_oldest); }

TEST(Edges, ManyLiveThreadsUnderFailPolicyAllGetThrough) { many_live_threads(1500, 10, Backpressure::fail); }

// At least as many threads writing at once as the pool has blocks, each filling block after
// block, under `block`. A thread whose block fills while the pool is empty must not sit on its
// full block while it waits for another: when every block was held that way, none came back
// and every thread waited out its enqueue_timeout into queue_full (docs/lifecycle.md).
// With a spool, blocks come back later (after their batch's 2xx), the same holds.
void as_many_writers_as_blocks(unsigned threads, bool spool = false) {
  collector::Collector collector(collector::Options{});
  Config config = local_config(collector);
  TempDir dir;
  if (spool) config.spool_dir = dir.path.string();
  config.max_queue_bytes = 4 * 64 * 1024;  // the smallest pool: 4 blocks of 64 KiB
  config.backpressure = Backpressure::block;
  // Long enough to mean "wait for room" on a loaded CI machine; short enough that the stall
  // fails the test instead of hanging it.
  config.enqueue_timeout = std::chrono::seconds(20);
  Client client(write_key, config);
  constexpr std::uint64_t events_each = 4000;  // about 16 blocks' worth per thread
  std::atomic<std::uint64_t> ok{0}, refused{0};
  std::vector<std::thread> writers;
  std::latch started(threads);
  for (unsigned t = 0; t < threads; ++t) {
    writers.emplace_back([&, t] {
      started.arrive_and_wait();
      for (std::uint64_t i = 0; i < events_each; ++i) {
        std::uint64_t const id = t * 1'000'000 + i;
        Status const s = (i % 2 == 0) ? client.enqueue(w1_event(id)) : send_w1_fast(client, id);
        if (s != Status::ok) {
          refused.fetch_add(1);
          break;  // one refusal fails the test: the stall would repeat for every block
        }
        ok.fetch_add(1);
      }
    });
  }
  for (auto& w : writers) w.join();
  EXPECT_EQ(refused.load(), 0u) << threads << " writers and 4 blocks: calls refused";
  EXPECT_TRUE(client.close(60s));
  Stats const s = client.stats();
  EXPECT_EQ(s.enqueued, ok.load());
  EXPECT_EQ(s.delivered, ok.load());
  EXPECT_EQ(collector.stats().unique_message_ids, ok.load());
}

TEST(Edges, AsManyWritersAsBlocksAllGetOk) { as_many_writers_as_blocks(4); }

TEST(Edges, TwiceAsManyWritersAsBlocksAllGetOk) { as_many_writers_as_blocks(8); }

TEST(Edges, TwiceAsManyWritersAsSpooledBlocksAllGetOk) { as_many_writers_as_blocks(8, true); }

// A user's thread_local whose destructor enqueues, while other threads start, exit and adopt
// the producers of exited ones.
struct EnqueueOnThreadExit {
  Client* client = nullptr;
  std::atomic<std::uint64_t>* ok = nullptr;
  std::uint64_t base = 0;
  ~EnqueueOnThreadExit() {
    if (client == nullptr) return;
    for (std::uint64_t i = 0; i < 5; ++i) {
      if (client->enqueue(w1_event(base + i)) == Status::ok) ok->fetch_add(1);
      if (send_w1_fast(*client, base + 100 + i) == Status::ok) ok->fetch_add(1);
    }
  }
};
thread_local EnqueueOnThreadExit enqueue_on_exit;

TEST(Edges, ThreadLocalDestructorsThatEnqueueWhileThreadsComeAndGo) {
  collector::Collector collector(collector::Options{});
  Client client(write_key, local_config(collector));
  std::atomic<std::uint64_t> ok{0};
  for (int wave = 0; wave < (sanitized ? 10 : 50); ++wave) {
    std::vector<std::thread> threads;
    for (unsigned t = 0; t < 8; ++t) {
      std::uint64_t const base = (std::uint64_t(wave) * 8 + t) * 1000;
      threads.emplace_back([&, t, base] {
        if (t % 2 == 0) {
          // Constructed before this thread's first enqueue: destroyed after the library's
          // per-thread state would be, if that state were a plain thread_local.
          enqueue_on_exit.client = &client;
          enqueue_on_exit.ok = &ok;
          enqueue_on_exit.base = base;
        }
        for (std::uint64_t i = 0; i < 20; ++i) {
          if (client.enqueue(w1_event(base + 500 + i)) == Status::ok) ok.fetch_add(1);
        }
      });
    }
    for (auto& th : threads) th.join();
  }
  ASSERT_TRUE(client.close(60s));
  Stats const s = client.stats();
  EXPECT_EQ(s.enqueued, ok.load());
  EXPECT_EQ(s.delivered, ok.load());
  EXPECT_EQ(collector.stats().unique_message_ids, ok.load());
}

// A logger that closes the client from a pipeline thread (the sender logs the fallback).
TEST(Edges, LoggerThatClosesTheClientDoesNotTerminate) {
  collector::Options options;
  options.refused_encodings = {"zstd"};
  collector::Collector collector(options);
  Config config = local_config(collector);
  config.log_level = LogLevel::warn;
  std::atomic<Client*> target{nullptr};
  std::atomic<int> closes_from_logger{0};
  std::atomic<bool> close_answer{true};
  config.logger = [&](LogLevel, std::string_view) {
    if (Client* c = target.load()) {
      close_answer = c->close(1s);
      closes_from_logger.fetch_add(1);
    }
  };
  Client client(write_key, config);
  target = &client;
  for (std::uint64_t i = 0; i < 100; ++i) ASSERT_EQ(client.enqueue(w1_event(i)), Status::ok);
  client.flush(10s);
  EXPECT_GE(closes_from_logger.load(), 1) << "the fallback warning should have reached the logger";
  EXPECT_FALSE(close_answer.load()) << "close() from the logger's pipeline thread only stops intake";
  EXPECT_EQ(client.enqueue(w1_event(1000)), Status::closed);
  target = nullptr;
  EXPECT_TRUE(client.close(10s));
  EXPECT_EQ(client.stats().delivered, 100u);
}

// stats() never shows more settled than accepted, even while messages fail at once.
TEST(Edges, StatsNeverShowMoreSettledThanEnqueued) {
  collector::Options options;
  options.fixed_status = 401;
  collector::Collector collector(options);
  Config config = local_config(collector);
  config.compression = Compression::none;
  config.interval = 1ms;
  config.batch_size = 1;
  config.logger = [](LogLevel, std::string_view) {};
  Client client(write_key, config);
  std::atomic<bool> stop{false};
  std::atomic<std::uint64_t> bad{0};
  std::thread watcher([&] {
    while (!stop) {
      Stats const s = client.stats();
      if (s.delivered + s.failed > s.enqueued) bad.fetch_add(1);
    }
  });
  for (std::uint64_t i = 0; i < (sanitized ? 2000u : 20000u); ++i) ASSERT_EQ(client.enqueue(w1_event(i)), Status::ok);
  client.flush(60s);
  stop = true;
  watcher.join();
  EXPECT_EQ(bad.load(), 0u);
  EXPECT_FALSE(client.close(10s));
}

// The destructor while batches wait for retries: every accepted message ends failed or
// delivered, by request_timeout.
TEST(Edges, DestructorDuringRetriesAccountsForEverything) {
  collector::Options options;
  options.fixed_status = 503;
  collector::Collector collector(options);
  FailureCount failures;
  std::uint64_t ok = 0;
  {
    Config config = local_config(collector);
    config.request_timeout = 200ms;
    config.retry_base = 50ms;
    config.retry_max = 100ms;
    config.max_attempts = 1000;
    config.on_failure = failures.callback();
    config.logger = [](LogLevel, std::string_view) {};
    Client client(write_key, config);
    for (std::uint64_t i = 0; i < 3000; ++i) ok += client.enqueue(w1_event(i)) == Status::ok;
    while (client.stats().retries == 0) std::this_thread::sleep_for(1ms);
  }
  EXPECT_EQ(ok, 3000u);
  EXPECT_EQ(failures.calls.load(), ok);
}

// fork(): the child's copy refuses (Status::forked), closes and is destroyed without hanging;
// the parent goes on as if nothing happened.
TEST(Edges, ForkChildRefusesAndNeverHangsParentUnaffected) {
  collector::Collector collector(collector::Options{});
  auto client = std::make_unique<Client>(write_key, local_config(collector));
  for (std::uint64_t i = 0; i < 500; ++i) ASSERT_EQ(client->enqueue(w1_event(i)), Status::ok);
  // ASan's allocator does not hold its size-class locks across fork(): a child can inherit one
  // that a parent thread held at that instant and hang at its next allocation of that size
  // (seen in CI: the child's own client's serializer stuck in SizeClassAllocator64::
  // GetFromAllocator). glibc's malloc takes its locks around fork, so elsewhere the fork lands
  // on a busy pipeline; under ASan the pipeline is drained first (its threads asleep, not
  // allocating), and the child starts no client of its own.
  if (address_sanitized) {
    ASSERT_TRUE(client->flush(30s));
  }
  pid_t const child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    alarm(20);  // a hang ends the child with SIGALRM, which the parent reports
    int code = 0;
    if (client->enqueue(w1_event(9'000'000)) != Status::forked) code |= 1;
    if (send_w1_fast(*client, 9'000'001) != Status::forked) code |= 2;
    if (client->flush(1s)) code |= 4;
    if (client->close(1s)) code |= 8;
    Stats const s = client->stats();  // must not deadlock on a lock the parent's threads held
    if (s.enqueued < 500) code |= 16;
    client.reset();  // the destructor must not join threads the child does not have
    if (!thread_sanitized && !address_sanitized) {
      // A client of the child's own works as usual. (TSan does not support threads started
      // after a multi-threaded fork; ASan: above.)
      Client own(write_key, local_config(collector));
      if (own.enqueue(w1_event(9'000'002)) != Status::ok) code |= 32;
      if (!own.close(10s)) code |= 64;
    }
    _exit(code);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status)) << "child died (signal " << (WIFSIGNALED(status) ? WTERMSIG(status) : 0) << ")";
  EXPECT_EQ(WEXITSTATUS(status), 0) << "child check bits failed";
  for (std::uint64_t i = 500; i < 1000; ++i) ASSERT_EQ(client->enqueue(w1_event(i)), Status::ok);
  ASSERT_TRUE(client->close(30s));
  EXPECT_EQ(client->stats().delivered, 1000u);
  // The parent's 1000, and the one of the child's own client.
  EXPECT_EQ(collector.stats().unique_message_ids, thread_sanitized || address_sanitized ? 1000u : 1001u);
}

// membarrier works when the client starts, then stops working (a seccomp filter installed
// later): both sides of the barrier fall back together and nothing accepted is lost.
// The HTEVENTS_PORTABLE build never calls membarrier (both sides are fences): there the filter
// goes in before the client, and kills the process at the first call.
#if defined(__linux__) && defined(__NR_membarrier)
bool deny_membarrier(std::uint32_t action) {
  sock_filter filter[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_membarrier, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, action),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  sock_fprog program{static_cast<unsigned short>(sizeof(filter) / sizeof(filter[0])), filter};
  return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 && prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program) == 0;
}

TEST(Edges, MembarrierRefusedAfterRegistrationFallsBackOnBothSides) {
  if (thread_sanitized) GTEST_SKIP() << "TSan does not support threads started after a multi-threaded fork";
  // Forked before any thread exists (the collector runs in the child): a fork while another
  // thread holds the allocator's lock leaves the child stuck on it (seen under ASan, whose
  // allocator has region locks fork does not take).
  pid_t const child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    alarm(30);
    int code = 0;
    collector::Collector collector(collector::Options{});
    // Its own process: the filter must not reach the test runner.
#if defined(HTEVENTS_PORTABLE)
    if (!deny_membarrier(SECCOMP_RET_KILL_PROCESS)) code |= 2;
#endif
    Client client(write_key, local_config(collector));
    bool const registered = detail::process_barrier_registered.load();
#if defined(HTEVENTS_PORTABLE)
    if (registered) code |= 32;  // the portable build must not register
#endif
    for (std::uint64_t i = 0; i < 500; ++i) code |= client.enqueue(w1_event(i)) == Status::ok ? 0 : 1;
#if !defined(HTEVENTS_PORTABLE)
    if (!deny_membarrier(SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA))) code |= 2;
#endif
    std::vector<std::thread> producers;
    std::atomic<std::uint64_t> ok{500};
    for (unsigned t = 0; t < 4; ++t) {
      producers.emplace_back([&, t] {
        for (std::uint64_t i = 0; i < 2000; ++i) ok += client.enqueue(w1_event((t + 1) * 10'000 + i)) == Status::ok;
      });
    }
    for (auto& p : producers) p.join();
    if (!client.close(20s)) code |= 4;
    if (client.stats().delivered != ok.load()) code |= 8;
    if (registered && detail::process_barrier_registered.load()) code |= 16;  // should have fallen back
    if (collector.stats().unique_message_ids != 8500u) code |= 32;
    _exit(code);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status)) << "child died (signal " << (WIFSIGNALED(status) ? WTERMSIG(status) : 0) << ")";
  EXPECT_EQ(WEXITSTATUS(status), 0) << "child check bits failed (32: the collector did not count 8,500 events)";
}
#endif

}  // namespace
}  // namespace htevents::testing
