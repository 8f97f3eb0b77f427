// `htevents-cpp load`: the end-to-end measurement of docs/benchmarks.md. Sends N W1 track events
// from T threads to a local collector, closes the client, and reports throughput, CPU, memory,
// wire bytes and per-call enqueue latency, verified against the collector's unique count.
// Options: load_options.*, latency histogram: latency_histogram.hpp, local collector:
// local_collector.*, CPU sampling: thread_cpu.*, paced mode: paced_run.*.
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cinttypes>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "cli/commands.hpp"
#include "cli/latency_histogram.hpp"
#include "cli/load_options.hpp"
#include "cli/local_collector.hpp"
#include "cli/paced_run.hpp"
#include "cli/thread_cpu.hpp"
#include "cli/ticks.hpp"
#include "common/flags.hpp"
#include "common/thread_name.hpp"
#include "htevents/htevents.hpp"
#include "load/w1.hpp"

namespace htevents::cli {
namespace {

using flags::UsageError;

// --- W1 -----------------------------------------------------------------------------------------

using load::send_w1_fast;
using load::W1Refill;
using load::W1Sequence;
using load::w1_event;

// --- the run ------------------------------------------------------------------------------------

std::string_view compression_name(Compression c) {
  switch (c) {
    case Compression::zstd: return "zstd";
    case Compression::gzip: return "gzip";
    case Compression::none: return "none";
  }
  return "?";
}

// 1234567 -> "1,234,567".
std::string grouped(std::uint64_t v) {
  char digits[24];
  auto const n = static_cast<std::size_t>(std::to_chars(digits, digits + sizeof digits, v).ptr - digits);
  char out[32];
  std::size_t len = 0;
  for (std::size_t k = 0; k < n; ++k) {
    if (k != 0 && (n - k) % 3 == 0) out[len++] = ',';
    out[len++] = digits[k];
  }
  return std::string(out, len);
}

std::string duration_ns(std::uint64_t ns) {
  char text[32];
  if (ns < 10'000) std::snprintf(text, sizeof text, "%" PRIu64 " ns", ns);
  else if (ns < 10'000'000) std::snprintf(text, sizeof text, "%.1f us", static_cast<double>(ns) / 1e3);
  else std::snprintf(text, sizeof text, "%.1f ms", static_cast<double>(ns) / 1e6);
  return text;
}

struct Result {
  double seconds = 0;
  double events_per_second = 0;
  double enqueue_seconds = 0;  // first enqueue to the producers' last returning: the accept rate
  double client_cpu_seconds = 0;
  double client_cpu_per_million = 0;
  double collector_cpu_subtracted = 0;
  double producer_cpu_seconds = 0;          // the sending threads, including this tool's timing
  double serializer_cpu_before_close = 0;   // most of the serializer's and sender's CPU: what
  double sender_cpu_before_close = 0;       // they had used when the producers finished
  std::uint64_t peak_rss_bytes = 0;
  std::uint64_t rss_budget_bytes = 0;
  Stats stats{};
  std::uint64_t not_ok = 0;
  std::optional<std::uint64_t> collector_unique;
  Histogram latency{};  // in ticks (ticks.hpp)
  double ns_per_tick = 1;
  bool close_ok = false;
  bool verified = false;
  // --spool and --refuse-for: sampled every 20 ms by a thread of their own.
  std::uint64_t peak_spooled_events = 0;
  std::uint64_t peak_spooled_bytes = 0;
  std::uint64_t peak_queued_events = 0;
  bool outage_sampled = false;             // the outage's end was sampled before close returned
  std::uint64_t enqueued_at_outage_end = 0;
  std::uint64_t delivered_at_outage_end = 0;
  std::uint64_t spooled_at_outage_end = 0;
  std::optional<std::uint64_t> outage_refusals;
};

// Peaks of the spool and queue gauges and the state when the outage ended, from stats() every
// 20 ms (a short lock each time; only with --spool or --refuse-for, so the plain benchmark is
// unchanged).
class Sampler {
 public:
  Sampler(Client const& client, Result& result, std::chrono::steady_clock::time_point outage_end)
      : client_(client), result_(result), outage_end_(outage_end) {
    thread_ = std::thread([this] { run(); });
  }
  ~Sampler() { stop(); }
  /// Takes a last sample and joins the thread.
  void stop() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

 private:
  void run() {
    detail::set_this_thread_name("htev-load-smpl");
    std::unique_lock lock(mutex_);
    for (;;) {
      lock.unlock();
      sample();
      lock.lock();
      if (stopping_) return;
      wake_.wait_for(lock, std::chrono::milliseconds(20), [this] { return stopping_; });  // woken by stop()
    }
  }
  void sample() {
    Stats const s = client_.stats();
    result_.peak_spooled_events = std::max(result_.peak_spooled_events, s.spooled_events);
    result_.peak_spooled_bytes = std::max(result_.peak_spooled_bytes, s.spooled_bytes);
    result_.peak_queued_events = std::max(result_.peak_queued_events, s.queued_events);
    if (!result_.outage_sampled && std::chrono::steady_clock::now() >= outage_end_) {
      result_.outage_sampled = true;
      result_.enqueued_at_outage_end = s.enqueued;
      result_.delivered_at_outage_end = s.delivered;
      result_.spooled_at_outage_end = s.spooled_events;
    }
  }

  Client const& client_;
  Result& result_;
  std::chrono::steady_clock::time_point outage_end_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;  // under mutex_ (std::jthread would do: libc++ 14 lacks it)
  std::thread thread_;     // last: started after the members it uses
};

int run(LoadOptions const& o) {
  std::unique_ptr<LocalCollector> local;
  std::string endpoint = o.endpoint;
  std::string where = "the given endpoint (not verified)";
  auto const refuse_for = std::chrono::milliseconds(static_cast<std::int64_t>(o.refuse_for * 1000 + 0.5));
  auto const outage_end = std::chrono::steady_clock::now() + refuse_for;  // the collector starts now
  if (endpoint.empty()) {
    // Room for every id from the start: a collector that grows its id set mid-run stops
    // answering for tens of milliseconds, and producers wait that out as a full queue.
    local = std::make_unique<LocalCollector>(o.stall, refuse_for, o.events);
    endpoint = local->endpoint();
    where = "local collector, " + local->description();
  }

  Config config;
  config.endpoint = endpoint;
  config.compression = o.compression;
  config.max_queue_bytes = o.max_queue_mb << 20;
  // The default policy (block, at most enqueue_timeout) for a delivery run: producers faster
  // than the endpoint wait rather than lose events. A stalled endpoint can only fill the queue,
  // so there new events are dropped at once.
  config.backpressure = o.stall ? Backpressure::drop_newest : Backpressure::block;
  config.tls_verify = !endpoint.starts_with("http://");
  if (o.stall) config.logger = [](LogLevel, std::string_view) {};  // 503s are the point here
  config.spool_dir = o.spool_dir;
  config.spool_sync_interval = std::chrono::milliseconds(o.spool_sync_ms);
  if (refuse_for.count() > 0) {
    // Ride the outage out rather than give up: producers wait for room while memory is full
    // (without a spool), retries outlast the outage and resume within a second of its end.
    config.enqueue_timeout = refuse_for + std::chrono::seconds(10);
    config.max_attempts = 1000;
    config.retry_max = std::chrono::milliseconds(1000);
  }
  bool const sampled = refuse_for.count() > 0 || !o.spool_dir.empty();

  auto result = std::make_unique<Result>();
  rusage before{};
  ::getrusage(RUSAGE_SELF, &before);
  auto client = std::make_unique<Client>("load-write-key", config);
  std::optional<Sampler> sampler;
  if (sampled) sampler.emplace(*client, *result, outage_end);

  std::vector<std::unique_ptr<Histogram>> histograms;
  std::vector<std::uint64_t> not_ok(o.threads, 0);
  std::vector<double> producer_cpu(o.threads, 0.0);
  for (unsigned t = 0; t < o.threads; ++t) histograms.push_back(std::make_unique<Histogram>());
  std::atomic<bool> go{false};
  std::atomic<unsigned> ready{0};
  std::vector<std::thread> threads;
  for (unsigned t = 0; t < o.threads; ++t) {
    threads.emplace_back([&, t] {
      detail::set_this_thread_name("htev-load");
      std::uint64_t const first = o.events * t / o.threads;
      std::uint64_t const last = o.events * (t + 1) / o.threads;
      Histogram& h = *histograms[t];
      std::uint64_t failures = 0;
      // W1's ids are stepped from one event to the next, not formatted each time (W1Sequence):
      // the instruction counts (tools/instructions.sh) are of the SDK, not of to_chars.
      W1Sequence sequence(first);
      // The struct API's event is one Track per thread refilled in place (W1Refill),
      // for the same reason: the counts are of enqueue, not of building strings.
      Track event = w1_event(first);
      W1Refill refill(event);
      ready.fetch_add(1);
      while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
      for (std::uint64_t i = first; i < last; ++i) {
        Status status;
        // Timed in ticks (ticks.hpp; converted to ns after the run): two clock_gettime calls per
        // event would cost more than a third of the call being measured.
        if (o.struct_api) {
          refill(sequence.ids());  // building the struct is not the timed call
          std::uint64_t const t0 = ticks();
          status = client->enqueue(event);
          h.record(ticks() - t0);
          sequence.advance();
        } else {
          std::uint64_t const t0 = ticks();
          status = send_w1_fast(*client, sequence.ids());
          h.record(ticks() - t0);
          sequence.advance();
        }
        if (status != Status::ok) ++failures;
      }
      not_ok[t] = failures;
      producer_cpu[t] = this_thread_cpu_seconds();
    });
  }
  while (ready.load() != o.threads) std::this_thread::yield();
  auto const start = std::chrono::steady_clock::now();
  std::uint64_t const start_ticks = ticks();
  go.store(true, std::memory_order_release);
  for (auto& thread : threads) thread.join();
  auto const producers_done = std::chrono::steady_clock::now();
  // The pipeline threads' CPU so far (they end inside close(), taking their counters along).
  result->serializer_cpu_before_close = named_threads_cpu_seconds("htev-serialize");
  result->sender_cpu_before_close = named_threads_cpu_seconds("htev-send");
  // A stalled endpoint never drains: give close() a short deadline (what is left goes to
  // on_failure); otherwise wait for everything.
  auto const close_timeout = o.stall ? std::chrono::milliseconds(2000)
                                     : std::chrono::milliseconds(std::chrono::seconds(120)) + refuse_for;
  result->close_ok = client->close(close_timeout);
  if (sampler) sampler->stop();
  auto const end = std::chrono::steady_clock::now();
  std::uint64_t const end_ticks = ticks();
  rusage after{};
  ::getrusage(RUSAGE_SELF, &after);

  Result& r = *result;
  r.stats = client->stats();
  r.seconds = std::chrono::duration<double>(end - start).count();
  r.events_per_second = static_cast<double>(r.stats.delivered) / r.seconds;
  r.enqueue_seconds = std::chrono::duration<double>(producers_done - start).count();
  if (local && local->in_process()) r.collector_cpu_subtracted = local->in_process_cpu_seconds();
  r.client_cpu_seconds = cpu_seconds(after) - cpu_seconds(before) - r.collector_cpu_subtracted;
  r.client_cpu_per_million = r.client_cpu_seconds / (static_cast<double>(o.events) / 1e6);
  r.peak_rss_bytes = static_cast<std::uint64_t>(after.ru_maxrss) * 1024;
  r.rss_budget_bytes = config.max_queue_bytes + (std::uint64_t{32} << 20);
  r.ns_per_tick = std::chrono::duration<double, std::nano>(end - start).count() /
                  static_cast<double>(std::max<std::uint64_t>(end_ticks - start_ticks, 1));
  for (unsigned t = 0; t < o.threads; ++t) {
    r.producer_cpu_seconds += producer_cpu[t];
    r.latency.merge(*histograms[t]);
    r.not_ok += not_ok[t];
  }
  if (local) r.collector_unique = local->unique_ids();
  if (local && refuse_for.count() > 0) r.outage_refusals = local->counter("outage_refusals");
  if (o.stall) {
    r.verified = r.peak_rss_bytes <= r.rss_budget_bytes;
  } else {
    r.verified = r.stats.failed == 0 && r.not_ok == 0 && r.collector_unique.has_value() &&
                 *r.collector_unique == r.stats.delivered;
    if (!local) r.verified = r.stats.failed == 0 && r.not_ok == 0;
  }

  double const wire_per_event =
      r.stats.delivered == 0 ? 0 : static_cast<double>(r.stats.bytes_sent) / static_cast<double>(r.stats.delivered);
  double const body_per_event = r.stats.delivered == 0 ? 0
                                                       : static_cast<double>(r.stats.bytes_uncompressed) /
                                                             static_cast<double>(r.stats.delivered);
  double const ratio = r.stats.bytes_sent == 0 ? 0
                                               : static_cast<double>(r.stats.bytes_uncompressed) /
                                                     static_cast<double>(r.stats.bytes_sent);
  auto const ns = [&](std::uint64_t ticks) { return static_cast<std::uint64_t>(static_cast<double>(ticks) * r.ns_per_tick); };
  std::uint64_t const p50 = ns(r.latency.quantile(0.5)), p99 = ns(r.latency.quantile(0.99)),
                      p999 = ns(r.latency.quantile(0.999)), max = ns(r.latency.max());

  if (o.json) {
    std::printf(
        "{\"events\":%" PRIu64 ",\"threads\":%u,\"backpressure\":\"%s\",\"api\":\"%s\",\"compression\":\"%s\",\"stall\":%s,"
        "\"endpoint\":\"%s\",\"seconds\":%.6f,\"events_per_second\":%.0f,\"enqueue_seconds\":%.6f,"
        "\"accepted_per_second\":%.0f,\"client_cpu_seconds\":%.4f,"
        "\"client_cpu_seconds_per_million\":%.4f,\"collector_cpu_subtracted\":%.4f,"
        "\"cpu_by_thread\":{\"producers\":%.3f,\"serializer\":%.3f,\"sender\":%.3f},\"peak_rss_bytes\":%" PRIu64
        ",\"rss_budget_bytes\":%" PRIu64 ",\"max_queue_bytes\":%zu,\"wire_bytes_per_event\":%.2f,"
        "\"body_bytes_per_event\":%.2f,\"compression_ratio\":%.3f,"
        "\"enqueue_latency_ns\":{\"p50\":%" PRIu64 ",\"p99\":%" PRIu64 ",\"p999\":%" PRIu64 ",\"max\":%" PRIu64 "},"
        "\"enqueued\":%" PRIu64 ",\"delivered\":%" PRIu64 ",\"rejected\":%" PRIu64 ",\"dropped\":%" PRIu64
        ",\"failed\":%" PRIu64 ",\"not_ok\":%" PRIu64 ",\"bytes_uncompressed\":%" PRIu64 ",\"bytes_sent\":%" PRIu64
        ",\"requests\":%" PRIu64 ",\"retries\":%" PRIu64 ",\"collector_unique\":%s,\"close_ok\":%s,\"verified\":%s",
        o.events, o.threads, o.stall ? "drop_newest" : "block", o.struct_api ? "struct" : "fast", std::string(compression_name(o.compression)).c_str(),
        o.stall ? "true" : "false", endpoint.c_str(), r.seconds, r.events_per_second, r.enqueue_seconds,
        static_cast<double>(r.stats.enqueued) / r.enqueue_seconds, r.client_cpu_seconds,
        r.client_cpu_per_million, r.collector_cpu_subtracted, r.producer_cpu_seconds,
        r.serializer_cpu_before_close, r.sender_cpu_before_close, r.peak_rss_bytes, r.rss_budget_bytes,
        config.max_queue_bytes, wire_per_event, body_per_event, ratio, p50, p99, p999, max, r.stats.enqueued,
        r.stats.delivered, r.stats.rejected, r.stats.dropped, r.stats.failed, r.not_ok, r.stats.bytes_uncompressed,
        r.stats.bytes_sent, r.stats.requests, r.stats.retries,
        r.collector_unique ? std::to_string(*r.collector_unique).c_str() : "null", r.close_ok ? "true" : "false",
        r.verified ? "true" : "false");
    if (!o.spool_dir.empty()) {
      std::printf(",\"spool\":{\"recovered\":%" PRIu64 ",\"peak_spooled_events\":%" PRIu64
                  ",\"peak_spooled_bytes\":%" PRIu64 ",\"spooled_events\":%" PRIu64 ",\"spool_errors\":%" PRIu64
                  ",\"spool_corrupt\":%" PRIu64 ",\"spool_overflows\":%" PRIu64 "}",
                  r.stats.recovered, r.peak_spooled_events, r.peak_spooled_bytes, r.stats.spooled_events,
                  r.stats.spool_errors, r.stats.spool_corrupt, r.stats.spool_overflows);
    }
    if (refuse_for.count() > 0) {
      std::printf(",\"outage\":{\"refuse_for_seconds\":%.3f,\"outage_refusals\":%s,\"sampled\":%s,"
                  "\"enqueued_at_end\":%" PRIu64 ",\"delivered_at_end\":%" PRIu64 ",\"spooled_at_end\":%" PRIu64
                  ",\"peak_queued_events\":%" PRIu64 "}",
                  o.refuse_for, r.outage_refusals ? std::to_string(*r.outage_refusals).c_str() : "null",
                  r.outage_sampled ? "true" : "false", r.enqueued_at_outage_end, r.delivered_at_outage_end,
                  r.spooled_at_outage_end, r.peak_queued_events);
    }
    std::printf("}\n");
    return r.verified ? 0 : 1;
  }

  auto const mib = [](std::uint64_t b) { return static_cast<double>(b) / 1048576.0; };
  std::printf("htevents-cpp load: %s W1 track events from %u threads, %s API, %s compression%s\n",
              grouped(o.events).c_str(), o.threads, o.struct_api ? "struct" : "fast-path",
              std::string(compression_name(o.compression)).c_str(),
              o.stall ? ", STALLED endpoint (every batch answered 503)" : "");
  std::printf("endpoint: %s, %s\n\n", endpoint.c_str(), where.c_str());
  std::printf("  Throughput   %s events delivered in %.3f s = %s events/s (first enqueue to close() returning)\n",
              grouped(r.stats.delivered).c_str(), r.seconds,
              grouped(static_cast<std::uint64_t>(r.events_per_second)).c_str());
  std::printf("  Accepted     %s events in %.3f s = %s events/s (first enqueue to the last one returning)\n",
              grouped(r.stats.enqueued).c_str(), r.enqueue_seconds,
              grouped(static_cast<std::uint64_t>(static_cast<double>(r.stats.enqueued) / r.enqueue_seconds)).c_str());
  std::printf("  Client CPU   %.3f s in total, %.3f s per million events%s\n", r.client_cpu_seconds,
              r.client_cpu_per_million,
              r.collector_cpu_subtracted > 0 ? " (in-process collector's CPU subtracted)" : "");
  std::printf("               by thread: producers %.3f s, serializer %.3f s and sender %.3f s (as the producers finished)\n",
              r.producer_cpu_seconds, r.serializer_cpu_before_close, r.sender_cpu_before_close);
  std::printf("  Memory       peak RSS %.1f MiB (max_queue_bytes %.0f MiB)\n", mib(r.peak_rss_bytes),
              mib(config.max_queue_bytes));
  std::printf("  Wire         %.1f bytes per event sent (%.1f before compression, ratio %.1fx)\n", wire_per_event,
              body_per_event, ratio);
  std::printf("               %s bytes before compression, %s after, in %s requests (%s retries)\n",
              grouped(r.stats.bytes_uncompressed).c_str(), grouped(r.stats.bytes_sent).c_str(),
              grouped(r.stats.requests).c_str(), grouped(r.stats.retries).c_str());
  std::printf("  Enqueue      per-call latency p50 %s, p99 %s, p99.9 %s, max %s\n", duration_ns(p50).c_str(),
              duration_ns(p99).c_str(), duration_ns(p999).c_str(), duration_ns(max).c_str());
  std::printf("  Events       enqueued %s, delivered %s, rejected %s (dropped by backpressure %s), failed %s\n",
              grouped(r.stats.enqueued).c_str(), grouped(r.stats.delivered).c_str(),
              grouped(r.stats.rejected).c_str(), grouped(r.stats.dropped).c_str(), grouped(r.stats.failed).c_str());
  if (!o.spool_dir.empty()) {
    std::printf("  Spool        %s: recovered %s, peak spooled %s events (%.1f MiB), spooled now %s; "
                "spool errors %s, corrupt records %s, overflows %s\n",
                o.spool_dir.c_str(), grouped(r.stats.recovered).c_str(), grouped(r.peak_spooled_events).c_str(),
                mib(r.peak_spooled_bytes), grouped(r.stats.spooled_events).c_str(),
                grouped(r.stats.spool_errors).c_str(), grouped(r.stats.spool_corrupt).c_str(),
                grouped(r.stats.spool_overflows).c_str());
  }
  if (refuse_for.count() > 0) {
    std::printf("  Outage       the collector refused %s batch POSTs (503, no Retry-After) for its first %.1f s\n",
                r.outage_refusals ? grouped(*r.outage_refusals).c_str() : "?", o.refuse_for);
    if (r.outage_sampled) {
      std::printf("               when it ended: %s accepted, %s delivered, %s held (%s on disk); peak %s queued in memory\n",
                  grouped(r.enqueued_at_outage_end).c_str(), grouped(r.delivered_at_outage_end).c_str(),
                  grouped(r.enqueued_at_outage_end - std::min(r.enqueued_at_outage_end, r.delivered_at_outage_end)).c_str(),
                  grouped(r.spooled_at_outage_end).c_str(), grouped(r.peak_queued_events).c_str());
      if (r.enqueued_at_outage_end == r.stats.enqueued && r.delivered_at_outage_end == 0) {
        // Nothing left the client before the outage ended: what memory did not hold went to disk
        // as fast as it was accepted.
        std::printf("               every event was accepted during it, at %s events/s: the rate it spilled at\n",
                    grouped(static_cast<std::uint64_t>(static_cast<double>(r.stats.enqueued) / r.enqueue_seconds)).c_str());
      }
    } else {
      std::printf("               the run ended before the outage did (close() waited for it)\n");
    }
    // Recovered events (a spool left by an earlier run) are delivered on top of those accepted.
    std::uint64_t const owed = r.stats.enqueued + r.stats.recovered;
    bool const all = r.stats.failed == 0 && r.not_ok == 0 && r.stats.delivered == owed;
    std::printf("               after it: %s of %s accepted%s events delivered, %s failed: %s\n",
                grouped(r.stats.delivered).c_str(), grouped(owed).c_str(),
                r.stats.recovered != 0 ? " and recovered" : "", grouped(r.stats.failed).c_str(),
                all ? "everything was delivered after the outage" : "NOT everything was delivered");
  }
  std::printf("\n");
  if (o.stall) {
    std::printf("%s: peak RSS %.1f MiB %s the budget max_queue_bytes + 32 MiB = %.1f MiB\n",
                r.verified ? "OK" : "FAILED", mib(r.peak_rss_bytes), r.verified ? "is within" : "exceeds",
                mib(r.rss_budget_bytes));
  } else if (r.not_ok != 0) {
    std::printf("FAILED: %s events were not accepted (enqueue did not return ok: the queue stayed full for "
                "enqueue_timeout); the collector counted %s unique messageIds for %s delivered\n",
                grouped(r.not_ok).c_str(), r.collector_unique ? grouped(*r.collector_unique).c_str() : "?",
                grouped(r.stats.delivered).c_str());
  } else if (!local) {
    std::printf("%s: %s failed (no collector count to compare with: --endpoint given)\n",
                r.verified ? "OK" : "FAILED", grouped(r.stats.failed).c_str());
  } else if (!r.collector_unique) {
    std::printf("FAILED: could not read the collector's count\n");
  } else {
    std::printf("%s: the collector counted %s unique messageIds, the client reports %s delivered, %s failed\n",
                r.verified ? "OK" : "FAILED", grouped(*r.collector_unique).c_str(),
                grouped(r.stats.delivered).c_str(), grouped(r.stats.failed).c_str());
  }
  return r.verified ? 0 : 1;
}

}  // namespace

int load_command(int argc, char** argv) {
  try {
    LoadOptions const options = parse_load_args(argc, argv);
    if (options.help) {
      std::fputs(load_usage.data(), stdout);
      return 0;
    }
    if (options.rate) {
      return paced_run({.rate = *options.rate, .duration_seconds = options.duration,
                        .compression = options.compression, .json = options.json});
    }
    return run(options);
  } catch (UsageError const& e) {
    std::fprintf(stderr, "htevents-cpp load: %s\n(try htevents-cpp load --help)\n", e.what());
    return 2;
  } catch (std::exception const& e) {
    std::fprintf(stderr, "htevents-cpp load: %s\n", e.what());
    return 1;
  }
}

}  // namespace htevents::cli
