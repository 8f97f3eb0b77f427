#pragma once
// The input of `htevents-cpp e2e --input '<json>'`, Segment's SDK end-to-end contract:
//   {"writeKey": "...", "apiHost": "http://...", "sequences": [{"delayMs": 0, "events": [...]}],
//    "config": {"flushAt": 20, "flushInterval": 10000, "maxRetries": 3, "timeout": 15}}
// flushInterval is in milliseconds, timeout in seconds. Keys the contract does not name
// (cdnHost, ...) are ignored, as the other SDKs' e2e CLIs ignore them.

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace htevents::e2e {

/// One `{delayMs, events}` of `sequences`.
struct Sequence {
  std::chrono::milliseconds delay{0};  ///< waited before the first event of this sequence
  std::string ndjson{};                ///< the events, one minified JSON value per line, in input order
  std::size_t events = 0;
};

/// What the input asks for. Absent (or null) config fields stay empty: the library's default.
struct Input {
  std::string write_key{};
  std::string api_host{};  ///< "" when absent: the library's default endpoint
  std::vector<Sequence> sequences{};
  std::optional<std::size_t> flush_at{};                      ///< Config::batch_size
  std::optional<std::chrono::milliseconds> flush_interval{};  ///< Config::interval
  std::optional<int> max_retries{};                           ///< Config::max_attempts - 1
  std::optional<std::chrono::milliseconds> timeout{};         ///< Config::request_timeout
};

/// Parses the --input text. On a malformed input returns nullopt and says why in `error`,
/// naming the field ("sequences[1].events is not an array"). An event that is not a valid
/// message is not an input error: it is reported when it is enqueued. Allocates.
std::optional<Input> parse_input(std::string_view json, std::string& error);

/// The library's endpoint for an apiHost: a trailing "/", "/v1" or "/v1/batch" is dropped, as
/// the client appends /v1/batch itself (the Kotlin and Swift SDKs take apiHost with /v1).
std::string endpoint_of(std::string_view api_host);

}  // namespace htevents::e2e
