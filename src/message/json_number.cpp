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

// Round to nearest (even) without a libm call: for |x| < 2^51, adding and subtracting 1.5 * 2^52
// leaves exactly the rounded integer (no -ffast-math here to fold it away).
double round_small(double x) noexcept {
  constexpr double round_magic = 6755399441055744.0;
  return (x + round_magic) - round_magic;
}

constexpr std::uint64_t power_of_ten(int k) noexcept {
  std::uint64_t p = 1;
  for (int i = 0; i < k; ++i) p *= 10;
  return p;
}

// `whole.fraction` with exactly K fraction digits (leading zeros included) and a `-` when
// negative: at most 1 + 9 + 1 + 6 bytes, straight into `out`. whole < 1e9, fraction < 10^K; K is
// a constant, so the divisions are multiplies.
template <int K>
char* write_decimal_parts(char* out, bool negative, std::uint32_t whole, std::uint32_t fraction) noexcept {
  if (fraction >= power_of_ten(K)) __builtin_unreachable();  // the caller's promise: fewer divisions below
  if (negative) *out++ = '-';
  // The whole part: one or two digits inline, as most prices and ratios have.
  if (whole < 10) {
    *out++ = static_cast<char>('0' + whole);
  } else if (whole < 100) {
    std::memcpy(out, &digit_pairs[2 * whole], 2);
    out += 2;
  } else {
    out = std::to_chars(out, out + max_integer_size, whole).ptr;
  }
  *out = '.';
  int i = K;
  for (; i >= 2; i -= 2) {
    std::memcpy(out + i - 1, &digit_pairs[2 * (fraction % 100)], 2);
    fraction /= 100;
  }
  if (i == 1) out[1] = static_cast<char>('0' + fraction);
  return out + K + 1;
}

// The decimal digits / 10^K (K >= 1, not an integer): write_decimal_parts of its whole part and
// its K fraction digits.
template <int K>
char* write_decimal(char* out, bool negative, std::uint64_t digits) noexcept {
  constexpr std::uint64_t scale = power_of_ten(K);
  return write_decimal_parts<K>(out, negative, static_cast<std::uint32_t>(digits / scale),
                                static_cast<std::uint32_t>(digits % scale));
}

// Prices, ratios, scores and counts mostly have a few decimals or none: 29.99, 0.05, 1234.5, 3.
// For those the shortest round-trip form is the integer r = round(v * 10^k) with a point k
// digits from the right, for the least k at which that decimal reads back as v. Both r and
// 10^k are exact doubles and IEEE division is correctly rounded, so `r / 10^k == v` says exactly
// that the decimal parses to v. Below 1e9 there is at most one such r for each k (v's rounding
// interval is one ulp, under 1.2e-7: scaled by 10^6 it holds at most one integer), so when a
// decimal of fewer places reads back as v, it is r's digits without their trailing zeros, and
// one test at k = 2 decides k = 0, 1 and 2.
// Then k = 3..6. 4-5x cheaper than the general shortest-form search; nullptr when v needs more
// digits. For 1e-6 <= |v| < 1e9 only (the caller checks).
char* write_short_decimal(char* out, double v) noexcept {
  bool const negative = v < 0;
  // |r| < 1e15: through int64, which x86-64 converts in one instruction (uint64 takes a test and a branch).
  auto const digits = [](double r) noexcept {
    return static_cast<std::uint64_t>(static_cast<std::int64_t>(std::fabs(r)));
  };
  if (double const r = round_small(v * 100); r / 100 == v) {
    // One division gives the whole part and the cents that decide between the three forms.
    std::uint64_t const hundredths = digits(r);
    auto const whole = static_cast<std::uint32_t>(hundredths / 100);
    auto const cents = static_cast<std::uint32_t>(hundredths - std::uint64_t{whole} * 100);
    if (cents == 0) {  // v is an integer
      if (negative) *out++ = '-';
      return write_integer(out, std::uint64_t{whole});
    }
    if (cents % 10 == 0) return write_decimal_parts<1>(out, negative, whole, cents / 10);
    return write_decimal_parts<2>(out, negative, whole, cents);
  }
  if (double const r = round_small(v * 1e3); r / 1e3 == v) return write_decimal<3>(out, negative, digits(r));
  if (double const r = round_small(v * 1e4); r / 1e4 == v) return write_decimal<4>(out, negative, digits(r));
  if (double const r = round_small(v * 1e5); r / 1e5 == v) return write_decimal<5>(out, negative, digits(r));
  if (double const r = round_small(v * 1e6); r / 1e6 == v) return write_decimal<6>(out, negative, digits(r));
  return nullptr;
}

}  // namespace

char* write_double(char* out, double v) noexcept {
  // Most numbers (see write_short_decimal) first; -0.0 and 0 are below its range.
  if (double const magnitude = std::fabs(v); magnitude >= 1e-6 && magnitude < 1e9) {
    if (char* fast = write_short_decimal(out, v)) return fast;
    return std::to_chars(out, out + max_double_size, v).ptr;
  }
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
  return std::to_chars(out, out + max_double_size, v).ptr;
}

}  // namespace htevents::inline v0::detail
