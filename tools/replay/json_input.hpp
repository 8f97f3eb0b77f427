#pragma once
// Reading user input into htevents values: JSON text (flags, NDJSON sub-documents) into Object,
// and RFC 3339 timestamps. Shared by `htevents-cpp send` and `htevents-cpp replay`.

#include <simdjson.h>

#include <optional>
#include <string>
#include <string_view>

#include "htevents/value.hpp"

namespace htevents::replay {

/// Converts one On Demand value into a Value, recursively: objects keep their key order, numbers
/// become int64, uint64 or double (integers beyond 64 bits stay RawJson text). Consumes the
/// value. Returns simdjson's error code for malformed JSON. Allocates (strings, members).
simdjson::error_code to_value(simdjson::ondemand::value json, Value& out) noexcept;
/// Same for an object.
simdjson::error_code to_object(simdjson::ondemand::object json, Object& out) noexcept;

/// Parses `text` as one JSON object into `out`. Returns an empty string on success, else why
/// ("not JSON: ...", "not a JSON object"). Allocates (a padded copy of `text`).
std::string parse_object(std::string_view text, Object& out);

/// Parses an RFC 3339 date-time ("2026-11-26T10:00:00.123Z", "...+02:00"; 't', 'z' and a space
/// separator are accepted too; fractions to nanoseconds). Nothing else is accepted.
/// Does not allocate.
std::optional<Timestamp> parse_rfc3339(std::string_view text) noexcept;

}  // namespace htevents::replay
