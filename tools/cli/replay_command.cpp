// htevents-cpp replay: an NDJSON file (or stdin) of Segment-spec messages into the batch API.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <string>
#include <string_view>

#include "commands.hpp"
#include "htevents/htevents.hpp"
#include "options.hpp"
#include "replay/replay.hpp"

namespace htevents::cli {
namespace {

constexpr std::string_view usage = R"(Usage: htevents-cpp replay FILE|- [options]

Sends every message of FILE (or stdin for -): NDJSON, one Segment-spec message per line with
"type" and the fields of that type (userId, anonymousId, event, name, groupId, previousId,
messageId, timestamp, properties, traits, context, integrations; others are ignored).
A bad line is reported as `line N: why` on stderr. Progress goes to stderr: one updating line on
a terminal, a line every 5 s otherwise, while reading and then while the last deliveries and
their retries drain. Ends with a summary; the exit status is 0 only when every
line was sent and delivered.

Options (also --name=value):
  --on-error skip|stop    at a bad line: report and go on (default), or stop (exit 1)
  --batch-size N          messages per request (default 250)
  --compression C         none|gzip|zstd (default zstd)
  --close-timeout S       seconds to wait for the last deliveries at the end (default 60)
  --write-key KEY         default: $HTEVENTS_WRITE_KEY
  --endpoint URL          default: $HTEVENTS_ENDPOINT, else https://us-east-1.hightouch-events.com
  --progress-ms N         progress every N ms (default: 200 on a terminal, else 5000)
  --quiet                 no progress lines
  --help                  this text
)";

struct Flags {
  std::string path;
  replay::OnError on_error = replay::OnError::skip;
  std::size_t batch_size = 250;
  Compression compression = Compression::zstd;
  unsigned close_timeout_seconds = 60;
  std::string write_key, endpoint;
  unsigned progress_ms = 0;  // 0: by terminal or not
  bool quiet = false;
  bool help = false;
};

Flags parse(int argc, char** argv) {
  Flags f;
  bool has_path = false;
  Args args(argc, argv);
  while (args.next()) {
    if (args.is("--help"))
      f.help = true;
    else if (args.is("--on-error")) {
      std::string_view const v = args.value();
      if (v == "skip")
        f.on_error = replay::OnError::skip;
      else if (v == "stop")
        f.on_error = replay::OnError::stop;
      else
        throw UsageError("invalid value '" + std::string(v) + "' for --on-error (skip|stop)");
    } else if (args.is("--batch-size")) {
      f.batch_size = parse_number<std::size_t>("--batch-size", args.value());
    } else if (args.is("--compression")) {
      f.compression = parse_compression("--compression", args.value());
    } else if (args.is("--close-timeout")) {
      f.close_timeout_seconds = parse_number<unsigned>("--close-timeout", args.value());
    } else if (args.is("--write-key"))
      f.write_key = args.value();
    else if (args.is("--endpoint"))
      f.endpoint = args.value();
    else if (args.is("--progress-ms"))
      f.progress_ms = parse_number<unsigned>("--progress-ms", args.value());
    else if (args.is("--quiet"))
      f.quiet = true;
    else if ((args.positional() || args.current() == "-") && !has_path) {
      f.path = args.current();
      has_path = true;
    } else
      args.unknown();
  }
  if (!f.help && !has_path) throw UsageError("missing FILE (or - for stdin)");
  return f;
}

double mb(std::uint64_t bytes) { return static_cast<double>(bytes) / 1e6; }

// Prints progress: rates since the start, ETA when the size is known.
class ProgressPrinter {
 public:
  ProgressPrinter(std::uint64_t total_bytes, bool tty) : total_(total_bytes), tty_(tty) {}

