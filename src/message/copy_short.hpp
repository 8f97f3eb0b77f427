#pragma once
// A memcpy for the encoder's short, run-time-sized pieces.

#include <cstddef>
#include <cstring>

namespace htevents::inline v0::detail {

// memcpy for the short, run-time-sized literals of the encoder (keys with their punctuation,
// type prefixes): overlapping fixed-size moves instead of a libc call per piece.
inline void copy_short(char* dst, char const* src, std::size_t n) noexcept {
  if (n >= 8 && n <= 16) {
    std::memcpy(dst, src, 8);
    std::memcpy(dst + n - 8, src + n - 8, 8);
  } else if (n > 16 && n <= 32) {
    std::memcpy(dst, src, 16);
    std::memcpy(dst + n - 16, src + n - 16, 16);
  } else if (n >= 4 && n < 8) {
    std::memcpy(dst, src, 4);
    std::memcpy(dst + n - 4, src + n - 4, 4);
  } else if (n < 4) {
    for (std::size_t i = 0; i < n; ++i) dst[i] = src[i];
  } else {
    std::memcpy(dst, src, n);
  }
}

}  // namespace htevents::inline v0::detail
