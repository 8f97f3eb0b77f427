#pragma once
// Not part of the API: the JSON fragments of a message that the fast path writes, in one
// table shared by the inline writer (detail/writer_core.hpp) and its out-of-line half
// (src/message/writer.cpp), so that both write the same bytes. May change in any release.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace htevents {
inline namespace v0 {
namespace detail {

enum class MessageType : std::uint8_t { identify, track, page, screen, group, alias };

namespace wire {

// The opening of each message, up to the key of its head argument where it has one.
inline constexpr std::string_view identify_head = R"({"type":"identify")";
inline constexpr std::string_view track_head = R"({"type":"track","event":)";
inline constexpr std::string_view page_head = R"({"type":"page")";
inline constexpr std::string_view screen_head = R"({"type":"screen")";
inline constexpr std::string_view group_head = R"({"type":"group","groupId":)";
inline constexpr std::string_view alias_head = R"({"type":"alias","previousId":)";

// Top-level keys, with their leading comma and trailing colon.
inline constexpr std::string_view name_key = R"(,"name":)";
inline constexpr std::string_view user_id_key = R"(,"userId":)";
inline constexpr std::string_view anonymous_id_key = R"(,"anonymousId":)";
inline constexpr std::string_view message_id_key = R"(,"messageId":)";
inline constexpr std::string_view timestamp_key = R"(,"timestamp":)";

// The fields object: properties for track, page and screen; traits for identify and group.
inline constexpr std::string_view properties_open = R"(,"properties":{)";
inline constexpr std::string_view traits_open = R"(,"traits":{)";
inline constexpr std::size_t max_fields_open = std::max(properties_open.size(), traits_open.size());

// The longest head prefix of any type (page and screen: with the name key).
inline constexpr std::size_t max_head_prefix =
    std::max({identify_head.size(), track_head.size(), page_head.size() + name_key.size(),
              screen_head.size() + name_key.size(), group_head.size(), alias_head.size()});

// identify and group carry traits; the others properties.
constexpr bool has_traits(MessageType type) noexcept {
  return type == MessageType::identify || type == MessageType::group;
}
constexpr std::string_view fields_open(MessageType type) noexcept {
  return has_traits(type) ? traits_open : properties_open;
}

}  // namespace wire
}  // namespace detail
}  // namespace v0
}  // namespace htevents
