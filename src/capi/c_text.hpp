#pragma once
// Handing text to C callers: snprintf's contract, and C's NULL-means-absent strings.

#include <cstddef>
#include <string_view>

namespace htevents::inline v0::detail {

// Copies as much of `text` as fits into `buffer` (size bytes, NUL included) and terminates it;
// writes nothing when size is 0 (buffer may then be NULL). Returns text.size(): a result >= size
// means the copy was truncated. Does not allocate.
std::size_t copy_to_c_buffer(std::string_view text, char* buffer, std::size_t size) noexcept;

// A C string argument as a view; NULL (absent) is the empty view.
inline std::string_view c_arg(char const* text) noexcept { return text == nullptr ? std::string_view{} : text; }

}  // namespace htevents::inline v0::detail
