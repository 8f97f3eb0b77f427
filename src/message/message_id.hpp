#pragma once
// Segment's limit on a user-given messageId, shared by the struct API (validate) and the fast
// path (WriterCore::message_id), so that both refuse the same ids.

#include <cstddef>
#include <string_view>

#include "message/json_string.hpp"

namespace htevents::inline v0::detail {

inline constexpr std::size_t max_message_id_characters = 100;

// More than 100 characters as sent. Ids of at most 100 bytes (generated UUIDs, almost every
// user id) are decided by their size alone; only longer ones are counted.
[[nodiscard]] inline bool message_id_too_long(std::string_view id) noexcept {
  return id.size() > max_message_id_characters && json_string_characters(id) > max_message_id_characters;
}

}  // namespace htevents::inline v0::detail
