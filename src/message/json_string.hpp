#pragma once
// JSON strings. Escaping and its size are declared in include/htevents/detail/json_write.hpp
// (the fast-path writer inlines write_json_string_fixed); this adds what only the library uses.

#include <cstddef>
#include <string_view>

#include "htevents/detail/json_write.hpp"

namespace htevents::inline v0::detail {

/// Characters (Unicode code points) of `s` as write_json_string sends it: one per valid UTF-8
/// sequence, and one per byte it replaces with U+FFFD. Does not allocate memory.
[[nodiscard]] std::size_t json_string_characters(std::string_view s) noexcept;

}  // namespace htevents::inline v0::detail
