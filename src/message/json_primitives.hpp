// Hot-path JSON primitives used by the message encoder.
//
// Every writer takes a pointer into a buffer that the caller has already sized, writes its
// output there and returns the pointer one past the last byte written. None of them allocates,
// locks, throws or makes a system call (is_valid_json allocates on first use per thread).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "htevents/detail/json_write.hpp"

namespace htevents::inline v0::detail {

// Strings and numbers: include/htevents/detail/json_write.hpp (the fast-path writer inlines them).

// ---- Time ---------------------------------------------------------------------------------

/// Bound on write_timestamp's output; the longest is 32 bytes
/// (`"2024-03-13T15:56:32.123456789Z"` with quotes).
constexpr std::size_t max_timestamp_size = 40;

/// Writes `t` as a quoted RFC 3339 UTC time: `"2009-11-10T23:00:00Z"`,
/// `"2024-03-13T15:56:32.1234567Z"`. The fraction carries the precision of the time_point
/// (nanoseconds with libstdc++ on Linux) with trailing zeros removed, and is left out
/// (with its `.`) when zero. Times before 1970 are written correctly (proleptic Gregorian).
/// Times outside 0000-01-01T00:00:00Z .. 9999-12-31T23:59:59Z are clamped to that range
/// (the fraction is dropped when clamping); with a nanosecond system_clock this cannot happen,
/// its range is years 1677-2262.
///
/// `out` must have room for max_timestamp_size bytes: the bytes after the returned pointer,
/// up to out + max_timestamp_size, may be used as scratch. Keeps a per-thread cache of the
/// last second formatted, so successive calls within one second only copy a prefix.
/// Does not allocate memory. Thread-safe.
char* write_timestamp(char* out, std::chrono::system_clock::time_point t) noexcept;

// ---- Ids ----------------------------------------------------------------------------------

/// Random (version 4) UUIDs, as 36 lowercase characters without quotes:
/// `xxxxxxxx-xxxx-4xxx-Yxxx-xxxxxxxxxxxx` with Y in 8, 9, a, b.
///
/// Generation is pure arithmetic (xoshiro256**, 122 random bits per id); the only system call
/// is std::random_device in the default constructor. Not thread-safe: keep one per thread
/// (`thread_local` in the caller). Not cryptographically secure: ids are unique, not secret.
/// A process that fork()s must not keep using a generator created before the fork in both
/// parent and child: the two would produce the same ids.
class UuidGenerator {
 public:
  /// Seeds from std::random_device, mixed with a process-wide counter, the object's address
  /// and the clocks, so two generators never share a stream even if random_device is weak
  /// or fails. Does not allocate memory.
  UuidGenerator() noexcept;
  /// Deterministic stream for tests: the same seed gives the same ids.
  explicit UuidGenerator(std::uint64_t seed) noexcept;

  static constexpr std::size_t size = 36;

  /// Writes one id (exactly `size` bytes) and returns out + size. Does not allocate memory.
  char* write(char* out) noexcept;

 private:
  std::uint64_t next() noexcept;
  void seed(std::uint64_t a, std::uint64_t b) noexcept;

  std::uint64_t state_[4]{};
};

// ---- Characters ---------------------------------------------------------------------------

/// Characters (Unicode code points) of `s` as write_json_string sends it: one per valid UTF-8
/// sequence, and one per byte it replaces with U+FFFD. Does not allocate memory.
[[nodiscard]] std::size_t json_string_characters(std::string_view s) noexcept;

// ---- Raw JSON -----------------------------------------------------------------------------

/// True if `text` is exactly one valid JSON value, optionally surrounded by JSON whitespace,
/// with valid UTF-8 throughout. Uses a thread_local simdjson::dom::parser that is reused: it
/// allocates on first use per thread and when `text` is larger than any seen before on that
/// thread. False for nesting deeper than 1024. Numbers simdjson cannot hold (`1e400`, integers
/// beyond 64 bits) are judged by the JSON grammar alone, as Go's json.Valid does: accepted when
/// well formed. Thread-safe.
[[nodiscard]] bool is_valid_json(std::string_view text) noexcept;

}  // namespace htevents::inline v0::detail
