// Enqueue with many live producer threads (issue 8, edge 2): 1, 8, 64, 1,000 and 4,000 threads
// each send W1 events through the fast path into one Client with the default Config (64 MiB
// queue, Backpressure::block with its 100 ms enqueue_timeout), against an in-process collector.
//
// Not Google Benchmark's ->Threads(N): it starts N threads per repetition, and every thread here
// must stay alive until the last one is done, since a live thread keeps its arena block. So one
// iteration is one whole run: N std::threads started, released together, joined once all have
// finished. The total is 100,000 calls at every thread count, so rows compare per call.
//
// Reported as counters: wall ns per call (run time / all calls: the inverse of throughput),
// CPU ns per call (the producers' thread CPU clocks), how the calls ended (ok, queue_full,
// other), threads_no_ok (threads none of whose calls was ok), and delivered / failed after
// close (the warm-up's events not included). Nothing is asserted: with more live threads than
// the pool has blocks some calls get queue_full today, and the counts are the measurement.
#include <benchmark/benchmark.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <latch>
#include <thread>
#include <vector>

#include "collector/collector.hpp"
#include "htevents/htevents.hpp"
#include "load/w1.hpp"

namespace {

using htevents::Status;

constexpr std::int64_t total_calls = 100'000;

double thread_cpu_seconds() {
  timespec ts{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

struct Outcome {
  std::uint64_t ok = 0;
  std::uint64_t queue_full = 0;
  std::uint64_t other = 0;
  double cpu_seconds = 0;
  std::chrono::steady_clock::time_point done{};
};

// Sends `total_calls` events from a thread that then exits, and waits for their delivery: the
// blocks they used go back to the pool with their pages touched, so the timed run measures
// enqueue, not first-touch page faults of a new process (BM_Enqueue_FastPath is warm the same
// way). The exited thread's producer is adopted by a worker, so no block stays pinned by it.
void warm_up(htevents::Client& client) {
  std::thread([&] {
    for (std::uint64_t i = 0; i < static_cast<std::uint64_t>(total_calls); ++i) (void)htevents::load::send_w1_fast(client, i);
  }).join();
  (void)client.flush(std::chrono::seconds(60));
}

void BM_Enqueue_ThreadCount(benchmark::State& state) {
  auto const threads = static_cast<unsigned>(state.range(0));
  std::uint64_t const per_thread = static_cast<std::uint64_t>(total_calls) / threads;
  htevents::collector::Collector collector;
  Outcome sum;
  std::uint64_t delivered = 0, failed = 0, starved = 0;
  double wall_seconds = 0;
  for (auto _ : state) {
    // A fresh client per run: each run starts from a full block pool, as a new process would.
    htevents::Config config;
    config.endpoint = collector.endpoint();
    htevents::Client client("bench-write-key", config);
    warm_up(client);
    std::uint64_t const warm_delivered = client.stats().delivered;
    std::vector<Outcome> outcomes(threads);
    // The clock starts before the release and stops at the last thread's own finish time: on 2
    // cores this thread may be descheduled for the whole run.
    std::latch ready(threads), go(1), finished(threads), leave(1);
    std::vector<std::thread> pool;
    pool.reserve(threads);
    for (unsigned t = 0; t < threads; ++t) {
      pool.emplace_back([&, t] {
        ready.count_down();
        go.wait();
        Outcome& o = outcomes[t];
        double const cpu0 = thread_cpu_seconds();
        std::uint64_t i = std::uint64_t{t} << 32;  // distinct user ids per thread
        for (std::uint64_t k = 0; k < per_thread; ++k) {
          switch (htevents::load::send_w1_fast(client, i++)) {
            case Status::ok: ++o.ok; break;
            case Status::queue_full: ++o.queue_full; break;
            default: ++o.other; break;
          }
        }
        o.cpu_seconds = thread_cpu_seconds() - cpu0;
        o.done = std::chrono::steady_clock::now();
        finished.count_down();
        leave.wait();  // stay alive (and keep the arena block) until every thread is done
      });
    }
    ready.wait();
    auto const t0 = std::chrono::steady_clock::now();
    go.count_down();
    finished.wait();
    auto t1 = t0;
    for (Outcome const& o : outcomes) t1 = std::max(t1, o.done);
    double const wall = std::chrono::duration<double>(t1 - t0).count();
    state.SetIterationTime(wall);
    wall_seconds += wall;
    leave.count_down();
    for (auto& thread : pool) thread.join();
    client.close(std::chrono::seconds(60));  // not timed: the calls are
    htevents::Stats const stats = client.stats();
    delivered += stats.delivered - warm_delivered;
    failed += stats.failed;
    for (Outcome const& o : outcomes) {
      sum.ok += o.ok;
      sum.queue_full += o.queue_full;
      sum.other += o.other;
      sum.cpu_seconds += o.cpu_seconds;
      if (o.ok == 0) ++starved;
    }
  }
  double const calls = static_cast<double>(sum.ok + sum.queue_full + sum.other);
  state.SetItemsProcessed(static_cast<std::int64_t>(calls));
  using benchmark::Counter;
  state.counters["wall_ns_per_call"] = wall_seconds * 1e9 / calls;
  state.counters["cpu_ns_per_call"] = sum.cpu_seconds * 1e9 / calls;
  state.counters["ok"] = Counter(static_cast<double>(sum.ok), Counter::kAvgIterations);
  state.counters["queue_full"] = Counter(static_cast<double>(sum.queue_full), Counter::kAvgIterations);
  state.counters["other"] = Counter(static_cast<double>(sum.other), Counter::kAvgIterations);
  state.counters["delivered"] = Counter(static_cast<double>(delivered), Counter::kAvgIterations);
  state.counters["threads_no_ok"] = Counter(static_cast<double>(starved), Counter::kAvgIterations);
  state.counters["failed"] = Counter(static_cast<double>(failed), Counter::kAvgIterations);
}

}  // namespace

BENCHMARK(BM_Enqueue_ThreadCount)
    ->ArgName("threads")
    ->Arg(1)
    ->Arg(8)
    ->Arg(64)
    ->Arg(1000)
    ->Arg(4000)
    ->Iterations(1)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);
