#pragma once
// htevents_enqueue_json's input: one Segment-spec message object, read into the C++ message
// struct of its "type", so that it is validated and encoded exactly as the C++ API's are.

#include <string_view>
#include <variant>

#include "htevents/message.hpp"
#include "htevents/status.hpp"

namespace htevents::inline v0::detail {

using AnyMessage = std::variant<Identify, Track, Page, Screen, Group, Alias>;

// Reads `json` (one object; white space around it allowed). Status::invalid_json when it is
// not an object, has no known "type", holds a member the type does not take (sentAt and
// receivedAt are skipped: the client and the server set them), a member of the wrong JSON type
// (ids, names and messageId are strings; properties, traits, context and integrations objects;
// timestamp an RFC 3339 string; null means absent for all of them), or does not parse. The
// values inside the objects become RawJson, checked at enqueue. Allocates; throws
// std::bad_alloc. Thread-safe.
[[nodiscard]] Status parse_message_json(std::string_view json, AnyMessage& out);

}  // namespace htevents::inline v0::detail
