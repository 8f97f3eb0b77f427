#pragma once
// A JSON object's text turned into an htevents::Object whose values are RawJson, for the C
// API's *_json arguments: the members keep their order and their text as written (numbers are
// not re-formatted), and each value is checked at enqueue like any RawJson, so malformed
// values answer Status::invalid_json there.

#include <simdjson.h>

#include <string_view>

#include "htevents/status.hpp"
#include "htevents/value.hpp"

namespace htevents::inline v0::detail {

// `json` must be one JSON object, with white space around it allowed. Members are appended to
// `out` with Object::set (a repeated key keeps its last value). Status::invalid_json when the
// text is not an object or its structure does not parse. Allocates (a padded copy of the text,
// the members); throws std::bad_alloc. Thread-safe (one parser per thread).
[[nodiscard]] Status parse_json_members(std::string_view json, Object& out);

// The same for an object met while iterating a larger document (htevents_enqueue_json).
[[nodiscard]] Status take_json_members(simdjson::ondemand::object& object, Object& out);

// The text of one value as written in the document (objects and arrays whole, scalars as
// their token), consuming it. False when it does not parse.
[[nodiscard]] bool raw_json_of(simdjson::ondemand::value& value, std::string_view& out) noexcept;

// True when the whole document has been read: nothing but white space follows the value
// (simdjson 3.0 has no document::at_end; current_location says OUT_OF_BOUNDS there).
[[nodiscard]] inline bool document_at_end(simdjson::ondemand::document& document) noexcept {
  return document.current_location().error() == simdjson::OUT_OF_BOUNDS;
}

}  // namespace htevents::inline v0::detail
