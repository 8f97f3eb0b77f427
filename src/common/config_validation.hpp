#pragma once
// What validate(Config) guarantees, in numbers the rest of the library sizes things with.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <limits>

#include "htevents/config.hpp"

namespace htevents::inline v0::detail {

// Segment's API takes at most this many messages per batch.
inline constexpr std::size_t max_batch_size = 2'500;
// Batch bodies are handed to zlib (32-bit buffer sizes, with deflateBound's slack on top) and
// messages are located in them by 32-bit offsets: 2 GiB keeps both far from wrapping.
inline constexpr std::size_t max_supported_batch_bytes = std::size_t{1} << 31;
// With a spool a record's length shares its frame's field with two flags (spool/format.hpp);
// its arena block, a few KiB more, must stay under the reader's 1 GiB slot bound.
inline constexpr std::size_t max_spooled_message_bytes = std::size_t{1} << 28;
// Room the batch envelope may take next to one message of max_message_bytes.
inline constexpr std::size_t envelope_allowance = 4096;
// The longest duration a Config field may hold: the client adds these to steady_clock time
// points (nanoseconds), doubles retry_base, and hands request_timeout to libcurl as a `long`,
// which is 32 bits on some platforms. About 24.8 days.
inline constexpr std::chrono::milliseconds max_config_duration{std::numeric_limits<std::int32_t>::max()};

// Bytes of one arena block: room for the largest message plus the slack of number
// reservations, rounded up to 4 KiB, at least 64 KiB. Meaningful only for a validated config
// (max_message_bytes is then small enough for the sum not to wrap).
[[nodiscard]] std::size_t block_capacity_for(Config const& config) noexcept;

}  // namespace htevents::inline v0::detail
