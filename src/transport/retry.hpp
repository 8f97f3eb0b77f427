#pragma once
// Retry decisions (wire-format.md, Responses): what each answer means for its batch, how long
// to wait before another try, and how many extra requests splitting a batch may cost.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <random>
#include <string_view>

namespace htevents::inline v0::detail {

enum class Outcome : std::uint8_t {
  delivered,         // 2xx
  retry,             // 408, 429, 460, 5xx but 501/505/511, timeouts, connection errors
  refused_encoding,  // 415, or 400 to an encoding that never had a 2xx: try the next encoding
  split_too_large,   // 413: resend the halves
  split_refused,     // 400: resend the halves until the refused messages stand alone
  rejected,          // other 4xx, 501, 505, 511, 3xx, transport errors no retry can fix
};

// `http_status` is 0 when no answer came; `transport_ok` is false on a curl error, and then
// `transport_permanent` tells errors that another try cannot fix (the transport decides:
// CurlTransport's permanent_transport_error).
// `unproven_encoding`: the request was compressed with an encoding that has never had a 2xx
// from this endpoint, so a 400 may be the server not reading the encoding.
Outcome classify(long http_status, bool transport_ok, bool transport_permanent, bool unproven_encoding) noexcept;

// Statuses whose Retry-After header is honoured (slow down: pause the endpoint).
constexpr bool honours_retry_after(long http_status) noexcept { return http_status == 429 || http_status == 503; }
// The longest Retry-After obeyed; a longer one waits this long.
constexpr std::chrono::milliseconds retry_after_cap{300'000};

// Full jitter: uniform in [0, min(retry_max, retry_base * 2^(attempt-1))], then at least the
// server's Retry-After capped at retry_after_cap (not at retry_max: the server knows better).
// `attempt` counts tries made so far (>= 1).
std::chrono::milliseconds backoff(int attempt, std::chrono::milliseconds retry_base,
                                  std::chrono::milliseconds retry_max,
                                  std::optional<std::chrono::milliseconds> retry_after, std::mt19937_64& rng) noexcept;

// A Retry-After header value: delta-seconds or an HTTP date (relative to `now_unix_seconds`).
// nullopt when malformed. Past dates give 0.
std::optional<std::chrono::milliseconds> parse_retry_after(std::string_view value,
                                                           std::int64_t now_unix_seconds) noexcept;

// Messages whose refusal splitting is sized to isolate within one batch.
constexpr int split_isolates = 4;
// The extra requests splitting one batch of `messages` may make, 413 and 400 alike: enough to
// cut `split_isolates` refused messages out of it by halving (each costs at most two requests
// per halving, ceil(log2 n) halvings), at least 2 (one split). When it runs out, a piece that
// is still refused fails whole: a server that refuses everything costs bounded traffic.
int split_budget(std::size_t messages) noexcept;

}  // namespace htevents::inline v0::detail
