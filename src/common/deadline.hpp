#pragma once
// Deadlines that saturate. Users pass milliseconds::max() to mean "as long as it takes"; adding
// that to now() overflows steady_clock's nanoseconds (and then fails every queued message with
// `deadline` at once). Every deadline the library computes goes through here.

#include <chrono>
#include <cstdint>

namespace htevents::inline v0::detail {

// Far enough to mean "never" for a client, near enough that any later arithmetic on the result
// (nanosecond counts, poll timeouts, condition-variable waits) stays in range.
inline constexpr std::chrono::milliseconds longest_wait = std::chrono::hours(24 * 365 * 10);

// now + timeout, with a negative timeout meaning now and anything beyond longest_wait meaning
// now + longest_wait.
inline std::chrono::steady_clock::time_point deadline_after(std::chrono::milliseconds timeout,
                                                            std::chrono::steady_clock::time_point now) noexcept {
  if (timeout.count() <= 0) return now;
  return now + (timeout < longest_wait ? timeout : longest_wait);
}

inline std::chrono::steady_clock::time_point deadline_after(std::chrono::milliseconds timeout) noexcept {
  return deadline_after(timeout, std::chrono::steady_clock::now());
}

// steady_clock nanoseconds since its epoch, the form deadlines take in atomics.
inline std::int64_t to_ns(std::chrono::steady_clock::time_point t) noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

}  // namespace htevents::inline v0::detail
