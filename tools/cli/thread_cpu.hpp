#pragma once
// CPU time and wake-ups of this process's threads, read from outside them (/proc/self/task and
// the kernel's per-thread CPU clocks): how the load and paced runs charge CPU to the client's
// serializer and sender without any hook in the library. Linux only: elsewhere no thread is
// listed (thread_cpu.cpp).

#include <sys/resource.h>

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace htevents::cli {

/// One thread of this process at one moment.
struct ThreadSample {
  long tid = 0;
  std::string name;              ///< /proc comm, e.g. "htev-serialize"
  double cpu_seconds = 0;        ///< user + system, ns resolution
  std::uint64_t voluntary = 0;   ///< context switches because it slept (one per wake-up)
  std::uint64_t involuntary = 0; ///< preemptions
};

/// User + system seconds of a getrusage result.
double cpu_seconds(rusage const& usage);

/// CPU seconds of one thread of this process; nullopt once it has exited.
std::optional<double> thread_cpu_seconds(long tid);

/// CPU seconds (user + system) of the calling thread (POSIX CLOCK_THREAD_CPUTIME_ID).
double this_thread_cpu_seconds();

/// The calling thread's kernel id, as in ThreadSample::tid (0 where there is none: not Linux).
long this_thread_id();

/// The ids of this process's live threads.
std::set<long> thread_ids();

/// Every live thread of this process (threads that exit while it reads are left out).
std::vector<ThreadSample> sample_threads();

/// CPU seconds of the live threads named `name` (e.g. the client's "htev-serialize").
double named_threads_cpu_seconds(std::string_view name);

}  // namespace htevents::cli
