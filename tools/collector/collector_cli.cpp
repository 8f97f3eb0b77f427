#include "collector/collector_cli.hpp"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <exception>
#include <fstream>
#include <iostream>
#include <stdexcept>
#include <string>

#include "collector/collector.hpp"
#include "common/flags.hpp"

namespace htevents::collector {
namespace {

constexpr std::string_view usage_body = R"( [options]

A local endpoint for the batch API: POST <any prefix>/v1/batch (identity, gzip or zstd bodies),
GET /stats. Prints a line of counts every second to stderr; on SIGINT/SIGTERM prints the final
stats as JSON to stdout and exits.

Options (also --name=value):
  --bind ADDR            IPv4 address to listen on (default 127.0.0.1)
  --port N               port, 0 picks a free one (default 0)
  --port-file PATH       write the chosen port to PATH once listening
  --threads N            HTTP worker threads (default 1)
  --ndjson PATH          append every received message to PATH, one JSON line each
  --dump-requests PATH   append every batch POST to PATH, one JSON line each: status, headers
                         (Authorization included), encoding and the whole decoded body
  --share-500 X          answer a share X of batch POSTs with 500 (0..1)
  --share-429 X          answer a share X with 429 + Retry-After
  --retry-after S        Retry-After seconds of injected 429s (default 1)
  --share-drop X         close a share X of connections without answering
  --delay-ms N           wait N ms before answering each batch POST
  --fixed-status N       answer every batch POST with status N, accept nothing
  --refuse-encoding E    answer 415 to bodies encoded with E (identity|gzip|zstd); repeatable
  --seed N               seed of the fault-injection PRNG (default 1)

Segment's response rules (one fault each; checked in this order after --fixed-status):
  --fail-first N         answer the first N batch POSTs with --fail-first-status
  --fail-first-status N  status of those answers (default 503)
  --fail-first-retry-after S
                         those answers carry Retry-After: S (default: no header)
  --refuse-for S         refuse mode: answer every batch POST 503 (no Retry-After) for the first
                         S seconds (decimals allowed), then normally: an outage to ride out
  --outage-ms N          the same in milliseconds: 503, or see --outage-drop
  --outage-drop          during the outage close connections instead of answering
  --outage-retry-after S outage 503s carry Retry-After: S (default: no header)
  --share-460 X          answer a share X with 460 (Segment's "client timed out"); the shares
                         together must not exceed 1
  --max-body-bytes N     answer 413 to bodies over N bytes, on the wire or decoded (default 64 MiB)
  --expect-ids N         room for N unique messageIds from the start, so that the id set never
                         grows (and stops answering for the rehash) during a run of N events
  --bad-request-encoding E
                         answer 400 (not 415) to bodies encoded with E; repeatable
  --refuse-marker TEXT   answer 400 to a batch whose decoded body contains TEXT (mark a
                         message with it: an event name, a property value)
  --quiet                no per-second line
  --help                 this text
)";

/// Bad command line: exit code 2.
using flags::parse_number;
using flags::UsageError;

double parse_share(std::string_view flag, std::string_view text) {
  std::string const copy(text);
  char* end = nullptr;
  double const value = std::strtod(copy.c_str(), &end);
  if (copy.empty() || *end != '\0' || !(value >= 0 && value <= 1))
    throw UsageError("invalid share '" + copy + "' for " + std::string(flag) + " (0..1)");
  return value;
}

// A non-negative number of seconds (decimals allowed), rounded to milliseconds.
std::chrono::milliseconds parse_seconds(std::string_view flag, std::string_view text) {
  std::string const copy(text);
  char* end = nullptr;
  double const value = std::strtod(copy.c_str(), &end);
  if (copy.empty() || *end != '\0' || !(value >= 0 && value <= 1e6))
    throw UsageError("invalid seconds '" + copy + "' for " + std::string(flag) + " (0..1000000)");
  return std::chrono::milliseconds(static_cast<std::int64_t>(value * 1000 + 0.5));
}

struct Flags {
  Options options;
  std::string port_file;
  bool quiet = false;
  bool help = false;
};

Flags parse(int argc, char** argv) {
  Flags f;
  auto& o = f.options;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg(argv[i]);
    std::string_view inline_value;
    bool has_inline_value = false;
    if (auto const eq = arg.find('='); arg.starts_with("--") && eq != std::string_view::npos) {
      inline_value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
      has_inline_value = true;
    }
    auto value = [&]() -> std::string_view {
      if (has_inline_value) return inline_value;
      if (i + 1 >= argc) throw UsageError(std::string(arg) + " needs a value");
      return argv[++i];
    };
    if (arg == "--help" || arg == "-h") f.help = true;
    else if (arg == "--quiet") f.quiet = true;
    else if (arg == "--bind") o.bind_address = value();
    else if (arg == "--port") o.port = parse_number<std::uint16_t>(arg, value());
    else if (arg == "--port-file") f.port_file = value();
    else if (arg == "--threads") o.threads = parse_number<unsigned>(arg, value());
    else if (arg == "--ndjson") o.ndjson_path = value();
    else if (arg == "--dump-requests") o.dump_requests_path = value();
    else if (arg == "--share-500") o.share_500 = parse_share(arg, value());
    else if (arg == "--share-429") o.share_429 = parse_share(arg, value());
    else if (arg == "--retry-after") o.retry_after_seconds = parse_number<int>(arg, value());
    else if (arg == "--share-drop") o.share_drop_connection = parse_share(arg, value());
    else if (arg == "--delay-ms") o.delay = std::chrono::milliseconds(parse_number<unsigned>(arg, value()));
    else if (arg == "--fixed-status") o.fixed_status = parse_number<int>(arg, value());
    else if (arg == "--refuse-encoding") o.refused_encodings.emplace_back(value());
    else if (arg == "--seed") o.seed = parse_number<std::uint64_t>(arg, value());
    else if (arg == "--fail-first") o.fail_first = parse_number<std::uint64_t>(arg, value());
    else if (arg == "--fail-first-status") o.fail_first_status = parse_number<int>(arg, value());
    else if (arg == "--fail-first-retry-after") o.fail_first_retry_after = parse_number<int>(arg, value());
    else if (arg == "--refuse-for") o.outage = parse_seconds(arg, value());
    else if (arg == "--outage-ms") o.outage = std::chrono::milliseconds(parse_number<unsigned>(arg, value()));
    else if (arg == "--outage-drop") o.outage_drops = true;
    else if (arg == "--outage-retry-after") o.outage_retry_after = parse_number<int>(arg, value());
    else if (arg == "--share-460") o.share_460 = parse_share(arg, value());
    else if (arg == "--max-body-bytes") o.max_body_bytes = parse_number<std::size_t>(arg, value());
    else if (arg == "--expect-ids") o.expected_ids = parse_number<std::size_t>(arg, value());
    else if (arg == "--bad-request-encoding") o.bad_request_encodings.emplace_back(value());
    else if (arg == "--refuse-marker") o.refuse_marker = value();
    else if (arg.starts_with("--")) throw UsageError("unknown option '" + std::string(argv[i]) + "'");
    else throw UsageError("unexpected argument '" + std::string(argv[i]) + "'");
  }
  return f;
}

void write_port_file(std::string const& path, std::uint16_t port) {
  // Write then rename, so that a script polling for the file never reads a partial port.
  std::string const temporary = path + ".tmp";
  {
    std::ofstream out(temporary, std::ios::trunc);
    out << port << '\n';
    if (!out) throw std::runtime_error("cannot write port file '" + temporary + "'");
  }
  if (std::rename(temporary.c_str(), path.c_str()) != 0)
    throw std::runtime_error("cannot rename port file to '" + path + "'");
}

void print_live_line(Stats const& s, double events_per_second, bool tty) {
  auto const u = [](std::uint64_t v) { return static_cast<unsigned long long>(v); };
  std::fprintf(stderr,
               "%sevents=%llu unique=%llu events/s=%.0f MB/s(decoded)=%.1f requests=%llu 2xx=%llu 4xx=%llu "
               "5xx=%llu 429=%llu 500=%llu dropped=%llu invalid=%llu dup=%llu refused=%llu%s",
               tty ? "\r\033[K" : "", u(s.events), u(s.unique_message_ids), events_per_second,
               static_cast<double>(s.bytes_decoded) / 1e6, u(s.requests), u(s.answered_2xx), u(s.answered_4xx),
               u(s.answered_5xx), u(s.injected_429), u(s.injected_500), u(s.dropped_connections),
               u(s.invalid_messages), u(s.duplicate_message_ids), u(s.outage_refusals), tty ? "" : "\n");
}

}  // namespace

