#pragma once
// UTF-8 sequence checks shared by the JSON string writer (json_string.cpp) and the raw JSON
// check (json_validation.cpp), so that both accept exactly the same bytes.

#include <cstddef>

namespace htevents::inline v0::detail {

using uchar = unsigned char;

constexpr bool is_continuation(uchar c) noexcept { return (c & 0xC0) == 0x80; }

// Length of the valid UTF-8 sequence starting at p[0] >= 0x80, or 0 if p[0] does not start one.
// Same acceptance as Go's utf8.DecodeRuneInString (RFC 3629 well-formed table).
inline std::size_t utf8_sequence_size(const uchar* p, std::size_t avail) noexcept {
  uchar const c = p[0];
  if (c < 0xC2) return 0;  // stray continuation, or C0/C1 (always overlong)
  if (c < 0xE0) return avail >= 2 && is_continuation(p[1]) ? 2 : 0;
  if (c < 0xF0) {
    if (avail < 3) return 0;
    uchar const lo = c == 0xE0 ? 0xA0 : 0x80;  // E0 80..9F would be overlong
    uchar const hi = c == 0xED ? 0x9F : 0xBF;  // ED A0..BF would be a surrogate
    return p[1] >= lo && p[1] <= hi && is_continuation(p[2]) ? 3 : 0;
  }
  if (c < 0xF5) {
    if (avail < 4) return 0;
    uchar const lo = c == 0xF0 ? 0x90 : 0x80;  // F0 80..8F would be overlong
    uchar const hi = c == 0xF4 ? 0x8F : 0xBF;  // F4 90.. would be above U+10FFFF
    return p[1] >= lo && p[1] <= hi && is_continuation(p[2]) && is_continuation(p[3]) ? 4 : 0;
  }
  return 0;  // F5..FF never appear in UTF-8
}

}  // namespace htevents::inline v0::detail
