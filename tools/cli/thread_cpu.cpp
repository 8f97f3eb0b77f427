// Per-thread CPU from the kernel's thread CPU clocks rather than /proc/<tid>/stat: stat counts
// in clock ticks (10 ms), too coarse for a thread that uses 0.2% of a core over 10 s (20 ms).
// Linux only (/proc/self/task and the Linux clock-id ABI): elsewhere no thread is listed, so the
// per-thread breakdown of `load` reads zero; the whole-process figures (getrusage) remain.
#include "cli/thread_cpu.hpp"

#include <time.h>
#include <unistd.h>
#if defined(__linux__)
#include <dirent.h>
#endif

#include <cstdlib>
#include <fstream>
#include <string>

namespace htevents::cli {
namespace {

#if defined(__linux__)
// The clock id glibc's pthread_getcpuclockid builds for a kernel thread id (Linux ABI:
// CPUCLOCK_PERTHREAD_MASK | CPUCLOCK_SCHED in the low bits, ~tid above). We only know the
// library's threads by tid, not by pthread_t.
clockid_t thread_cpu_clock(long tid) { return static_cast<clockid_t>((~static_cast<unsigned long>(tid) << 3) | 6u); }

template <class Visit>
void for_each_tid(Visit visit) {
  if (DIR* dir = ::opendir("/proc/self/task")) {
    while (dirent* entry = ::readdir(dir)) {
      if (entry->d_name[0] != '.') visit(std::strtol(entry->d_name, nullptr, 10));
    }
    ::closedir(dir);
  }
}

std::string task_file(long tid, char const* file) { return "/proc/self/task/" + std::to_string(tid) + "/" + file; }

std::string thread_name(long tid) {
  std::ifstream comm(task_file(tid, "comm"));
  std::string name;
  std::getline(comm, name);
  return name;
}
#else
template <class Visit>
void for_each_tid(Visit) {}
std::string thread_name(long) { return {}; }
#endif

}  // namespace

double cpu_seconds(rusage const& usage) {
  auto const s = [](timeval t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
  return s(usage.ru_utime) + s(usage.ru_stime);
}

std::optional<double> thread_cpu_seconds(long tid) {
#if defined(__linux__)
  timespec ts{};
  if (::clock_gettime(thread_cpu_clock(tid), &ts) != 0) return std::nullopt;
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
#else
  (void)tid;
  return std::nullopt;
#endif
}

double this_thread_cpu_seconds() {
  timespec ts{};
  if (::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0) return 0;
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

long this_thread_id() {
#if defined(__linux__)
  return static_cast<long>(::gettid());
#else
  return 0;
#endif
}

std::set<long> thread_ids() {
  std::set<long> ids;
  for_each_tid([&](long tid) { ids.insert(tid); });
  return ids;
}

std::vector<ThreadSample> sample_threads() {
  std::vector<ThreadSample> samples;
  for_each_tid([&](long tid) {
    ThreadSample s;
    s.tid = tid;
    s.name = thread_name(tid);
    std::optional<double> const cpu = thread_cpu_seconds(tid);
    if (!cpu) return;  // exited meanwhile
    s.cpu_seconds = *cpu;
    std::ifstream status(task_file(tid, "status"));
    std::string key;
    while (status >> key) {
      if (key == "voluntary_ctxt_switches:") status >> s.voluntary;
      else if (key == "nonvoluntary_ctxt_switches:") status >> s.involuntary;
    }
    samples.push_back(std::move(s));
  });
  return samples;
}

double named_threads_cpu_seconds(std::string_view name) {
  double total = 0;
  for_each_tid([&](long tid) {
    if (thread_name(tid) == name) total += thread_cpu_seconds(tid).value_or(0);
  });
  return total;
}

}  // namespace htevents::cli
