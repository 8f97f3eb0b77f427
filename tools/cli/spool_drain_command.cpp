// htevents-cpp spool drain DIR: delivers a dead application's spool without the application. A
// Client with spool_dir = DIR adopts every subdirectory of DIR whose lock is free (its owner is
// gone) and sends what it holds; this command waits until nothing is spooled or pending, closes
// the client and reports. Called by the `spool` dispatcher (spool_command.cpp).
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>
#include <string_view>
#include <thread>

#include "commands.hpp"
#include "htevents/htevents.hpp"
#include "options.hpp"

namespace htevents::cli {
namespace {

constexpr std::string_view usage = R"(Usage: htevents-cpp spool drain DIR [options]

Delivers what a dead application left in its spool directory DIR (its Config::spool_dir),
without the application: a client with spool_dir = DIR adopts every subdirectory of DIR whose
lock is free (its owner is gone), sends those events with their original messageId and
timestamp, waits until nothing is spooled or pending (or the timeout), and closes. A
subdirectory still locked by a live process is left to that process.

Options (also --name=value):
  --write-key KEY   default: $HTEVENTS_WRITE_KEY (spool files never hold the write key)
  --endpoint URL    default: $HTEVENTS_ENDPOINT, else https://us-east-1.hightouch-events.com
  --timeout S       give up after S seconds (default 300); what is left stays on disk
  --quiet           no progress line on stderr
  --help            this text

Prints recovered, delivered, failed and spool_corrupt (damaged records skipped), then one line
`recovered=N delivered=N failed=N spool_corrupt=N` for scripts.
Exit status: 0 when every recovered event was delivered (also when there was nothing to
deliver), 1 otherwise (failed events, the timeout, an unusable DIR), 2 on usage errors.
)";

struct Flags {
  std::string dir;
  std::string write_key, endpoint;
  double timeout_seconds = 300;
  bool quiet = false;
  bool help = false;
};

Flags parse(int argc, char** argv) {
  Flags f;
  Args args(argc, argv);
  while (args.next()) {
    if (args.is("--help")) f.help = true;
    else if (args.is("--write-key")) f.write_key = args.value();
    else if (args.is("--endpoint")) f.endpoint = args.value();
    else if (args.is("--timeout")) {
      std::string const text(args.value());
      char* end = nullptr;
      f.timeout_seconds = std::strtod(text.c_str(), &end);
      if (text.empty() || *end != '\0' || !(f.timeout_seconds > 0 && f.timeout_seconds <= 86400))
        throw UsageError("--timeout must be a number of seconds, more than 0 and at most 86400");
    } else if (args.is("--quiet")) {
      args.no_value();
      f.quiet = true;
    } else if (args.positional() && f.dir.empty()) f.dir = args.current();
    else args.unknown();
  }
  if (!f.help && f.dir.empty()) throw UsageError("which spool directory? htevents-cpp spool drain DIR");
  return f;
}

// Nothing left to do: no event waits on disk or in memory, none is in flight.
bool drained(Stats const& s) noexcept { return s.spooled_events == 0 && s.pending() == 0 && s.in_flight == 0; }

int run(Flags const& f) {
  Connection const connection = resolve_connection(f.write_key, f.endpoint);
  // The client would create a missing DIR; draining one that does not exist is a mistake.
  struct stat st {};
  if (::stat(f.dir.c_str(), &st) != 0) {
    std::fprintf(stderr, "htevents-cpp spool drain: %s: %s\n", f.dir.c_str(), std::strerror(errno));
    return 1;
  }
  if (!S_ISDIR(st.st_mode)) {
    std::fprintf(stderr, "htevents-cpp spool drain: %s: not a directory\n", f.dir.c_str());
    return 1;
  }

  Config config;
  config.endpoint = connection.endpoint;
  config.spool_dir = f.dir;
  config.tls_verify = !connection.endpoint.starts_with("http://");
  auto const start = std::chrono::steady_clock::now();
  auto const deadline = start + std::chrono::milliseconds(static_cast<std::int64_t>(f.timeout_seconds * 1000));
  bool const tty = ::isatty(STDERR_FILENO) != 0;

  Client client(connection.write_key, config);  // throws ConfigError for an unusable DIR
  // Adoption may run on the client's own threads after the constructor: `drained` must hold
  // on two samples 100 ms apart, and flush() first covers whatever is pending already.
  client.flush(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()));
  int quiet_samples = 0;
  auto next_progress = start + std::chrono::seconds(1);
  bool timed_out = false;
  for (;;) {
    Stats const s = client.stats();
    quiet_samples = drained(s) ? quiet_samples + 1 : 0;
    if (quiet_samples >= 2) break;
    auto const now = std::chrono::steady_clock::now();
    if (now >= deadline) {
      timed_out = true;
      break;
    }
    if (!f.quiet && now >= next_progress) {
      std::fprintf(stderr, "%srecovered %" PRIu64 ", delivered %" PRIu64 ", failed %" PRIu64 ", still spooled %" PRIu64
                   ", pending %" PRIu64 "%s",
                   tty ? "\r\033[K" : "", s.recovered, s.delivered, s.failed, s.spooled_events, s.pending(),
                   tty ? "" : "\n");
      next_progress = now + std::chrono::seconds(1);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  if (!f.quiet && tty) std::fputc('\n', stderr);
  auto const left = std::max(std::chrono::milliseconds(1000), std::chrono::duration_cast<std::chrono::milliseconds>(
                                                                 deadline - std::chrono::steady_clock::now()));
  bool const close_ok = client.close(left);
  Stats const s = client.stats();

  // The client enqueued nothing itself: everything it delivered or failed was recovered.
  bool const ok = close_ok && !timed_out && s.failed == 0 && s.delivered == s.recovered && s.spooled_events == 0;
  std::printf("htevents-cpp spool drain: %s -> %s\n", f.dir.c_str(), connection.endpoint.c_str());
  std::printf("  recovered %" PRIu64 ", delivered %" PRIu64 ", failed %" PRIu64 ", spool_corrupt %" PRIu64
              " (damaged records skipped)\n",
              s.recovered, s.delivered, s.failed, s.spool_corrupt);
  if (s.spool_errors != 0) std::printf("  spool errors %" PRIu64 " (disk writes that failed)\n", s.spool_errors);
  if (s.recovered == 0) std::printf("  nothing to deliver (no abandoned subdirectory, or it was empty)\n");
  if (timed_out) std::printf("  TIMEOUT after %.0f s: %" PRIu64 " events still spooled\n", f.timeout_seconds, s.spooled_events);
  std::printf("%s\nrecovered=%" PRIu64 " delivered=%" PRIu64 " failed=%" PRIu64 " spool_corrupt=%" PRIu64 "\n",
              ok ? "OK: every recovered event was delivered" : "FAILED: not every recovered event was delivered",
              s.recovered, s.delivered, s.failed, s.spool_corrupt);
  return ok ? 0 : 1;
}

}  // namespace

int spool_drain_command(int argc, char** argv) {
  try {
    Flags const f = parse(argc, argv);
    if (f.help) {
      std::fputs(usage.data(), stdout);
      return 0;
    }
    return run(f);
  } catch (UsageError const& e) {
    std::fprintf(stderr, "htevents-cpp spool drain: %s\n(try htevents-cpp spool drain --help)\n", e.what());
    return 2;
  } catch (std::exception const& e) {
    std::fprintf(stderr, "htevents-cpp spool drain: %s\n", e.what());
    return 1;
  }
}

}  // namespace htevents::cli
