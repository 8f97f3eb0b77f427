#pragma once
// Running an e2e input through a real Client, and the contract's output line.

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "e2e/input.hpp"
#include "htevents/config.hpp"

namespace htevents::e2e {

/// The contract's result: printed as {"success": ..., "sentBatches": N, "error": "..."}.
struct Output {
  bool success = false;
  std::uint64_t sent_batches = 0;  ///< batches the endpoint accepted (2xx), retries not counted twice
  std::string error{};             ///< empty on success; else the first problem, then how many more
};

/// The Config an input asks for: endpoint_of(apiHost), flushAt as batch_size, flushInterval as
/// interval, maxRetries + 1 as max_attempts, timeout as request_timeout; the rest the
/// library's defaults. Does not validate (the Client does).
Config make_config(Input const& input);

/// How long close() may take so that it never cuts short a retry the config allows: every
/// attempt's timeout plus its largest backoff, and one interval. A Retry-After can take longer
/// (up to 300 s); a suite that sends one waits for what it asked for.
std::chrono::milliseconds close_budget(Config const& config);

/// Sends every sequence (waiting its delayMs first) through one Client, closes it and reports.
/// Success: every event accepted by enqueue and every accepted event delivered. `log` receives
/// human-readable lines (no newline) for stderr, from this thread and the client's threads
/// (one at a time). Never throws except std::bad_alloc.
Output run(Input const& input, std::function<void(std::string_view)> const& log);

/// One JSON object, one line, no trailing newline; "error" only when non-empty. Allocates.
std::string to_json(Output const& output);

}  // namespace htevents::e2e
