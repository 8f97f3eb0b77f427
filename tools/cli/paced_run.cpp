// The paced run of paced_run.hpp. What it charges to the client, over a fixed window:
// - the pipeline threads (serializer "htev-serialize", sender "htev-send", any other thread the
//   client started), from their kernel CPU clocks;
// - the time this thread spends inside the enqueue calls (two ticks() reads around each call; at
//   a trickle a call is almost never preempted, so its wall time is its CPU time).
// The rest of this thread is the pacing loop (sleeping until the next event is due): a caller's
// cost, reported but not charged. The collector is a child process (see LocalCollector), so its
// CPU is not in this process at all.
#include "cli/paced_run.hpp"

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "cli/local_collector.hpp"
#include "cli/thread_cpu.hpp"
#include "cli/ticks.hpp"
#include "htevents/htevents.hpp"
#include "load/w1.hpp"

namespace htevents::cli {
namespace {

// Issue 8, edge 10: the Go SDK's whole process at 10 events/s, and the targets for this client.
constexpr double go_sdk_percent_at_10 = 0.4;
constexpr double target_percent_trickle = 0.5;  // at 10, 100 and 1,000 events/s
constexpr double target_percent_idle = 0.2;

// nullopt: no target at this rate (10,000/s is measured, not targeted).
std::optional<double> target_percent(std::uint64_t rate) {
  if (rate == 0) return target_percent_idle;
  if (rate <= 1000) return target_percent_trickle;
  return std::nullopt;
}

// Let the new client's threads start and curl initialise before the window opens: start-up is a
// one-off cost, not the steady cost per second asked for.
constexpr auto settle = std::chrono::milliseconds(300);

// CPU and wake-ups of one kind of thread over the window.
struct Usage {
  double cpu_seconds = 0;
  std::uint64_t voluntary = 0;
  std::uint64_t involuntary = 0;
};

struct Window {
  double seconds = 0;
  Usage serializer, sender, other, pacer;  // other: client threads besides the two named ones
  double enqueue_seconds = 0;
  double process_cpu_seconds = 0;  // getrusage(RUSAGE_SELF): a cross-check of the per-thread sum
};

// Each thread's use between two samples, added to its kind. A thread absent from `before` started
// in the window and counts from zero; one absent from `after` exited and is lost (the getrusage
// total still has it).
void charge(Window& w, std::vector<ThreadSample> const& before, std::vector<ThreadSample> const& after, long pacer,
            std::vector<long> const& collector_threads) {
  std::map<long, ThreadSample const*> start;
  for (ThreadSample const& s : before) start[s.tid] = &s;
  for (ThreadSample const& s : after) {
    if (std::find(collector_threads.begin(), collector_threads.end(), s.tid) != collector_threads.end()) continue;
    ThreadSample const zero{};
    ThreadSample const& b = start.count(s.tid) ? *start[s.tid] : zero;
    Usage& u = s.tid == pacer                 ? w.pacer
               : s.name == "htev-serialize" ? w.serializer
               : s.name == "htev-send"      ? w.sender
                                            : w.other;
    u.cpu_seconds += s.cpu_seconds - b.cpu_seconds;
    u.voluntary += s.voluntary - b.voluntary;
    u.involuntary += s.involuntary - b.involuntary;
  }
}

}  // namespace

int paced_run(PacedOptions const& o) {
  LocalCollector local(false);
  Config config;  // the default Config: only where to send, and how to compress if asked
  config.endpoint = local.endpoint();
  config.compression = o.compression;
  auto client = std::make_unique<Client>("paced-write-key", config);
  std::this_thread::sleep_for(settle);

  auto const duration = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::duration<double>(o.duration_seconds));
  std::uint64_t const events = static_cast<std::uint64_t>(std::llround(static_cast<double>(o.rate) * o.duration_seconds));
  long const pacer = this_thread_id();
  std::uint64_t enqueue_ticks = 0;
  std::uint64_t enqueue_max_ticks = 0;  // the first call also registers this thread's producer
  std::uint64_t not_ok = 0;

