#include "cli/load_options.hpp"

#include <cstdlib>
#include <string>

#include "common/flags.hpp"

namespace htevents::cli {

std::string_view const load_usage = R"(Usage: htevents-cpp load [options]

Sends N W1 events (track "Order completed", userId "user-<i>", properties total, currency,
product_id, quantity, coupon) from T threads, closes the client, and reports how fast they were
delivered, what it cost, and whether the collector received every one of them exactly once.

Without --endpoint a local collector is started on 127.0.0.1 (the htevents-cpp-collector program
as a child process when it is found next to this one, else inside this process).

Options (also --name=value):
  --events N            events to send (default 1000000)
  --threads T           sending threads (default 8)
  --endpoint URL        send there instead of a local collector (no verification)
  --compression C       zstd | gzip | none (default zstd, level 1)
  --api A               fast (client.track(...)...send(), default) | struct (enqueue(Track{...}))
  --stall               the collector answers every batch with 503: measures memory with a
                        stalled endpoint (Backpressure::drop_newest); passes when peak RSS stays
                        within max_queue_bytes + 32 MiB
  --max-queue-mb M      Config::max_queue_bytes in MiB (default 64)
  --refuse-for S        an outage to ride out: the local collector answers every batch 503
                        (no Retry-After) for its first S seconds, then normally. Producers may
                        then wait up to S + 10 s for room (enqueue_timeout), retries outlast the
                        outage (max_attempts 1000, retry_max 1 s) and close() waits S + 120 s;
                        the report says what was held during the outage and that it was all
                        delivered afterwards
  --spool DIR           Config::spool_dir = DIR: the disk spool (docs/durability.md); the
                        report adds its counters (recovered, peak spooled events and bytes,
                        spool errors, corrupt records, overflows)
  --spool-sync-ms MS    Config::spool_sync_interval (default 1000): how often the spool is
                        forced to disk; each sync makes the next write to every arena page a
                        page fault (docs/benchmarks.md, the spool's cost)
  --rate R              paced mode: R W1 events per second from one thread (0 = idle, a
                        client with nothing queued) for --duration seconds, default Config;
                        reports the client's CPU beyond the pacing loop as % of one core
                        (tools/paced.sh runs the table of docs/benchmarks.md)
  --duration S          paced mode: the measured window in seconds (default 10)
  --json                one JSON object on stdout instead of the report
  --help                this text

Events are sent with the default Backpressure::block (a full queue makes enqueue wait up to
100 ms). Exit code: 0 when verified, 1 when an event was not accepted, the collector's unique
count differs from the delivered count, or anything failed (or, with --stall, when peak RSS is over budget), 2 on usage errors.
)";

using flags::parse_number;
using flags::UsageError;

LoadOptions parse_load_args(int argc, char** argv) {
  LoadOptions o;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg(argv[i]);
    std::optional<std::string_view> inline_value;
    if (auto const eq = arg.find('='); arg.starts_with("--") && eq != std::string_view::npos) {
      inline_value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
    }
    auto next = [&]() -> std::string_view {
      if (inline_value) return *inline_value;
      if (i + 1 >= argc) throw UsageError(std::string(arg) + " needs a value");
      return argv[++i];
    };
    if (arg == "--help" || arg == "-h") o.help = true;
    else if (arg == "--events") o.events = parse_number<std::uint64_t>(arg, next());
    else if (arg == "--threads") o.threads = parse_number<unsigned>(arg, next());
    else if (arg == "--endpoint") o.endpoint = std::string(next());
    else if (arg == "--compression") {
      std::string_view const v = next();
      if (v == "zstd") o.compression = Compression::zstd;
      else if (v == "gzip") o.compression = Compression::gzip;
      else if (v == "none") o.compression = Compression::none;
      else throw UsageError("--compression must be zstd, gzip or none");
    } else if (arg == "--api") {
      std::string_view const v = next();
      if (v == "fast") o.struct_api = false;
      else if (v == "struct") o.struct_api = true;
      else throw UsageError("--api must be fast or struct");
    } else if (arg == "--stall") o.stall = true;
    else if (arg == "--max-queue-mb") o.max_queue_mb = parse_number<std::size_t>(arg, next());
    else if (arg == "--rate") o.rate = parse_number<std::uint64_t>(arg, next());
    else if (arg == "--duration") o.duration = parse_number<double>(arg, next());
    else if (arg == "--json") o.json = true;
    else if (arg == "--refuse-for") {
      std::string const v(next());
      char* end = nullptr;
      o.refuse_for = std::strtod(v.c_str(), &end);
      if (v.empty() || *end != '\0' || !(o.refuse_for > 0 && o.refuse_for <= 3600))
        throw UsageError("--refuse-for must be a number of seconds, more than 0 and at most 3600");
    } else if (arg == "--spool") {
      o.spool_dir = std::string(next());
      if (o.spool_dir.empty()) throw UsageError("--spool needs a directory");
    } else if (arg == "--spool-sync-ms") {
      std::string const v(next());
      char* end = nullptr;
      o.spool_sync_ms = std::strtoll(v.c_str(), &end, 10);
      if (v.empty() || *end != '\0' || o.spool_sync_ms <= 0)
        throw UsageError("--spool-sync-ms must be a positive number of milliseconds");
    }
    else throw UsageError("unknown option '" + std::string(arg) + "'");
  }
  if (o.threads == 0 || o.threads > 1024) throw UsageError("--threads must be 1..1024");
  if (o.events == 0) throw UsageError("--events must be at least 1");
  if (o.max_queue_mb == 0) throw UsageError("--max-queue-mb must be at least 1");
  if (o.stall && !o.endpoint.empty()) throw UsageError("--stall uses its own local collector: drop --endpoint");
  if (o.refuse_for > 0 && (o.stall || !o.endpoint.empty()))
    throw UsageError("--refuse-for applies to the local collector and is an outage that ends: drop --endpoint and --stall");
  if (o.rate && (o.refuse_for > 0 || !o.spool_dir.empty()))
    throw UsageError("--rate measures the memory-only client against a healthy collector: drop --refuse-for and --spool");
  if (o.rate && (o.stall || !o.endpoint.empty() || o.struct_api))
    throw UsageError("--rate sends fast-path W1 events to its own local collector: drop --stall, --endpoint and --api");
  if (!(o.duration > 0 && o.duration <= 3600)) throw UsageError("--duration must be more than 0 and at most 3600");
  if (o.rate && *o.rate > 1'000'000) throw UsageError("--rate must be at most 1000000 (a trickle benchmark)");
  return o;
}

}  // namespace htevents::cli
