#pragma once
// RFC 3339 timestamps, as the wire format sends them. Does not allocate, lock or throw.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "common/fast_clock.hpp"

namespace htevents::inline v0::detail {

/// Bound on write_timestamp's output; the longest is 32 bytes
/// (`"2024-03-13T15:56:32.123456789Z"` with quotes).
constexpr std::size_t max_timestamp_size = 40;

/// Writes `t` as a quoted RFC 3339 UTC time: `"2009-11-10T23:00:00Z"`,
/// `"2024-03-13T15:56:32.1234567Z"`. The fraction carries the precision of the time_point
/// (nanoseconds with libstdc++, microseconds with libc++) with trailing zeros removed, and is
/// left out (with its `.`) when zero. Times before 1970 are written correctly (proleptic Gregorian).
/// Times outside 0000-01-01T00:00:00Z .. 9999-12-31T23:59:59Z are clamped to that range
/// (the fraction is dropped when clamping); with a nanosecond system_clock this cannot happen,
/// its range is years 1677-2262 (libc++'s microsecond one reaches past both ends).
///
/// `out` must have room for max_timestamp_size bytes: the bytes after the returned pointer,
/// up to out + max_timestamp_size, may be used as scratch. Keeps a per-thread cache of the
/// last second formatted, so successive calls within one second only copy a prefix.
/// Does not allocate memory. Thread-safe.
char* write_timestamp(char* out, std::chrono::system_clock::time_point t) noexcept;

/// The quoted time of the call to the millisecond, as write_timestamp writes it, formatted once
/// per millisecond: each producer (one thread at a time) owns one, so there is no thread-local
/// lookup per message. Where the clock has a TSC it also knows the ticks [first_tick_,
/// first_tick_ + ticks_) over which its text is still the time: inside them a message costs a
/// counter read, a compare and one fixed-size copy. The window is computed from a tick read
/// before fast_now()'s own, so it ends no later than its millisecond; ticks_ is 0 (every call
/// refreshes, which formats only when the millisecond changed) before calibration and without
/// a TSC. Does not allocate memory. Not thread-safe.
class NowText {
 public:
  /// Writes the time at `out`, which needs max_timestamp_size bytes (the bytes after the
  /// returned end are scratch), and returns the end.
  char* write(char* out) noexcept {
    std::uint64_t const tick = fast_clock_ticks();
    if (tick - first_tick_ >= ticks_) refresh(tick);  // a counter going back wraps: refresh
    std::memcpy(out, text_, copied);
    return out + length_;
  }

 private:
  // Every millisecond text ("2026-12-07T16:30:00.123Z" and its quotes, 26 bytes) in one copy
  // of a constant size.
  static constexpr std::size_t copied = 32;
  static_assert(copied <= max_timestamp_size);
  void refresh(std::uint64_t tick) noexcept;

  std::uint64_t first_tick_ = 0;
  std::uint64_t ticks_ = 0;
  std::int64_t millis_ = -1;
  std::size_t length_ = 0;
  char text_[max_timestamp_size] = {};
};

}  // namespace htevents::inline v0::detail
