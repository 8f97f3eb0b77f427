#pragma once
// htevents_config_set's keys: each Config field that has a text form, by name.

#include <string_view>

#include "htevents/config.hpp"

namespace htevents::inline v0::detail {

// Parses `value` for the field named `key` and stores it in `config`. HTEVENTS_OK,
// HTEVENTS_UNKNOWN_KEY, or HTEVENTS_INVALID_VALUE (the text does not parse for that field; the
// field keeps its value). Whether a parsed value is usable is left to validate(Config), as in
// C++. Allocates for the string fields and default_context; throws std::bad_alloc.
[[nodiscard]] int set_config_field(Config& config, std::string_view key, std::string_view value);

}  // namespace htevents::inline v0::detail