  // Reading: input consumed and what the client has done with it so far.
  void print(replay::Progress const& p, Stats const& stats, bool final_line) {
    double const seconds = elapsed();
    double const mbps = seconds > 0 ? mb(p.bytes) / seconds : 0;
    double const eps = seconds > 0 ? static_cast<double>(p.sent) / seconds : 0;
    char eta[32] = "";
    char total[48] = " MB";
    if (total_ > 0) {
      std::snprintf(total, sizeof total, "/%.1f MB (%.0f%%)", mb(total_),
                    100.0 * static_cast<double>(p.bytes) / static_cast<double>(total_));
      if (mbps > 0 && p.bytes < total_) std::snprintf(eta, sizeof eta, " ETA %.0fs", mb(total_ - p.bytes) / mbps);
    }
    std::fprintf(stderr, "%sread %.1f%s, %.1f MB/s, %.0f events/s, sent %llu, rejected %llu, delivered %llu%s%s",
                 tty_ ? "\r\033[K" : "", mb(p.bytes), total, mbps, eps, static_cast<unsigned long long>(p.sent),
                 static_cast<unsigned long long>(p.rejected), static_cast<unsigned long long>(stats.delivered), eta,
                 tty_ && !final_line ? "" : "\n");
    std::fflush(stderr);
    dirty_ = tty_ && !final_line;
  }
  // Draining (the input is read, close() is waiting): deliveries, what is left, retries.
  void print_drain(std::uint64_t sent, Stats const& stats, bool final_line) {
    std::uint64_t const settled = stats.delivered + stats.failed;
    std::fprintf(
        stderr,
        "%sdelivering: delivered %llu of %llu (%.0f%%), failed %llu, waiting %llu, in flight %llu batches, "
        "retries %llu, %.0f s%s",
        tty_ ? "\r\033[K" : "", static_cast<unsigned long long>(stats.delivered), static_cast<unsigned long long>(sent),
        sent > 0 ? 100.0 * static_cast<double>(stats.delivered) / static_cast<double>(sent) : 100.0,
        static_cast<unsigned long long>(stats.failed), static_cast<unsigned long long>(sent - std::min(sent, settled)),
        static_cast<unsigned long long>(stats.in_flight), static_cast<unsigned long long>(stats.retries), elapsed(),
        tty_ && !final_line ? "" : "\n");
    std::fflush(stderr);
    dirty_ = tty_ && !final_line;
  }
  // A bad-line report goes on its own line, under the progress line.
  void before_message() {
    if (dirty_) std::fputs("\r\033[K", stderr);
    dirty_ = false;
  }
  double elapsed() const { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count(); }

 private:
  std::uint64_t total_;
  bool tty_;
  bool dirty_ = false;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

// Waits for the last deliveries, retries included, and closes the client, all within
// `timeout`. Reading may end long before the endpoint has taken everything (a slow or failing
// endpoint, backoff): flush() in slices of `interval` keeps the progress line going meanwhile.
bool drain(Client& client, std::uint64_t sent, std::chrono::milliseconds timeout, ProgressPrinter* printer,
           std::chrono::milliseconds interval) {
  auto const deadline = std::chrono::steady_clock::now() + timeout;
  if (printer != nullptr) {
    for (;;) {
      auto const left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) break;
      bool const done = client.flush(std::min(left, interval));
      printer->print_drain(sent, client.stats(), done);
      if (done) break;
    }
  }
  auto const left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
  bool const closed = client.close(std::max(left, std::chrono::milliseconds(0)));
  if (printer != nullptr && !closed) printer->print_drain(sent, client.stats(), true);
  return closed;
}

}  // namespace