int run_collector_cli(int argc, char** argv, std::string_view program_name) {
  std::string const name(program_name);
  Flags f;
  try {
    f = parse(argc, argv);
  } catch (UsageError const& error) {
    std::cerr << name << ": " << error.what() << "\n(try --help)\n";
    return 2;
  }
  if (f.help) {
    std::cout << "Usage: " << name << usage_body;
    return 0;
  }

  // Block the stop signals before any thread starts, so that every thread inherits the mask and
  // this thread alone receives them through sigtimedwait.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  try {
    Collector collector(f.options);
    if (!f.port_file.empty()) write_port_file(f.port_file, collector.port());
    std::fprintf(stderr, "%s: listening on %s\n", name.c_str(), collector.endpoint().c_str());
    bool refusing = collector.refusing();
    if (refusing)
      std::fprintf(stderr, "%s: refusing every batch POST for %.3f s (%s)\n", name.c_str(),
                   std::chrono::duration<double>(f.options.outage).count(),
                   f.options.outage_drops ? "connections closed" : "503");

    bool const tty = isatty(STDERR_FILENO) != 0;
    auto last_time = std::chrono::steady_clock::now();
    std::uint64_t last_events = 0;
    timespec const one_second{1, 0};
    for (;;) {
      int const signal_number = sigtimedwait(&stop_signals, nullptr, &one_second);
      if (signal_number == SIGINT || signal_number == SIGTERM) break;
      if (signal_number < 0 && errno != EAGAIN && errno != EINTR) break;
      if (refusing && !collector.refusing()) {
        refusing = false;
        std::fprintf(stderr, "%s%s: outage over after %llu refused batch POSTs: answering normally\n",
                     tty && !f.quiet ? "\r\033[K" : "", name.c_str(),
                     static_cast<unsigned long long>(collector.stats().outage_refusals));
      }
      if (f.quiet) continue;
      auto const now = std::chrono::steady_clock::now();
      Stats const stats = collector.stats();
      double const seconds = std::chrono::duration<double>(now - last_time).count();
      print_live_line(stats, seconds > 0 ? static_cast<double>(stats.events - last_events) / seconds : 0.0, tty);
      last_time = now;
      last_events = stats.events;
    }
    if (tty && !f.quiet) std::fputc('\n', stderr);
    std::cout << collector.stats().to_json() << std::endl;
  } catch (std::exception const& error) {
    std::cerr << name << ": " << error.what() << '\n';
    return 1;
  }
  return 0;
}

}  // namespace htevents::collector