  auto const threads_before = sample_threads();
  rusage process_before{};
  ::getrusage(RUSAGE_SELF, &process_before);
  auto const start = std::chrono::steady_clock::now();
  std::uint64_t const start_ticks = ticks();
  for (std::uint64_t i = 0; i < events; ++i) {
    // Absolute due times: a late wake-up is caught up by the next ones, so the rate holds.
    std::this_thread::sleep_until(start + std::chrono::nanoseconds(i * 1'000'000'000 / o.rate));
    std::uint64_t const t0 = ticks();
    Status const status = load::send_w1_fast(*client, i);
    std::uint64_t const took = ticks() - t0;
    enqueue_ticks += took;
    enqueue_max_ticks = std::max(enqueue_max_ticks, took);
    if (status != Status::ok) ++not_ok;
  }
  std::this_thread::sleep_until(start + duration);  // the last event is due one period before the end
  auto const end = std::chrono::steady_clock::now();
  std::uint64_t const end_ticks = ticks();
  auto const threads_after = sample_threads();
  rusage process_after{};
  ::getrusage(RUSAGE_SELF, &process_after);

  Window w;
  w.seconds = std::chrono::duration<double>(end - start).count();
  double const ns_per_tick = std::chrono::duration<double, std::nano>(end - start).count() /
                             static_cast<double>(std::max<std::uint64_t>(end_ticks - start_ticks, 1));
  w.enqueue_seconds = static_cast<double>(enqueue_ticks) * ns_per_tick / 1e9;
  charge(w, threads_before, threads_after, pacer, local.in_process_threads());
  w.process_cpu_seconds = cpu_seconds(process_after) - cpu_seconds(process_before);

  // Deliver what is still open and check every event arrived once.
  bool const close_ok = client->close(std::chrono::seconds(30));
  Stats const stats = client->stats();
  std::optional<std::uint64_t> const unique = local.unique_ids();
  bool const verified = close_ok && not_ok == 0 && stats.failed == 0 && stats.delivered == events && unique &&
                        *unique == events;

  auto const pct = [&](double seconds) { return 100.0 * seconds / w.seconds; };
  auto const per_s = [&](std::uint64_t n) { return static_cast<double>(n) / w.seconds; };
  double const pipeline = w.serializer.cpu_seconds + w.sender.cpu_seconds + w.other.cpu_seconds;
  double const client_percent = pct(pipeline + w.enqueue_seconds);
  std::optional<double> const target = target_percent(o.rate);
  double const enqueue_max_ns = static_cast<double>(enqueue_max_ticks) * ns_per_tick;
  double const enqueue_ns_per_call = events == 0 ? 0 : w.enqueue_seconds * 1e9 / static_cast<double>(events);
  char const* const verdict = !target ? "no target" : client_percent <= *target ? "met" : "missed";

  if (o.json) {
    std::printf(
        "{\"rate\":%" PRIu64 ",\"seconds\":%.3f,\"events\":%" PRIu64 ",\"client_cpu_percent\":%.4f,"
        "\"cpu_percent\":{\"serializer\":%.4f,\"sender\":%.4f,\"other\":%.4f,\"enqueue\":%.4f,\"pacing_loop\":%.4f,"
        "\"process\":%.4f},\"enqueue_ns_per_call\":%.0f,\"enqueue_max_ns\":%.0f,\"wakeups_per_second\":{\"serializer\":%.1f,\"sender\":%.1f,\"other\":%.1f},"
        "\"preemptions_per_second\":{\"serializer\":%.1f,\"sender\":%.1f},\"target_percent\":%s,"
        "\"go_sdk_percent_at_10\":%.1f,\"verdict\":\"%s\",\"delivered\":%" PRIu64 ",\"requests\":%" PRIu64
        ",\"not_ok\":%" PRIu64 ",\"failed\":%" PRIu64 ",\"collector_unique\":%s,\"collector_in_process\":%s,"
        "\"close_ok\":%s,\"verified\":%s}\n",
        o.rate, w.seconds, events, client_percent, pct(w.serializer.cpu_seconds), pct(w.sender.cpu_seconds),
        pct(w.other.cpu_seconds), pct(w.enqueue_seconds), pct(w.pacer.cpu_seconds - w.enqueue_seconds),
        pct(w.process_cpu_seconds), enqueue_ns_per_call, enqueue_max_ns, per_s(w.serializer.voluntary), per_s(w.sender.voluntary),
        per_s(w.other.voluntary), per_s(w.serializer.involuntary), per_s(w.sender.involuntary),
        target ? std::to_string(*target).c_str() : "null", go_sdk_percent_at_10, verdict, stats.delivered,
        stats.requests, not_ok, stats.failed, unique ? std::to_string(*unique).c_str() : "null",
        local.in_process() ? "true" : "false", close_ok ? "true" : "false", verified ? "true" : "false");
    return verified ? 0 : 1;
  }

  if (o.rate == 0) std::printf("htevents-cpp load --rate 0: an idle client (nothing queued) for %.1f s\n", w.seconds);
  else std::printf("htevents-cpp load --rate %" PRIu64 ": %" PRIu64 " W1 events at %" PRIu64 "/s for %.1f s\n", o.rate, events, o.rate, w.seconds);
  std::printf("endpoint: %s, local collector, %s\n\n", local.endpoint().c_str(), local.description().c_str());
  std::printf("  Client CPU   %.3f%% of a core beyond the pacing loop (serializer + sender + other client threads + enqueue calls)\n",
              client_percent);
  std::printf("               serializer %.3f%%, sender %.3f%%, other %.3f%%, enqueue %.3f%% (%.0f ns per call, at most %.0f ns)\n",
              pct(w.serializer.cpu_seconds), pct(w.sender.cpu_seconds), pct(w.other.cpu_seconds), pct(w.enqueue_seconds),
              enqueue_ns_per_call, enqueue_max_ns);
  std::printf("               not charged: the pacing loop %.3f%%; whole process (getrusage) %.3f%%\n",
              pct(w.pacer.cpu_seconds - w.enqueue_seconds), pct(w.process_cpu_seconds));
  std::printf("  Wake-ups     serializer %.1f/s, sender %.1f/s, other %.1f/s (voluntary context switches)\n",
              per_s(w.serializer.voluntary), per_s(w.sender.voluntary), per_s(w.other.voluntary));
  if (target) std::printf("  Target       <= %.1f%% of a core at this rate: %s\n", *target, verdict);
  else std::printf("  Target       none at this rate (issue 8 targets 10, 100 and 1,000/s, and idle)\n");
  std::printf("  Reference    the Go SDK's whole process: %.1f%% of a core at 10 events/s\n", go_sdk_percent_at_10);
  std::printf("  Events       sent %" PRIu64 " (not ok %" PRIu64 "), delivered %" PRIu64 " in %" PRIu64 " requests, failed %" PRIu64 "\n\n",
              events, not_ok, stats.delivered, stats.requests, stats.failed);
  if (verified) std::printf("OK: the collector counted %" PRIu64 " unique messageIds for %" PRIu64 " sent\n", *unique, events);
  else std::printf("FAILED: the collector counted %s unique messageIds for %" PRIu64 " sent, %" PRIu64 " delivered, close %s\n",
                   unique ? std::to_string(*unique).c_str() : "?", events, stats.delivered, close_ok ? "ok" : "not ok");
  return verified ? 0 : 1;
}

}  // namespace htevents::cli
