// htevents-collector: the local batch API endpoint as a program, for demos and load runs.
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <exception>
#include <fstream>
#include <iostream>
#include <string>
#include <string_view>

#include "collector/collector.hpp"

namespace {

constexpr std::string_view usage = R"(Usage: htevents-collector [options]

A local endpoint for the batch API: POST <any prefix>/v1/batch (identity, gzip or zstd bodies),
GET /stats. Prints a line of counts every second to stderr; on SIGINT/SIGTERM prints the final
stats as JSON to stdout and exits.

Options (also --name=value):
  --bind ADDR            IPv4 address to listen on (default 127.0.0.1)
  --port N               port, 0 picks a free one (default 0)
  --port-file PATH       write the chosen port to PATH once listening
  --threads N            HTTP worker threads (default 1)
  --ndjson PATH          append every received message to PATH, one JSON line each
  --share-500 X          answer a share X of batch POSTs with 500 (0..1)
  --share-429 X          answer a share X with 429 + Retry-After
  --retry-after S        Retry-After seconds of injected 429s (default 1)
  --share-drop X         close a share X of connections without answering
  --delay-ms N           wait N ms before answering each batch POST
  --fixed-status N       answer every batch POST with status N, accept nothing
  --refuse-encoding E    answer 415 to bodies encoded with E (identity|gzip|zstd); repeatable
  --seed N               seed of the fault-injection PRNG (default 1)
  --quiet                no per-second line
  --help                 this text
)";

struct UsageError {
  std::string message;
};

template <class T>
T parse_number(std::string_view flag, std::string_view text) {
  T value{};
  auto const [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size())
    throw UsageError{"invalid value '" + std::string(text) + "' for " + std::string(flag)};
  return value;
}

double parse_share(std::string_view flag, std::string_view text) {
  char* end = nullptr;
  std::string const copy(text);
  double const value = std::strtod(copy.c_str(), &end);
  if (copy.empty() || *end != '\0' || !(value >= 0 && value <= 1))
    throw UsageError{"invalid share '" + copy + "' for " + std::string(flag) + " (0..1)"};
  return value;
}

struct Cli {
  htevents::collector::Options options;
  std::string port_file;
  bool quiet = false;
  bool help = false;
};

Cli parse_args(int argc, char** argv) {
  Cli cli;
  auto& o = cli.options;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg(argv[i]);
    std::string_view value;
    bool has_inline_value = false;
    if (auto const eq = arg.find('='); arg.starts_with("--") && eq != std::string_view::npos) {
      value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
      has_inline_value = true;
    }
    auto next = [&]() -> std::string_view {
      if (has_inline_value) return value;
      if (i + 1 >= argc) throw UsageError{std::string(arg) + " needs a value"};
      return argv[++i];
    };
    if (arg == "--help" || arg == "-h") cli.help = true;
    else if (arg == "--quiet") cli.quiet = true;
    else if (arg == "--bind") o.bind_address = next();
    else if (arg == "--port") o.port = parse_number<std::uint16_t>(arg, next());
    else if (arg == "--port-file") cli.port_file = next();
    else if (arg == "--threads") o.threads = parse_number<unsigned>(arg, next());
    else if (arg == "--ndjson") o.ndjson_path = next();
    else if (arg == "--share-500") o.share_500 = parse_share(arg, next());
    else if (arg == "--share-429") o.share_429 = parse_share(arg, next());
    else if (arg == "--retry-after") o.retry_after_seconds = parse_number<int>(arg, next());
    else if (arg == "--share-drop") o.share_drop_connection = parse_share(arg, next());
    else if (arg == "--delay-ms") o.delay = std::chrono::milliseconds(parse_number<unsigned>(arg, next()));
    else if (arg == "--fixed-status") o.fixed_status = parse_number<int>(arg, next());
    else if (arg == "--refuse-encoding") o.refused_encodings.emplace_back(next());
    else if (arg == "--seed") o.seed = parse_number<std::uint64_t>(arg, next());
    else throw UsageError{"unknown option '" + std::string(argv[i]) + "'"};
  }
  return cli;
}

void print_live_line(htevents::collector::Stats const& s, double events_per_second, bool tty) {
  std::fprintf(stderr,
               "%sevents=%llu unique=%llu events/s=%.0f requests=%llu 2xx=%llu 4xx=%llu 5xx=%llu "
               "429=%llu 500=%llu dropped=%llu invalid=%llu dup=%llu%s",
               tty ? "\r\033[K" : "", static_cast<unsigned long long>(s.events),
               static_cast<unsigned long long>(s.unique_message_ids), events_per_second,
               static_cast<unsigned long long>(s.requests), static_cast<unsigned long long>(s.answered_2xx),
               static_cast<unsigned long long>(s.answered_4xx), static_cast<unsigned long long>(s.answered_5xx),
               static_cast<unsigned long long>(s.injected_429), static_cast<unsigned long long>(s.injected_500),
               static_cast<unsigned long long>(s.dropped_connections),
               static_cast<unsigned long long>(s.invalid_messages),
               static_cast<unsigned long long>(s.duplicate_message_ids), tty ? "" : "\n");
}

}  // namespace

int main(int argc, char** argv) {
  Cli cli;
  try {
    cli = parse_args(argc, argv);
  } catch (UsageError const& error) {
    std::cerr << "htevents-collector: " << error.message << "\n(try --help)\n";
    return 2;
  }
  if (cli.help) {
    std::cout << usage;
    return 0;
  }

  // Block the stop signals before any thread starts, so that every thread inherits the mask and
  // the main thread alone receives them through sigtimedwait.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  try {
    htevents::collector::Collector collector(cli.options);
    if (!cli.port_file.empty()) {
      // Write then rename, so that a script polling for the file never reads a partial port.
      std::string const temporary = cli.port_file + ".tmp";
      {
        std::ofstream out(temporary, std::ios::trunc);
        out << collector.port() << '\n';
        if (!out) throw std::runtime_error("cannot write port file '" + temporary + "'");
      }
      if (std::rename(temporary.c_str(), cli.port_file.c_str()) != 0)
        throw std::runtime_error("cannot rename port file to '" + cli.port_file + "'");
    }
    std::fprintf(stderr, "htevents-collector: listening on %s\n", collector.endpoint().c_str());

    bool const tty = isatty(STDERR_FILENO) != 0;
    auto last_time = std::chrono::steady_clock::now();
    std::uint64_t last_events = 0;
    timespec const one_second{1, 0};
    for (;;) {
      int const signal_number = sigtimedwait(&stop_signals, nullptr, &one_second);
      if (signal_number == SIGINT || signal_number == SIGTERM) break;
      if (signal_number < 0 && errno != EAGAIN && errno != EINTR) break;
      if (cli.quiet) continue;
      auto const now = std::chrono::steady_clock::now();
      htevents::collector::Stats const stats = collector.stats();
      double const seconds = std::chrono::duration<double>(now - last_time).count();
      print_live_line(stats, seconds > 0 ? static_cast<double>(stats.events - last_events) / seconds : 0.0, tty);
      last_time = now;
      last_events = stats.events;
    }
    if (tty && !cli.quiet) std::fputc('\n', stderr);
    std::string const final_stats = collector.stats().to_json();
    std::cout << final_stats << std::endl;
  } catch (std::exception const& error) {
    std::cerr << "htevents-collector: " << error.what() << '\n';
    return 1;
  }
  return 0;
}
