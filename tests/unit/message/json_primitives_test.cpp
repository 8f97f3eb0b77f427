#include "message/json_primitives.hpp"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <algorithm>
#include <bit>
#include <cfloat>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <ctime>
#include <limits>
#include <random>
#include <ratio>
#include <regex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "capi/rfc3339.hpp"
#include "support/reference_json.hpp"

namespace {

using namespace std::string_literals;
using namespace std::string_view_literals;
namespace hd = htevents::detail;
using htevents::testing::reference_json;
using htevents::testing::reference_sanitize;

constexpr char guard = '\x5a';
constexpr std::size_t guard_size = 64;

// Runs write_json_string into a buffer of exactly json_string_size bytes followed by guard
// bytes, and checks the size contract on the way.
std::string encode(std::string_view s) {
  std::size_t const size = hd::json_string_size(s);
  EXPECT_LE(size, hd::max_json_string_size(s.size()));
  std::string buffer(size + guard_size, guard);
  char* const end = hd::write_json_string(buffer.data(), s);
  EXPECT_EQ(static_cast<std::size_t>(end - buffer.data()), size) << "input: " << testing::PrintToString(s);
  EXPECT_EQ(buffer.substr(size), std::string(guard_size, guard)) << "wrote past the exact size";
  buffer.resize(std::min(size, static_cast<std::size_t>(end - buffer.data())));
  return buffer;
}

// '"' + body + '"'. Built with append: GCC 12 at -O3 reports a bogus -Wrestrict (GCC bug 105329)
// for `"literal" + std::string&&`, which -Werror makes fatal.
std::string in_quotes(std::string_view body) {
  std::string out;
  out.reserve(body.size() + 2);
  out += '"';
  out.append(body);
  out += '"';
  return out;
}

// Parses `json` as one JSON string value; returns false if it does not parse.
bool parse_string(std::string const& json, std::string& value) {
  static simdjson::dom::parser parser;
  std::string_view view;
  if (parser.parse(json).get_string().get(view) != simdjson::SUCCESS) return false;
  value.assign(view);
  return true;
}

bool parse_double(std::string_view text, double& value) {
  static simdjson::dom::parser parser;
  return parser.parse(text.data(), text.size()).get_double().get(value) == simdjson::SUCCESS;
}

// Encodes, checks the exact bytes against the reference and that simdjson reads back the
// sanitized input.
void check_round_trip(std::string_view s) {
  std::string const json = encode(s);
  EXPECT_EQ(json, reference_json(s)) << "input: " << testing::PrintToString(s);
  std::string parsed;
  ASSERT_TRUE(parse_string(json, parsed)) << json;
  EXPECT_EQ(parsed, reference_sanitize(s));
}

// ---- Strings ------------------------------------------------------------------------------

TEST(JsonString, WritesEmptyString) { EXPECT_EQ(encode(""), "\"\""); }

TEST(JsonString, CopiesPlainAsciiOfEveryLength) {
  std::string s;
  for (int n = 0; n < 100; ++n) {
    EXPECT_EQ(encode(s), in_quotes(s));
    s += static_cast<char>('a' + n % 26);
  }
}

TEST(JsonString, EscapesEveryControlCharacter) {
  std::string const named[0x20] = {
      "\\u0000", "\\u0001", "\\u0002", "\\u0003", "\\u0004", "\\u0005", "\\u0006", "\\u0007",
      "\\b",     "\\t",     "\\n",     "\\u000b", "\\f",     "\\r",     "\\u000e", "\\u000f",
      "\\u0010", "\\u0011", "\\u0012", "\\u0013", "\\u0014", "\\u0015", "\\u0016", "\\u0017",
      "\\u0018", "\\u0019", "\\u001a", "\\u001b", "\\u001c", "\\u001d", "\\u001e", "\\u001f"};
  for (int c = 0; c < 0x20; ++c) {
    std::string const in(1, static_cast<char>(c));
    EXPECT_EQ(encode(in), in_quotes(named[c])) << "byte " << c;
    // Also inside a long string, where the block paths see it at every position.
    for (std::size_t pos = 0; pos < 40; ++pos) {
      std::string long_in(40, 'x');
      long_in[pos] = static_cast<char>(c);
      std::string body(pos, 'x');
      body.append(named[c]).append(39 - pos, 'x');
      EXPECT_EQ(encode(long_in), in_quotes(body));
    }
    check_round_trip(in);
  }
}

TEST(JsonString, EscapesQuoteAndBackslash) {
  EXPECT_EQ(encode("\""), R"("\"")");
  EXPECT_EQ(encode("\\"), R"("\\")");
  EXPECT_EQ(encode(R"(say "hi" \o/)"), R"("say \"hi\" \\o/")");
  check_round_trip(R"(C:\path\"quoted"\)");
}

TEST(JsonString, CopiesDeleteAndSlashUnescaped) {
  EXPECT_EQ(encode("\x7f/"), "\"\x7f/\"");
}

TEST(JsonString, KeepsValidMultiByteUtf8) {
  for (std::string_view s : {"\xC2\x80"sv, "caf\xC3\xA9"sv, "\xDF\xBF"sv, "\xE0\xA0\x80"sv, "\xE2\x82\xAC"sv,
                             "\xED\x9F\xBF"sv, "\xEE\x80\x80"sv, "\xEF\xBF\xBF"sv, "\xF0\x90\x80\x80"sv,
                             "\xF0\x9F\x98\x80 emoji"sv, "\xF4\x8F\xBF\xBF"sv, "\xE2\x80\xA8\xE2\x80\xA9"sv,
                             "\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E\xE3\x81\xA7\xE3\x81\x99\xE3\x80\x82 mixed ascii"sv}) {
    EXPECT_EQ(encode(s), in_quotes(s)) << testing::PrintToString(s);
    check_round_trip(s);
  }
}

TEST(JsonString, ReplacesInvalidUtf8WithReplacementChar) {
  std::string const r = "\xEF\xBF\xBD";
  struct Case {
    std::string_view in;
    std::string out;
  };
  std::vector<Case> const cases = {
      {"\x80", r},                                  // lone continuation
      {"\xBF", r},                                  // lone continuation
      {"a\x80z", "a" + r + "z"},                    // continuation between ASCII
      {"\xC0\x80", r + r},                          // overlong NUL
      {"\xC1\xBF", r + r},                          // overlong 2-byte
      {"\xE0\x80\x80", r + r + r},                  // overlong 3-byte
      {"\xE0\x9F\xBF", r + r + r},                  // overlong 3-byte (top)
      {"\xF0\x80\x80\x80", r + r + r + r},          // overlong 4-byte
      {"\xF0\x8F\xBF\xBF", r + r + r + r},          // overlong 4-byte (top)
      {"\xED\xA0\x80", r + r + r},                  // surrogate U+D800
      {"\xED\xBF\xBF", r + r + r},                  // surrogate U+DFFF
      {"\xED\xA0\xBD\xED\xB8\x80", r + r + r + r + r + r},  // CESU-8 surrogate pair
      {"\xF4\x90\x80\x80", r + r + r + r},          // U+110000
      {"\xF5\x80\x80\x80", r + r + r + r},          // lead F5
      {"\xFE", r},                                  // FE
      {"\xFF", r},                                  // FF
      {"\xC3", r},                                  // truncated 2-byte at end
      {"\xE2\x82", r + r},                          // truncated 3-byte at end
      {"\xF0\x9F\x98", r + r + r},                  // truncated 4-byte at end
      {"\xE2\x82" "A", r + r + "A"},                // truncated by ASCII
      {"\xC3" "\xC3\xA9", r + "\xC3\xA9"},          // truncated by another lead, which is kept
      {"\xF0\x9F\x98\"", r + r + r + "\\\""},       // truncated by a quote, which is escaped
      {"ok \xFF\xFE ok", "ok " + r + r + " ok"},
  };
  for (auto const& c : cases) {
    EXPECT_EQ(encode(c.in), in_quotes(c.out)) << testing::PrintToString(c.in);
    check_round_trip(c.in);
    // The same at an odd offset inside a long string (block paths).
    std::string const padded = std::string(21, 'p') + std::string(c.in) + std::string(19, 'q');
    std::string body(21, 'p');
    body.append(c.out).append(19, 'q');
    EXPECT_EQ(encode(padded), in_quotes(body));
  }
}

TEST(JsonString, SizeMatchesBytesWrittenForRandomInputs) {
  std::mt19937_64 rng(20240313);
  std::string const pieces[] = {"a", "Z", " ", "\"", "\\", "\n", "\x01", "\x1f", "\x7f", "\xC3\xA9",
                                "\xE2\x82\xAC", "\xF0\x9F\x98\x80", "\x80", "\xC0\x80", "\xED\xA0\x80",
                                "\xF4\x90\x80\x80", "\xE2\x82", "\xFF", "0123456789abcdef"};
  for (int iteration = 0; iteration < 20000; ++iteration) {
    std::string s;
    auto const len = rng() % 80;
    int const mode = static_cast<int>(rng() % 3);
    for (std::size_t i = 0; i < len; ++i) {
      if (mode == 0) {
        s += static_cast<char>(rng() & 0xff);  // raw bytes
      } else if (mode == 1) {
        s += pieces[rng() % std::size(pieces)];  // structured mix
      } else {
        s += (rng() % 16 == 0) ? pieces[rng() % std::size(pieces)] : std::string(1, static_cast<char>('a' + rng() % 26));
      }
    }
    check_round_trip(s);
    if (testing::Test::HasFailure()) FAIL() << "iteration " << iteration;
  }
}

TEST(JsonString, MaxSizeBoundsWorstCase) {
  std::string const s(50, '\x01');
  EXPECT_EQ(hd::json_string_size(s), hd::max_json_string_size(s.size()));
  EXPECT_EQ(encode(s).size(), 6 * 50 + 2u);
}

// ---- Integers -----------------------------------------------------------------------------

// What `write` puts in a buffer of max_integer_size for `v`.
template <class Int>
std::string written(char* (*write)(char*, Int), Int v) {
  char buf[hd::max_integer_size];
  return {buf, write(buf, v)};
}
std::string integer(std::int64_t v) { return written(hd::write_integer, v); }
std::string integer(std::uint64_t v) { return written(hd::write_integer, v); }

TEST(Integer, WritesExtremes) {
  EXPECT_EQ(integer(std::numeric_limits<std::int64_t>::min()), "-9223372036854775808");
  EXPECT_EQ(integer(std::numeric_limits<std::int64_t>::max()), "9223372036854775807");
  EXPECT_EQ(integer(std::numeric_limits<std::uint64_t>::max()), "18446744073709551615");
  EXPECT_EQ(integer(std::int64_t{0}), "0");
  EXPECT_EQ(integer(std::uint64_t{0}), "0");
  EXPECT_EQ(integer(std::int64_t{-1}), "-1");
}

TEST(Integer, MatchesToStringAroundPowersOfTen) {
  std::uint64_t p = 1;
  for (int i = 0; i < 20; ++i, p *= 10) {
    for (std::uint64_t v : {p - 1, p, p + 1}) {
      EXPECT_EQ(integer(v), std::to_string(v));
      auto const sv = static_cast<std::int64_t>(v);
      EXPECT_EQ(integer(sv), std::to_string(sv));
      EXPECT_EQ(integer(-sv), std::to_string(-sv));
    }
  }
}

std::string inline_integer(std::int64_t v) { return written(hd::write_integer_inline, v); }
std::string inline_integer(std::uint64_t v) { return written(hd::write_integer_inline, v); }

// write_integer_inline writes values below 100 itself and calls write_integer for the rest:
// every value either side of those two cuts, and the extremes, as std::to_string writes them.
TEST(Integer, InlineFormMatchesToStringAcrossItsCuts) {
  for (std::int64_t v = -120; v <= 1100; ++v) {
    EXPECT_EQ(inline_integer(v), std::to_string(v));
    if (v >= 0) {
      EXPECT_EQ(inline_integer(static_cast<std::uint64_t>(v)), std::to_string(v));
    }
  }
  for (std::int64_t v : {std::numeric_limits<std::int64_t>::min(), std::numeric_limits<std::int64_t>::max()}) {
    EXPECT_EQ(inline_integer(v), std::to_string(v));
  }
  EXPECT_EQ(inline_integer(std::numeric_limits<std::uint64_t>::max()), "18446744073709551615");
}

// ---- Doubles ------------------------------------------------------------------------------

std::string dbl(double v) {
  char buf[hd::max_double_size];
  return {buf, hd::write_double(buf, v)};
}

void expect_parses_back(double v) {
  std::string const text = dbl(v);
  double parsed = 0;
  ASSERT_TRUE(parse_double(text, parsed)) << text;
  EXPECT_EQ(std::bit_cast<std::uint64_t>(parsed), std::bit_cast<std::uint64_t>(v)) << text;
  EXPECT_EQ(std::bit_cast<std::uint64_t>(std::strtod(text.c_str(), nullptr)), std::bit_cast<std::uint64_t>(v)) << text;
}

TEST(Double, WritesShortestForm) {
  EXPECT_EQ(dbl(29.99), "29.99");
  EXPECT_EQ(dbl(100.0), "100");
  EXPECT_EQ(dbl(0.1), "0.1");
  EXPECT_EQ(dbl(1e21), "1e+21");
  EXPECT_EQ(dbl(1e-7), "1e-07");
  EXPECT_EQ(dbl(-1.5), "-1.5");
  EXPECT_EQ(dbl(1e15), "1000000000000000");  // integral: written as an integer
  EXPECT_EQ(dbl(9007199254740992.0), "9007199254740992");
  EXPECT_EQ(dbl(-42.0), "-42");
  EXPECT_EQ(dbl(0.0), "0");
}

TEST(Double, WritesFewDecimalsWithLeadingZerosAfterThePoint) {
  // write_double's short decimal form, written straight into the output.
  EXPECT_EQ(dbl(0.05), "0.05");
  EXPECT_EQ(dbl(-0.05), "-0.05");
  EXPECT_EQ(dbl(0.000001), "0.000001");
  EXPECT_EQ(dbl(-0.000001), "-0.000001");
  EXPECT_EQ(dbl(0.000123), "0.000123");
  EXPECT_EQ(dbl(0.100001), "0.100001");
  EXPECT_EQ(dbl(0.5), "0.5");
  EXPECT_EQ(dbl(123.456), "123.456");
  EXPECT_EQ(dbl(1234.5), "1234.5");
  EXPECT_EQ(dbl(12345678.123456), "12345678.123456");
  EXPECT_EQ(dbl(999999999.5), "999999999.5");
  // Past the short form's range or digits: std::to_chars's shortest form.
  EXPECT_EQ(dbl(1e-7), "1e-07");
  EXPECT_EQ(dbl(0.0000015), "1.5e-06");
  EXPECT_EQ(dbl(1234567890.5), "1234567890.5");
  EXPECT_EQ(dbl(0.1 + 0.2), "0.30000000000000004");
}

TEST(Double, WritesDecimalsOfUpToFifteenDigitsAsTheirText) {
  // v = m / 10^k with at most 15 significant digits, m not a multiple of 10, |v| < 1e9: the
  // shortest text that reads back as v is that decimal itself (15 digits always round-trip),
  // so the expected text is built from m's digits, independently of write_double.
  std::mt19937_64 rng(20250612);
  constexpr std::uint64_t pow10[] = {1, 10, 100, 1000, 10000, 100000, 1000000};
  for (int i = 0; i < 1000000; ++i) {
    auto const k = static_cast<std::size_t>(1 + rng() % 6);
    std::uint64_t const limit = std::min<std::uint64_t>(1000000000 * pow10[k], 1000000000000000);
    std::uint64_t m = (rng() >> (rng() % 64)) % limit;
    if (m % 10 == 0) m += 1 + rng() % 9;
    bool const negative = (rng() & 1) != 0;
    double const magnitude = static_cast<double>(m) / static_cast<double>(pow10[k]);
    std::string const digits = std::to_string(m);
    std::string expected = negative ? "-" : "";
    if (digits.size() <= k) {
      expected.append("0.").append(k - digits.size(), '0').append(digits);
    } else {
      expected.append(digits, 0, digits.size() - k).append(".").append(digits, digits.size() - k);
    }
    ASSERT_EQ(dbl(negative ? -magnitude : magnitude), expected) << "m " << m << ", k " << k;
  }
}

TEST(Double, NeighboursOfShortDecimalsTakeTheGeneralShortestForm) {
  // The doubles next to a decimal of at most 6 places are not such a decimal: the short form
  // must not claim them (rounding v * 10^6 would land on the decimal's digits), and they get
  // std::to_chars's shortest form, 16-17 digits.
  std::mt19937_64 rng(20261207);
  constexpr std::uint64_t pow10[] = {1, 10, 100, 1000, 10000, 100000, 1000000};
  for (int i = 0; i < 200000; ++i) {
    auto const k = static_cast<std::size_t>(1 + rng() % 6);
    std::uint64_t const m = 1 + (rng() >> (rng() % 64)) % (1000000000 * pow10[k] - 1);
    double const decimal = static_cast<double>(m) / static_cast<double>(pow10[k]);
    for (double v : {std::nextafter(decimal, 0.0), std::nextafter(decimal, 2e9)}) {
      if (v == std::trunc(v)) continue;  // integral: written as an integer
      char expected[hd::max_double_size];
      std::string_view const want(expected, std::to_chars(expected, expected + sizeof expected, v).ptr);
      ASSERT_EQ(dbl(v), want) << "next to " << m << " / 10^" << k;
    }
  }
}

TEST(Double, ParsesBackExactly) {
  for (double v : {29.99, 100.0, 1e21, 1e-7, 0.1, 1.0 / 3, 123456789.125, DBL_MAX, -DBL_MAX, DBL_MIN,
                   DBL_TRUE_MIN, DBL_MIN / 3, 4.9406564584124654e-324, 2.2250738585072009e-308, DBL_EPSILON,
                   9007199254740993.0, 1e300, -1e-300}) {
    expect_parses_back(v);
  }
  std::mt19937_64 rng(42);
  for (int i = 0; i < 100000; ++i) {
    double const v = std::bit_cast<double>(rng());
    if (std::isfinite(v)) expect_parses_back(v);
    expect_parses_back(static_cast<double>(static_cast<std::int64_t>(rng() >> 10) - (std::int64_t{1} << 53)));
    expect_parses_back(static_cast<double>(rng() % 100000) / 100.0);  // prices
  }
}

TEST(Double, WritesHugeIntegralValuesWithExponent) {
  // Digit-only tokens beyond 64 bits break integer-first parsers (simdjson 3.0 among them).
  EXPECT_EQ(dbl(33935263963869904896.0), "3.3935263963869905e+19");
  EXPECT_EQ(dbl(-1e19), "-1e+19");
  EXPECT_EQ(dbl(1.2345678901234568e+22), "1.2345678901234568e+22");
  EXPECT_EQ(dbl(1234567890123456789.0), "1234567890123456768");  // below 9e18: fits an int64
  EXPECT_EQ(dbl(-8999999999999999000.0), "-8999999999999998976");
  for (double v : {9e18, 1e19, 1.8446744073709552e19, 1e20, 1e21, 1e22, 1e300}) {
    EXPECT_NE(dbl(v).find('e'), std::string::npos) << dbl(v);
    expect_parses_back(v);
    expect_parses_back(-v);
  }
}

TEST(Double, WritesNegativeZeroWithSign) {
  EXPECT_EQ(dbl(-0.0), "-0");
  EXPECT_TRUE(std::signbit(std::strtod(dbl(-0.0).c_str(), nullptr)));
}

TEST(Double, LongestOutputFitsBound) {
  std::string const s = dbl(-2.2250738585072014e-308);
  EXPECT_EQ(s, "-2.2250738585072014e-308");
  EXPECT_LE(s.size(), hd::max_double_size);
}

// ---- Timestamps ---------------------------------------------------------------------------

using std::chrono::system_clock;
using namespace std::chrono;

// write_timestamp writes the clock's own precision: system_clock counts nanoseconds in libstdc++
// and microseconds in libc++. Cases finer than a millisecond are written in the clock's ticks,
// and expect the digits that precision gives.
static_assert(std::ratio_equal_v<system_clock::period, std::nano> ||
                  std::ratio_equal_v<system_clock::period, std::micro>,
              "the expected fractions below know nanosecond and microsecond clocks");
constexpr bool nanosecond_clock = std::ratio_equal_v<system_clock::period, std::nano>;
constexpr system_clock::duration tick{1};
constexpr std::int64_t ticks_per_second = system_clock::period::den;

std::string stamp(system_clock::time_point t) {
  char buf[hd::max_timestamp_size];
  return {buf, hd::write_timestamp(buf, t)};
}

// The sub-second part is a system_clock::duration, so a finer value cannot be truncated here
// without the caller saying so.
system_clock::time_point at(year_month_day date, hours h = 0h, minutes m = 0min, seconds s = 0s,
                            system_clock::duration sub = system_clock::duration::zero()) {
  return system_clock::time_point{sys_days{date}.time_since_epoch() + h + m + s + sub};
}

TEST(Timestamp, WritesWholeSecondsWithoutFraction) {
  EXPECT_EQ(stamp(at(2009y / November / 10, 23h)), R"("2009-11-10T23:00:00Z")");
}

TEST(Timestamp, WritesFractionWithoutTrailingZeros) {
  EXPECT_EQ(stamp(at(2024y / March / 13, 15h, 56min, 32s, floor<system_clock::duration>(123456700ns))),
            nanosecond_clock ? R"("2024-03-13T15:56:32.1234567Z")" : R"("2024-03-13T15:56:32.123456Z")");
  EXPECT_EQ(stamp(at(2024y / March / 13, 15h, 56min, 32s, 123450us)), R"("2024-03-13T15:56:32.12345Z")");
  EXPECT_EQ(stamp(at(2024y / March / 13, 15h, 56min, 32s, 500ms)), R"("2024-03-13T15:56:32.5Z")");
  EXPECT_EQ(stamp(at(2024y / March / 13, 15h, 56min, 32s, tick)),
            nanosecond_clock ? R"("2024-03-13T15:56:32.000000001Z")" : R"("2024-03-13T15:56:32.000001Z")");
  EXPECT_EQ(stamp(at(2024y / March / 13, 15h, 56min, 32s, 1s - tick)),
            nanosecond_clock ? R"("2024-03-13T15:56:32.999999999Z")" : R"("2024-03-13T15:56:32.999999Z")");
  EXPECT_EQ(stamp(at(2024y / March / 13, 15h, 56min, 32s, 120ms)), R"("2024-03-13T15:56:32.12Z")");
}

TEST(Timestamp, WritesEpoch) { EXPECT_EQ(stamp(system_clock::time_point{}), R"("1970-01-01T00:00:00Z")"); }

TEST(Timestamp, WritesLeapYearDates) {
  EXPECT_EQ(stamp(at(2000y / February / 29, 12h)), R"("2000-02-29T12:00:00Z")");
  EXPECT_EQ(stamp(at(2000y / March / 1)), R"("2000-03-01T00:00:00Z")");
  EXPECT_EQ(stamp(at(2024y / December / 31, 23h, 59min, 59s)), R"("2024-12-31T23:59:59Z")");
  EXPECT_EQ(stamp(at(2024y / February / 29)), R"("2024-02-29T00:00:00Z")");
  EXPECT_EQ(stamp(at(2100y / March / 1)), R"("2100-03-01T00:00:00Z")");
}

TEST(Timestamp, WritesTimesBefore1970) {
  EXPECT_EQ(stamp(system_clock::time_point{} - 500ms), R"("1969-12-31T23:59:59.5Z")");
  EXPECT_EQ(stamp(system_clock::time_point{} - tick),
            nanosecond_clock ? R"("1969-12-31T23:59:59.999999999Z")" : R"("1969-12-31T23:59:59.999999Z")");
  EXPECT_EQ(stamp(at(1900y / January / 1)), R"("1900-01-01T00:00:00Z")");
  EXPECT_EQ(stamp(at(1700y / March / 1, 1h, 2min, 3s, 4ms)), R"("1700-03-01T01:02:03.004Z")");
}

TEST(Timestamp, WritesRangeEndsOfSystemClock) {
  if constexpr (nanosecond_clock) {
    // 64-bit nanosecond ticks: the range ends in 1677 and 2262, inside what RFC 3339 writes.
    EXPECT_EQ(stamp(system_clock::time_point::max()).substr(0, 11), R"("2262-04-11)");
    EXPECT_EQ(stamp(system_clock::time_point::min()).substr(0, 11), R"("1677-09-21)");
  } else {
    // 64-bit microsecond ticks span about 292,000 years each way: clamped to years 0000-9999,
    // without the fraction.
    EXPECT_EQ(stamp(system_clock::time_point::max()), R"("9999-12-31T23:59:59Z")");
    EXPECT_EQ(stamp(system_clock::time_point::min()), R"("0000-01-01T00:00:00Z")");
  }
}

TEST(Timestamp, MatchesGmtimeForRandomTimes) {
  std::mt19937_64 rng(7);
  std::uniform_int_distribution<std::int64_t> secs(-5'000'000'000, 8'000'000'000);
  for (int i = 0; i < 100000; ++i) {
    std::int64_t const s = secs(rng);
    auto const ticks = static_cast<std::int64_t>(rng() % static_cast<std::uint64_t>(ticks_per_second));
    std::int64_t const ns = ticks * (1'000'000'000 / ticks_per_second);
    auto const tt = static_cast<std::time_t>(s);
    std::tm tm{};
    ASSERT_NE(gmtime_r(&tt, &tm), nullptr);
    char expected[64];
    std::strftime(expected, sizeof expected, "\"%Y-%m-%dT%H:%M:%S", &tm);
    std::string want = expected;
    if (ns != 0) {
      std::string frac = std::to_string(1000000000 + ns).substr(1);
      while (frac.back() == '0') frac.pop_back();
      want += "." + frac;
    }
    want += "Z\"";
    ASSERT_EQ(stamp(system_clock::time_point{seconds{s} + system_clock::duration{ticks}}), want) << s << " " << ns;
  }
}

TEST(Timestamp, CacheDoesNotLeakAcrossSeconds) {
  auto const t = at(2024y / March / 13, 15h, 56min, 32s);
  EXPECT_EQ(stamp(t), R"("2024-03-13T15:56:32Z")");
  EXPECT_EQ(stamp(t + 1s), R"("2024-03-13T15:56:33Z")");
  EXPECT_EQ(stamp(t + 1s + 1ms), R"("2024-03-13T15:56:33.001Z")");
  EXPECT_EQ(stamp(t), R"("2024-03-13T15:56:32Z")");
  EXPECT_EQ(stamp(t + 24h), R"("2024-03-14T15:56:32Z")");
}

// NowText over 60 ms of calls: the first ~10 ms of the process calibrate the TSC, then its
// per-millisecond windows serve most calls. Each time is the system clock's to the
// millisecond (fast_now() is within microseconds of it: one millisecond either side at a
// boundary), so a window that outlived its millisecond shows as a time too early.
TEST(Timestamp, NowFollowsTheSystemClockToTheMillisecond) {
  auto const start = system_clock::now();
  system_clock::time_point last{};
  std::size_t changes = 0;
  hd::NowText now;
  for (auto after = start; after - start < 60ms;) {
    auto const before = system_clock::now();
    char buf[hd::max_timestamp_size];
    std::string_view const text(buf, static_cast<std::size_t>(now.write(buf) - buf));
    after = system_clock::now();
    ASSERT_GE(text.size(), 2u);
    auto const t = hd::parse_rfc3339(text.substr(1, text.size() - 2));
    ASSERT_TRUE(t.has_value()) << text;
    ASSERT_GE(*t, std::chrono::floor<milliseconds>(before) - 1ms) << text;
    ASSERT_LE(*t, after + 1ms) << text;
    ASSERT_GE(*t, last - 1ms) << text;
    if (*t != last) ++changes;
    last = *t;
  }
  EXPECT_GT(changes, 1u);
}

// ---- UUIDs --------------------------------------------------------------------------------

std::string uuid(hd::UuidGenerator& gen) {
  char buf[hd::UuidGenerator::size];
  return {buf, gen.write(buf)};
}

bool has_v4_format(std::string const& id) {
  if (id.size() != 36) return false;
  for (std::size_t i = 0; i < 36; ++i) {
    char const c = id[i];
    bool const dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? c != '-' : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return id[14] == '4' && (id[19] == '8' || id[19] == '9' || id[19] == 'a' || id[19] == 'b');
}

TEST(Uuid, MatchesV4Format) {
  std::regex const pattern("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$");
  hd::UuidGenerator gen;
  for (int i = 0; i < 2000; ++i) {
    std::string const id = uuid(gen);
    ASSERT_TRUE(std::regex_match(id, pattern)) << id;
  }
}

TEST(Uuid, MillionIdsAreUniqueWithVersionAndVariant) {
  hd::UuidGenerator gen;
  std::vector<std::pair<std::uint64_t, std::uint64_t>> ids;
  ids.reserve(1'000'000);
  std::string id;
  for (int i = 0; i < 1'000'000; ++i) {
    id = uuid(gen);
    ASSERT_TRUE(has_v4_format(id)) << id;
    id.erase(std::remove(id.begin(), id.end(), '-'), id.end());
    ids.emplace_back(std::stoull(id.substr(0, 16), nullptr, 16), std::stoull(id.substr(16), nullptr, 16));
  }
  std::sort(ids.begin(), ids.end());
  EXPECT_EQ(std::adjacent_find(ids.begin(), ids.end()), ids.end());
}

TEST(Uuid, EveryRandomBitVaries) {
  hd::UuidGenerator gen(99);
  int ones[128] = {};
  int constexpr n = 20000;
  for (int i = 0; i < n; ++i) {
    std::string id = uuid(gen);
    id.erase(std::remove(id.begin(), id.end(), '-'), id.end());
    for (int nibble = 0; nibble < 32; ++nibble) {
      int const v = std::stoi(id.substr(static_cast<std::size_t>(nibble), 1), nullptr, 16);
      for (int b = 0; b < 4; ++b) ones[nibble * 4 + b] += (v >> (3 - b)) & 1;
    }
  }
  for (int bit = 0; bit < 128; ++bit) {
    if (bit >= 48 && bit < 52) {  // version 0100
      EXPECT_EQ(ones[bit], bit == 49 ? n : 0) << bit;
    } else if (bit == 64 || bit == 65) {  // variant 10
      EXPECT_EQ(ones[bit], bit == 64 ? n : 0) << bit;
    } else {
      EXPECT_GT(ones[bit], n * 45 / 100) << bit;
      EXPECT_LT(ones[bit], n * 55 / 100) << bit;
    }
  }
}

TEST(Uuid, SameSeedGivesSameIds) {
  hd::UuidGenerator a(12345);
  hd::UuidGenerator b(12345);
  hd::UuidGenerator c(12346);
  for (int i = 0; i < 100; ++i) {
    std::string const ia = uuid(a);
    EXPECT_EQ(ia, uuid(b));
    EXPECT_NE(ia, uuid(c));
  }
}

TEST(Uuid, DefaultGeneratorsDiffer) {
  hd::UuidGenerator a;
  hd::UuidGenerator b;
  EXPECT_NE(uuid(a), uuid(b));
}

// ---- Raw JSON -----------------------------------------------------------------------------

TEST(IsValidJson, AcceptsAndRejectsTable) {
  struct Case {
    std::string_view text;
    bool valid;
  };
  std::vector<Case> const cases = {
      {"{}", true},
      {"[]", true},
      {R"({"a":1,"b":[true,false,null],"c":{"d":"e"}})", true},
      {"1", true},
      {"-0.5e-3", true},
      {"\"str\"", true},
      {"\"\xC3\xA9\"", true},
      {"true", true},
      {"false", true},
      {"null", true},
      {"  \n\t{\"a\" : [1, 2]}\r\n ", true},
      // Valid numbers simdjson cannot represent: decided by the grammar fallback.
      {"12345678901234567890123", true},
      {"[-12345678901234567890123, {\"a\": 1e400}]", true},
      {"1e400", true},
      {"{\"id\": 123456789012345678901234567890, \"s\": \"\\u00e9\\n\"}", true},
      {"[1e400, 01]", false},
      {"[1e400, 1.]", false},
      {"[1e400, -]", false},
      {"[1e400, 1e]", false},
      {"[1e400, 1e+]", false},
      {"[1e400,]", false},
      {"[1e400] x", false},
      {"{\"a\" 1e400}", false},
      {"{1: 1e400}", false},
      {"[1e400, \"\xFF\"]", false},
      {"[1e400, \"\\x\"]", false},
      {"[1e400, \"\\u12\"]", false},
      {"[1e400, tru]", false},
      {"[1e400", false},
      {"", false},
      {"   ", false},
      {"{", false},
      {"}", false},
      {"[1,]", false},
      {"{\"a\":1,}", false},
      {"{a:1}", false},
      {"'a'", false},
      {"1 2", false},
      {"{} {}", false},
      {"[] x", false},
      {"nul", false},
      {"True", false},
      {"NaN", false},
      {"Infinity", false},
      {"01", false},
      {"1.", false},
      {".5", false},
      {"+1", false},
      {"\"unterminated", false},
      {"\"bad \\x escape\"", false},
      {"\"tab\tinside\"", false},
      {"\"\xFF\"", false},       // invalid UTF-8
      {"\"\xED\xA0\x80\"", false},  // surrogate encoded in UTF-8
      {"[1]\0"sv, false},        // trailing NUL
      {"/* c */ 1", false},
  };
  for (auto const& c : cases) {
    EXPECT_EQ(hd::is_valid_json(c.text), c.valid) << testing::PrintToString(c.text);
  }
}

TEST(IsValidJson, LimitsNestingDepth) {
  for (std::string_view tail : {"1"sv, "1e400"sv}) {
    std::string const ok = std::string(1000, '[') + std::string(tail) + std::string(1000, ']');
    EXPECT_TRUE(hd::is_valid_json(ok));
    std::string const deep = std::string(5000, '[') + std::string(tail) + std::string(5000, ']');
    EXPECT_FALSE(hd::is_valid_json(deep));
    std::string const unbalanced = std::string(1000, '[') + std::string(tail) + std::string(999, ']');
    EXPECT_FALSE(hd::is_valid_json(unbalanced));
  }
}

TEST(IsValidJson, AcceptsLargeDocumentsAfterSmallOnes) {
  EXPECT_TRUE(hd::is_valid_json("[1]"));
  std::string big = "[";
  for (int i = 0; i < 100000; ++i) big += "{\"k\":\"value\"},";
  big += "0]";
  EXPECT_TRUE(hd::is_valid_json(big));
  big.back() = ',';
  EXPECT_FALSE(hd::is_valid_json(big));
  EXPECT_TRUE(hd::is_valid_json("{\"ok\":true}"));
}

TEST(IsValidJson, AcceptsEveryEncodedString) {
  std::mt19937_64 rng(5);
  for (int i = 0; i < 2000; ++i) {
    std::string s(rng() % 64, '\0');
    for (char& c : s) c = static_cast<char>(rng() & 0xff);
    EXPECT_TRUE(hd::is_valid_json(encode(s)));
  }
}

}  // namespace