int replay_command(int argc, char** argv) {
  Flags f;
  Connection connection;
  try {
    f = parse(argc, argv);
    if (f.help) {
      std::cout << usage;
      return 0;
    }
    connection = resolve_connection(f.write_key, f.endpoint);
  } catch (UsageError const& error) {
    std::cerr << "htevents-cpp replay: " << error.what() << '\n';
    return 2;
  }

  int fd = STDIN_FILENO;
  if (f.path != "-") {
    fd = ::open(f.path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      std::cerr << "htevents-cpp replay: cannot open '" << f.path << "': " << std::strerror(errno) << '\n';
      return 1;
    }
  }
  std::uint64_t total = 0;
  struct stat info {};
  if (::fstat(fd, &info) == 0 && S_ISREG(info.st_mode)) total = static_cast<std::uint64_t>(info.st_size);
  if (total > 0) ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);

  std::atomic<std::uint64_t> failed{0};
  std::atomic<bool> failure_printed{false};
  Config config;
  config.endpoint = connection.endpoint;
  config.batch_size = f.batch_size;
  config.compression = f.compression;
  // A replay must not drop: wait for room as long as the endpoint keeps accepting.
  config.backpressure = Backpressure::block;
  config.enqueue_timeout = std::chrono::seconds(60);
  config.on_failure = [&](Failure const& failure) {
    failed.fetch_add(1, std::memory_order_relaxed);
    // The first failure's detail is the useful one; the rest would flood the terminal.
    if (!failure_printed.exchange(true))
      std::fprintf(stderr, "htevents-cpp replay: delivery failed (%.*s): %.*s\n",
                   static_cast<int>(to_string(failure.reason).size()), to_string(failure.reason).data(),
                   static_cast<int>(failure.detail.size()), failure.detail.data());
  };

  bool const tty = isatty(STDERR_FILENO) != 0;
  ProgressPrinter printer(total, tty);
  replay::Options options;
  options.on_error = f.on_error;
  options.on_line_error = [&](replay::LineError const& e) {
    printer.before_message();
    std::fprintf(stderr, "line %llu: %.*s\n", static_cast<unsigned long long>(e.line),
                 static_cast<int>(e.reason.size()), e.reason.data());
  };
  Client* progress_client = nullptr;  // set once the client exists; progress starts after that
  auto const progress_interval = f.progress_ms > 0 ? std::chrono::milliseconds(f.progress_ms)
                                 : tty             ? std::chrono::milliseconds(200)
                                                   : std::chrono::milliseconds(5000);
  if (!f.quiet) {
    options.progress_interval = progress_interval;
    options.on_progress = [&](replay::Progress const& p) {
      if (progress_client != nullptr) printer.print(p, progress_client->stats(), false);
    };
  }

  int status = 0;
  try {
    Client client(connection.write_key, std::move(config));
    progress_client = &client;
    replay::Result const result = replay::replay_fd(fd, client, options);
    double const read_seconds = printer.elapsed();
    if (!f.quiet) printer.print(result.totals, client.stats(), true);
    bool const closed = drain(client, result.totals.sent, std::chrono::seconds(f.close_timeout_seconds),
                              f.quiet ? nullptr : &printer, progress_interval);
    double const seconds = printer.elapsed();
    Stats const stats = client.stats();
    if (!result.io_error.empty()) std::fprintf(stderr, "htevents-cpp replay: %s\n", result.io_error.c_str());
    std::fprintf(stderr,
                 "summary: read %llu lines (%.1f MB) in %.2f s, %.1f MB/s; sent %llu, rejected %llu, failed %llu, "
                 "delivered %llu in %.2f s (%.0f events/s)%s\n",
                 static_cast<unsigned long long>(result.totals.lines), mb(result.totals.bytes), read_seconds,
                 read_seconds > 0 ? mb(result.totals.bytes) / read_seconds : 0.0,
                 static_cast<unsigned long long>(result.totals.sent),
                 static_cast<unsigned long long>(result.totals.rejected),
                 static_cast<unsigned long long>(failed.load()), static_cast<unsigned long long>(stats.delivered),
                 seconds, seconds > 0 ? static_cast<double>(stats.delivered) / seconds : 0.0,
                 result.stopped ? " (stopped at the first bad line)" : "");
    if (!closed) std::fprintf(stderr, "htevents-cpp replay: close timed out; undelivered messages were failed\n");
    if (result.stopped || result.totals.rejected > 0 || failed.load() > 0 || !result.io_error.empty() || !closed ||
        stats.delivered != result.totals.sent)
      status = 1;
  } catch (ConfigError const& error) {
    std::cerr << "htevents-cpp replay: " << error.what() << '\n';
    status = 2;
  } catch (std::exception const& error) {
    std::cerr << "htevents-cpp replay: " << error.what() << '\n';
    status = 1;
  }
  if (fd != STDIN_FILENO) ::close(fd);
  return status;
}

}  // namespace htevents::cli
