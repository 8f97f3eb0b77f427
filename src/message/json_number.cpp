// JSON numbers: integers and the shortest round-trip form of doubles.
#include <charconv>
#include <cmath>
#include <cstring>

#include "htevents/detail/json_write.hpp"

namespace htevents::inline v0::detail {

char* write_integer(char* out, std::int64_t v) noexcept { return std::to_chars(out, out + max_integer_size, v).ptr; }

char* write_integer(char* out, std::uint64_t v) noexcept { return std::to_chars(out, out + max_integer_size, v).ptr; }

namespace {

// Prices, ratios and scores mostly have a few decimals: 29.99, 0.05, 1234.5. For those the
// shortest round-trip form is the integer round(v * 10^k) with a point k digits from the right,
// for the least k at which that decimal reads back as v. Both the integer (< 2^53) and 10^k are
// exact doubles and IEEE division is correctly rounded, so `r / 10^k == v` says exactly that
// the decimal parses to v. Trying k = 1..6 costs a few multiplies and divides: 4-5x cheaper
// than the general shortest-form search. nullptr when v needs more digits (or is tiny).
char* write_short_decimal(char* out, double v) noexcept {
  static constexpr double pow10[] = {1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6};
  double const magnitude = std::fabs(v);
  if (!(magnitude >= 1e-6 && magnitude < 1e9)) return nullptr;
  for (int k = 1; k <= 6; ++k) {
    // Round to nearest (even) without a libm call: for |x| < 2^51, adding and subtracting
    // 1.5 * 2^52 leaves exactly the rounded integer (no -ffast-math here to fold it away).
    constexpr double round_magic = 6755399441055744.0;
    double const r = (v * pow10[k] + round_magic) - round_magic;
    if (r / pow10[k] != v) continue;
    auto const scaled = static_cast<std::int64_t>(std::fabs(r));
    if (v < 0) *out++ = '-';
    char digits[24];
    char* const digits_end = std::to_chars(digits, digits + sizeof digits, scaled).ptr;
    auto const n = static_cast<int>(digits_end - digits);
    if (n <= k) {  // 0.0ddd: leading zeros after the point
      *out++ = '0';
      *out++ = '.';
      for (int z = 0; z < k - n; ++z) *out++ = '0';
      std::memcpy(out, digits, static_cast<std::size_t>(n));
      return out + n;
    }
    std::memcpy(out, digits, static_cast<std::size_t>(n - k));
    out += n - k;
    *out++ = '.';
    std::memcpy(out, digits + (n - k), static_cast<std::size_t>(k));
    return out + k;
  }
  return nullptr;
}

}  // namespace

char* write_double(char* out, double v) noexcept {
  // From 9e18 on, the shortest form may be a long run of digits ("33935263963869904896"):
  // parsers that read digit-only tokens as integers reject or mangle those above 64 bits
  // (simdjson 3.0 fails with NUMBER_ERROR). Force the exponent form there; below, digit-only
  // tokens fit an int64 and mean the same number either way.
  // Integral values (counts, ids stored as double) skip the shortest-form search: same number,
  // 5x faster. Kept to |v| <= 2^53, where every integer is exact; -0.0 keeps its sign below.
  if (v >= -9007199254740992.0 && v <= 9007199254740992.0) {
    auto const i = static_cast<std::int64_t>(v);
    if (static_cast<double>(i) == v && (i != 0 || !std::signbit(v))) return write_integer(out, i);
  }
  if (v >= 9e18 || v <= -9e18) return std::to_chars(out, out + max_double_size, v, std::chars_format::scientific).ptr;
  if (char* fast = write_short_decimal(out, v)) return fast;
  return std::to_chars(out, out + max_double_size, v).ptr;
}

}  // namespace htevents::inline v0::detail
