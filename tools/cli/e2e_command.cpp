// htevents-cpp e2e: Segment's SDK end-to-end CLI contract (tools/e2e), so that a suite written
// for Segment's SDKs can drive this library. Unlike the other commands it answers in JSON on
// stdout and exits 0 or 1 only, bad command lines included: a suite reads one result per run.
#include <iostream>
#include <string>
#include <string_view>

#include "commands.hpp"
#include "e2e/input.hpp"
#include "e2e/run.hpp"
#include "options.hpp"

namespace htevents::cli {
namespace {

constexpr std::string_view usage = R"(Usage: htevents-cpp e2e --input JSON

Runs Segment's SDK end-to-end contract: sends the input's event sequences through one client,
closes it, and prints one line of JSON on stdout:
  {"success": true|false, "sentBatches": N, "error": "..."}    (error only on failure)
Exit status 0 on success, 1 otherwise (a bad command line or input too). Logs go to stderr.

Input (JSON):
  writeKey         required
  apiHost          endpoint base URL (a trailing /v1 or /v1/batch is dropped);
                   default https://us-east-1.hightouch-events.com
  sequences        [{"delayMs": N, "events": [Segment-spec messages with "type"]}, ...]:
                   each sequence waits delayMs, then enqueues its events
  config           optional, each field optional:
    flushAt        events per batch (Config::batch_size)
    flushInterval  milliseconds a batch waits at most (Config::interval)
    maxRetries     retries per batch after the first try (Config::max_attempts - 1)
    timeout        seconds per HTTP attempt (Config::request_timeout)

sentBatches counts the batches the endpoint accepted. Success means every event was accepted
and delivered; close() waits as long as the retries the config allows can take.
)";

int fail(std::string_view why) {
  std::cerr << "htevents-cpp e2e: " << why << '\n';
  e2e::Output output;
  output.error = why;
  std::cout << e2e::to_json(output) << std::endl;
  return 1;
}

}  // namespace

int e2e_command(int argc, char** argv) {
  std::string input_text;
  bool has_input = false;
  try {
    Args args(argc, argv);
    while (args.next()) {
      if (args.is("--help")) {
        std::cout << usage;
        return 0;
      }
      if (args.is("--input")) {
        input_text = args.value();
        has_input = true;
      } else {
        args.unknown();
      }
    }
  } catch (UsageError const& error) {
    return fail(error.what());
  }
  if (!has_input) return fail("missing --input JSON");
  std::string problem;
  std::optional<e2e::Input> const input = e2e::parse_input(input_text, problem);
  if (!input) return fail(problem);
  e2e::Output const output =
      e2e::run(*input, [](std::string_view line) { std::cerr << "htevents-cpp e2e: " << line << '\n'; });
  std::cout << e2e::to_json(output) << std::endl;
  return output.success ? 0 : 1;
}

}  // namespace htevents::cli
