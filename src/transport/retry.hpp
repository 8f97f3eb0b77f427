#pragma once
// Retry decisions: which answers are worth another try, and how long to wait before it.

#include <chrono>
#include <cstdint>
#include <optional>
#include <random>
#include <string_view>

namespace htevents::inline v0::detail {

enum class Outcome : std::uint8_t {
  delivered,          // 2xx
  retry,              // 408, 429, 5xx, timeouts, connection errors
  refused_encoding,   // 415 (or 400 to the first compressed request): try the next encoding
  rejected,           // any other answer: permanent for this batch
};

// `http_status` is 0 when no answer came; `transport_ok` is false on a curl error, and then
// `transport_permanent` tells errors that another try cannot fix (bad URL, TLS verification).
Outcome classify(long http_status, bool transport_ok, bool transport_permanent,
                 bool first_compressed_request) noexcept;

// Full jitter: uniform in [0, min(retry_max, retry_base * 2^(attempt-1))], then at least the
// server's Retry-After capped at retry_max. `attempt` counts tries made so far (>= 1).
std::chrono::milliseconds backoff(int attempt, std::chrono::milliseconds retry_base,
                                  std::chrono::milliseconds retry_max,
                                  std::optional<std::chrono::milliseconds> retry_after,
                                  std::mt19937_64& rng) noexcept;

// A Retry-After header value: delta-seconds or an HTTP date (relative to `now_unix_seconds`).
// nullopt when malformed. Past dates give 0.
std::optional<std::chrono::milliseconds> parse_retry_after(std::string_view value,
                                                           std::int64_t now_unix_seconds) noexcept;

}  // namespace htevents::inline v0::detail
