#pragma once
/// What enqueue answers. The hot path returns this enum; to_string gives a sentence to act on.

#include <cstdint>
#include <string_view>

#include "htevents/export.hpp"

namespace htevents {
inline namespace v0 {

enum class Status : std::uint8_t {
  ok = 0,               ///< accepted: it will be delivered or handed to on_failure
  missing_user_id,      ///< neither user_id nor anonymous_id (alias: user_id) was set
  missing_event,        ///< track without an event name
  missing_group_id,     ///< group without a group_id
  missing_previous_id,  ///< alias without a previous_id
  invalid_number,       ///< a NaN or infinite double: JSON has no form for it
  invalid_json,         ///< a RawJson value that does not parse
  message_too_large,    ///< the encoded message is longer than Config::max_message_bytes
  queue_full,           ///< max_queue_bytes is used up and the backpressure policy refused it
  closed,               ///< close() was called: the client accepts nothing more
  invalid_usage,        ///< fast path: a top-level field set after the first property()/trait()
  invalid_message_id,   ///< a user-given message_id longer than 100 characters (Segment's limit)
  forked,               ///< the client was created in another process (before fork()): it sends nothing here
};

/// Number of Status values, for per-status counters.
inline constexpr std::size_t status_count = 13;

/// A sentence naming the problem and what to do about it. Static storage; does not allocate.
[[nodiscard]] HTEVENTS_EXPORT std::string_view to_string(Status status) noexcept;

}  // namespace v0
}  // namespace htevents
