// What one timed wake-up of a sleeping thread costs on this machine: the floor under any
// pipeline thread that naps (issue 8, edge 10). A thread that only waits on a condition variable
// with a timeout, nothing else; CPU is that thread's own clock, so CPU per iteration is CPU per
// wake-up (kernel timer and scheduler work included), Time is the wall time of one nap.
// On a KVM guest a wake-up costs tens of microseconds, far more than on bare metal: read the
// paced table (docs/benchmarks.md) against this row, not against a laptop.
#include <benchmark/benchmark.h>

#include <chrono>
#include <condition_variable>
#include <mutex>

namespace {

void BM_Baseline_TimedWakeup(benchmark::State& state) {
  auto const nap = std::chrono::microseconds(state.range(0));
  std::mutex mutex;
  std::condition_variable never_signalled;
  for (auto _ : state) {
    std::unique_lock lock(mutex);
    never_signalled.wait_for(lock, nap);
  }
}

}  // namespace

// The serializer's nap while a batch is open (1 ms) and its idle wait (20 ms) at this commit.
BENCHMARK(BM_Baseline_TimedWakeup)->ArgName("nap_us")->Arg(1000)->Iterations(1000)->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Baseline_TimedWakeup)->ArgName("nap_us")->Arg(20000)->Iterations(100)->UseRealTime()->Unit(benchmark::kMicrosecond);
