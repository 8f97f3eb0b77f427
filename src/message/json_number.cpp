// JSON numbers: integers and the shortest round-trip form of doubles.
#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "htevents/detail/json_write.hpp"

namespace htevents::inline v0::detail {

char* write_integer(char* out, std::int64_t v) noexcept { return std::to_chars(out, out + max_integer_size, v).ptr; }

char* write_integer(char* out, std::uint64_t v) noexcept { return std::to_chars(out, out + max_integer_size, v).ptr; }

namespace {

constexpr std::array<char, 200> make_digit_pairs() noexcept {
  std::array<char, 200> pairs{};
  for (int i = 0; i < 100; ++i) {
    pairs[2 * i] = static_cast<char>('0' + i / 10);
    pairs[2 * i + 1] = static_cast<char>('0' + i % 10);
  }
  return pairs;
}
constexpr std::array<char, 200> digit_pairs = make_digit_pairs();  // "00" "01" ... "99"

// Prices, ratios and scores mostly have a few decimals: 29.99, 0.05, 1234.5. For those the
// shortest round-trip form is the integer round(v * 10^k) with a point k digits from the right,
// for the least k at which that decimal reads back as v. Both the integer (< 2^53) and 10^k are
// exact doubles and IEEE division is correctly rounded, so `r / 10^k == v` says exactly that
// the decimal parses to v. Trying k = 1..6 costs a few multiplies and divides: 4-5x cheaper
// than the general shortest-form search. nullptr when v needs more digits (or is tiny).
// Only for v that is not integral (write_double takes those first).
char* write_short_decimal(char* out, double v) noexcept {
  static constexpr double pow10[] = {1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6};
  static constexpr std::int64_t int_pow10[] = {1, 10, 100, 1000, 10000, 100000, 1000000};
  double const magnitude = std::fabs(v);
  if (!(magnitude >= 1e-6 && magnitude < 1e9)) return nullptr;
  for (int k = 1; k <= 6; ++k) {
    // Round to nearest (even) without a libm call: for |x| < 2^51, adding and subtracting
    // 1.5 * 2^52 leaves exactly the rounded integer (no -ffast-math here to fold it away).
    constexpr double round_magic = 6755399441055744.0;
    double const r = (v * pow10[k] + round_magic) - round_magic;
    if (r / pow10[k] != v) continue;
    if (v < 0) *out++ = '-';
    // Straight into `out`, no digits in a temporary to copy: the whole part (0 for 0.05), then
    // the point and exactly k digits, leading zeros included; at most 1 + 9 + 1 + 6 bytes.
    // The whole part is the truncated magnitude. The decimal r / 10^k is never an integer here
    // (it reads back as v, and write_double has written integral values already), so it is at
    // least 10^-6 from the integers on either side, while v, the double nearest to it, is
    // within half an ulp (under 1e9 * 2^-53, about 1.1e-7): both truncate to the same integer.
    auto const whole = static_cast<std::uint32_t>(magnitude);
    auto fraction = static_cast<std::uint32_t>(static_cast<std::int64_t>(std::fabs(r)) - whole * int_pow10[k]);
    out = std::to_chars(out, out + max_integer_size, whole).ptr;
    *out = '.';
    int i = k;
    for (; i >= 2; i -= 2) {
      std::memcpy(out + i - 1, &digit_pairs[2 * (fraction % 100)], 2);
      fraction /= 100;
    }
    if (i == 1) out[1] = static_cast<char>('0' + fraction);
    return out + k + 1;
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
