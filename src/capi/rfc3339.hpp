#pragma once
// Reading RFC 3339 times, for the "timestamp" of htevents_enqueue_json (the C++ API takes a
// Timestamp; the wire format writes one with write_timestamp).

#include <optional>
#include <string_view>

#include "htevents/value.hpp"

namespace htevents::inline v0::detail {

// `YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM)`; 't' or a space may stand for 'T' and 'z'
// for 'Z' (RFC 3339, 5.6). The fraction is kept to the clock's precision. A leap second (:60)
// counts as the first second of the next minute. nullopt for anything else, or a date that
// does not exist. Does not allocate.
[[nodiscard]] std::optional<Timestamp> parse_rfc3339(std::string_view text) noexcept;

}  // namespace htevents::inline v0::detail
