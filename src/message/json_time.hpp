#pragma once
// RFC 3339 timestamps, as the wire format sends them. Does not allocate, lock or throw.

#include <chrono>
#include <cstddef>

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

// Writes the quoted time of the call to the millisecond; the text is formatted once per
// millisecond per thread. `out` needs max_timestamp_size bytes.
char* write_now_timestamp(char* out) noexcept;

}  // namespace htevents::inline v0::detail
