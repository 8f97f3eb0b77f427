#include "message/json_primitives.hpp"

#include <simdjson.h>

// simdjson's classes change layout with SIMDJSON_THREADS_ENABLED, and their inline members are
// merged across translation units at link time: every TU that includes <simdjson.h> must agree
// (we saw a crash in dom::parser when a test TU built with -pthread met one built without).
// The simdjson::simdjson CMake target defines it for all its users; insist on the same here.
#ifndef SIMDJSON_THREADS_ENABLED
#error "Build with simdjson::simdjson's usage requirements (SIMDJSON_THREADS_ENABLED=1, or -pthread)"
#endif

#include <array>
#include <atomic>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstring>
#include <random>

#if defined(__SSE2__) || defined(_M_X64)
#include <emmintrin.h>
#define HTEVENTS_JSON_SSE2 1
#else
#define HTEVENTS_JSON_SSE2 0
#endif

namespace htevents::inline v0::detail {
namespace {

// ---- String escaping ----------------------------------------------------------------------

using uchar = unsigned char;

// A byte is "special" when it cannot be copied as is: a control character, '"', '\\', or the
// start of a multi-byte (or invalid) UTF-8 sequence.
constexpr bool is_special(uchar c) noexcept { return c < 0x20 || c == '"' || c == '\\' || c >= 0x80; }

struct Escape {
  char text[6];
  std::uint8_t size;  // 2 for "\n"-style, 6 for "\u00xx"
};

constexpr std::array<Escape, 0x60> make_escapes() noexcept {
  std::array<Escape, 0x60> table{};
  constexpr char hex[] = "0123456789abcdef";
  for (unsigned c = 0; c < 0x20; ++c) {
    table[c] = Escape{{'\\', 'u', '0', '0', hex[c >> 4], hex[c & 0xf]}, 6};
  }
  table['\b'] = Escape{{'\\', 'b'}, 2};
  table['\t'] = Escape{{'\\', 't'}, 2};
  table['\n'] = Escape{{'\\', 'n'}, 2};
  table['\f'] = Escape{{'\\', 'f'}, 2};
  table['\r'] = Escape{{'\\', 'r'}, 2};
  table['"'] = Escape{{'\\', '"'}, 2};
  table['\\'] = Escape{{'\\', '\\'}, 2};
  return table;
}
constexpr std::array<Escape, 0x60> escapes = make_escapes();

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

// SWAR: one bit (0x80 of the byte) per special byte in a little-endian word. Bits above the
// lowest one may be false positives (borrows), so only use the lowest set bit.
constexpr std::uint64_t ones = 0x0101010101010101ULL;
constexpr std::uint64_t highs = 0x8080808080808080ULL;
inline std::uint64_t special_bits(std::uint64_t w) noexcept {
  std::uint64_t const lt20 = (w - ones * 0x20) & ~w;
  std::uint64_t const q = w ^ (ones * '"');
  std::uint64_t const b = w ^ (ones * '\\');
  std::uint64_t const eq_q = (q - ones) & ~q;
  std::uint64_t const eq_b = (b - ones) & ~b;
  return (lt20 | eq_q | eq_b | w) & highs;
}

inline std::uint32_t load32(const uchar* p) noexcept {
  std::uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

inline std::uint16_t load16(const uchar* p) noexcept {
  std::uint16_t v;
  std::memcpy(&v, p, 2);
  return v;
}

inline std::uint64_t load64(const uchar* p) noexcept {
  std::uint64_t w;
  std::memcpy(&w, p, 8);
  if constexpr (std::endian::native == std::endian::big) w = __builtin_bswap64(w);
  return w;
}

#if HTEVENTS_JSON_SSE2
inline unsigned special_mask(__m128i v) noexcept {
  // Signed compare: bytes >= 0x80 are negative, so "< 0x20" also catches them.
  __m128i const ctl = _mm_cmplt_epi8(v, _mm_set1_epi8(0x20));
  __m128i const quote = _mm_cmpeq_epi8(v, _mm_set1_epi8('"'));
  __m128i const bslash = _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'));
  return static_cast<unsigned>(_mm_movemask_epi8(_mm_or_si128(_mm_or_si128(ctl, quote), bslash)));
}
#endif

// Returns the first special byte in [p, end), or end. Used by json_string_size.
inline const uchar* find_special(const uchar* p, const uchar* end) noexcept {
#if HTEVENTS_JSON_SSE2
  while (end - p >= 16) {
    unsigned const mask = special_mask(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
    if (mask != 0) return p + std::countr_zero(mask);
    p += 16;
  }
#endif
  while (end - p >= 8) {
    std::uint64_t const bits = special_bits(load64(p));
    if (bits != 0) return p + (std::countr_zero(bits) >> 3);
    p += 8;
  }
  while (p < end && !is_special(*p)) ++p;
  return p;
}

constexpr char replacement[3] = {'\xEF', '\xBF', '\xBD'};  // U+FFFD

// ---- Numbers and time ---------------------------------------------------------------------

constexpr std::array<char, 200> make_digit_pairs() noexcept {
  std::array<char, 200> t{};
  for (int i = 0; i < 100; ++i) {
    t[static_cast<std::size_t>(2 * i)] = static_cast<char>('0' + i / 10);
    t[static_cast<std::size_t>(2 * i + 1)] = static_cast<char>('0' + i % 10);
  }
  return t;
}
constexpr std::array<char, 200> digit_pairs = make_digit_pairs();

inline void write2(char* out, unsigned v) noexcept { std::memcpy(out, &digit_pairs[2 * v], 2); }

// Howard Hinnant's civil_from_days: proleptic Gregorian date of a day count from 1970-01-01.
struct CivilDate {
  std::int64_t year;
  unsigned month;
  unsigned day;
};
constexpr CivilDate civil_from_days(std::int64_t z) noexcept {
  z += 719468;
  std::int64_t const era = (z >= 0 ? z : z - 146096) / 146097;
  auto const doe = static_cast<unsigned>(z - era * 146097);                  // [0, 146096]
  unsigned const yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;  // [0, 399]
  unsigned const doy = doe - (365 * yoe + yoe / 4 - yoe / 100);                // [0, 365]
  unsigned const mp = (5 * doy + 2) / 153;                                     // [0, 11]
  unsigned const day = doy - (153 * mp + 2) / 5 + 1;                           // [1, 31]
  unsigned const month = mp < 10 ? mp + 3 : mp - 9;                            // [1, 12]
  return {static_cast<std::int64_t>(yoe) + era * 400 + (month <= 2 ? 1 : 0), month, day};
}

constexpr std::int64_t min_seconds = -62167219200;  // 0000-01-01T00:00:00Z
constexpr std::int64_t max_seconds = 253402300799;  // 9999-12-31T23:59:59Z
constexpr std::size_t prefix_size = 20;             // "YYYY-MM-DDTHH:MM:SS with the quote

// Writes `"YYYY-MM-DDTHH:MM:SS` (20 bytes) for seconds in [min_seconds, max_seconds].
inline void format_prefix(char* out, std::int64_t secs) noexcept {
  std::int64_t days = secs / 86400;
  std::int64_t sod = secs % 86400;
  if (sod < 0) {
    sod += 86400;
    --days;
  }
  CivilDate const date = civil_from_days(days);
  auto const year = static_cast<unsigned>(date.year);
  auto const s = static_cast<unsigned>(sod);
  out[0] = '"';
  write2(out + 1, year / 100);
  write2(out + 3, year % 100);
  out[5] = '-';
  write2(out + 6, date.month);
  out[8] = '-';
  write2(out + 9, date.day);
  out[11] = 'T';
  write2(out + 12, s / 3600);
  out[14] = ':';
  write2(out + 15, s / 60 % 60);
  out[17] = ':';
  write2(out + 18, s % 60);
}

// The last second formatted on this thread. Constant-initialized and trivially destructible,
// so access needs no guard.
struct PrefixCache {
  std::int64_t secs = INT64_MIN;
  char text[prefix_size] = {};
};
thread_local PrefixCache prefix_cache;

// ---- UUIDs --------------------------------------------------------------------------------

constexpr std::uint64_t splitmix64(std::uint64_t& x) noexcept {
  std::uint64_t z = (x += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

// Counts generators created in this process; mixed into each seed so that two generators
// differ even when random_device returns the same numbers (weak or fixed-seed fallbacks).
std::atomic<std::uint64_t> generator_count{0};

constexpr std::array<char, 512> make_hex_pairs() noexcept {
  std::array<char, 512> t{};
  constexpr char hex[] = "0123456789abcdef";
  for (std::size_t i = 0; i < 256; ++i) {
    t[2 * i] = hex[i >> 4];
    t[2 * i + 1] = hex[i & 0xf];
  }
  return t;
}
[[maybe_unused]] constexpr std::array<char, 512> hex_pairs = make_hex_pairs();

}  // namespace

// ---- Strings ------------------------------------------------------------------------------

std::size_t json_string_size(std::string_view s) noexcept {
  auto const* p = reinterpret_cast<const uchar*>(s.data());
  auto const* const end = p + s.size();
  std::size_t size = 2 + s.size();
  for (;;) {
    p = find_special(p, end);
    if (p == end) return size;
    uchar const c = *p;
    if (c < 0x80) {
      size += escapes[c].size - 1u;
      ++p;
    } else if (std::size_t const n = utf8_sequence_size(p, static_cast<std::size_t>(end - p)); n != 0) {
      p += n;
    } else {
      size += 2;  // one byte becomes EF BF BD
      ++p;
    }
  }
}

char* write_json_string(char* out, std::string_view s) noexcept {
  auto const* const begin = reinterpret_cast<const uchar*>(s.data());
  auto const* p = begin;
  auto const* const end = p + s.size();
  char* const out_begin = ++out;
  out[-1] = '"';

  // Every input byte produces at least one output byte, and the closing quote follows. So the
  // output from `out` on is at least as long as the input from `p` on, and copying a whole
  // block of input before looking at it stays inside the exact output size.
  for (;;) {
#if HTEVENTS_JSON_SSE2
    while (end - p >= 16) {
      __m128i const v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(out), v);
      unsigned const mask = special_mask(v);
      if (mask != 0) {
        auto const n = std::countr_zero(mask);
        p += n;
        out += n;
        goto special;
      }
      p += 16;
      out += 16;
    }
    // Fewer than 16 bytes left. If nothing so far needed escaping (output still aligned with
    // input) and the string is long enough, redo the last 16 bytes as one overlapping block.
    if (p != end && end - begin >= 16 && out - out_begin == p - begin) {
      auto const back = 16 - (end - p);  // bytes of the block already copied (all plain)
      __m128i const v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(end - 16));
      unsigned const mask = special_mask(v) >> back;
      _mm_storeu_si128(reinterpret_cast<__m128i*>(out - back), v);
      if (mask == 0) {
        out += end - p;
        p = end;
        break;
      }
      auto const n = std::countr_zero(mask);
      p += n;
      out += n;
      goto special;
    }
#endif
    while (end - p >= 8) {
      std::uint64_t const w = load64(p);
      std::uint64_t const bits = special_bits(w);
      std::memcpy(out, p, 8);
      if (bits != 0) {
        auto const n = std::countr_zero(bits) >> 3;
        p += n;
        out += n;
        goto special;
      }
      p += 8;
      out += 8;
    }
    if (p == end) break;
    {
      // 1..7 bytes left: one word assembled from (possibly overlapping) loads that stay inside
      // the string, checked at once, copied with the same overlapping stores. Replaces a loop
      // of byte compares that was the largest cost of short keys and values. Storing all `n`
      // bytes is safe even when one is special: the output has room for at least that many.
      auto const n = static_cast<std::size_t>(end - p);
      std::uint64_t word;
      if (n >= 4) {
        word = load32(p) | (std::uint64_t{load32(end - 4)} << (8 * (n - 4)));
        std::memcpy(out + n - 4, end - 4, 4);
        std::memcpy(out, p, 4);
      } else if (n >= 2) {
        word = load16(p) | (std::uint64_t{load16(end - 2)} << (8 * (n - 2)));
        std::memcpy(out + n - 2, end - 2, 2);
        std::memcpy(out, p, 2);
      } else {
        word = *p;
        *out = static_cast<char>(*p);
      }
      // Bytes past `n` are zero and would read as control characters: mask them off. Spurious
      // flags from SWAR borrows only appear above a real one, so the lowest flag is exact.
      std::uint64_t const bits = special_bits(word) & ((std::uint64_t{1} << (8 * n)) - 1);
      if (bits == 0) {
        out += n;
        p = end;
        break;
      }
      auto const plain = static_cast<std::size_t>(std::countr_zero(bits) >> 3);
      p += plain;
      out += plain;
    }

  special:
    // *p is special. Handle it, and any run of non-ASCII bytes after it, before going back
    // to block copies.
    do {
      uchar const c = *p;
      if (c < 0x80) {
        Escape const& e = escapes[c];
        if (e.size == 2) {
          std::memcpy(out, e.text, 2);
          out += 2;
        } else {
          std::memcpy(out, e.text, 6);
          out += 6;
        }
        ++p;
      } else if (std::size_t const n = utf8_sequence_size(p, static_cast<std::size_t>(end - p)); n != 0) {
        std::memcpy(out, p, n);
        out += n;
        p += n;
      } else {
        std::memcpy(out, replacement, 3);
        out += 3;
        ++p;
      }
    } while (p != end && *p >= 0x80);
  }
  *out++ = '"';
  return out;
}

// ---- Numbers ------------------------------------------------------------------------------

char* write_integer(char* out, std::int64_t v) noexcept {
  return std::to_chars(out, out + max_integer_size, v).ptr;
}

char* write_integer(char* out, std::uint64_t v) noexcept {
  return std::to_chars(out, out + max_integer_size, v).ptr;
}

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

// ---- Time ---------------------------------------------------------------------------------

char* write_timestamp(char* out, std::chrono::system_clock::time_point t) noexcept {
  // Split the tick count by hand: going through chrono's floor<seconds> and back overflows
  // at the ends of a nanosecond clock's range.
  using period = std::chrono::system_clock::duration::period;
  static_assert(period::num == 1 && 1'000'000'000 % period::den == 0, "ticks must divide a nanosecond count");
  constexpr std::int64_t ticks_per_second = period::den;
  std::int64_t const ticks = t.time_since_epoch().count();
  std::int64_t secs = ticks / ticks_per_second;
  std::int64_t sub = ticks % ticks_per_second;
  if (sub < 0) {
    sub += ticks_per_second;
    --secs;
  }
  auto fraction = static_cast<std::uint32_t>(sub * (1'000'000'000 / ticks_per_second));
  if (secs < min_seconds) {
    secs = min_seconds;
    fraction = 0;
  } else if (secs > max_seconds) {
    secs = max_seconds;
    fraction = 0;
  }

  PrefixCache& cache = prefix_cache;
  if (cache.secs != secs) {
    format_prefix(cache.text, secs);
    cache.secs = secs;
  }
  std::memcpy(out, cache.text, prefix_size);
  out += prefix_size;

  if (fraction == 0) {
    std::memcpy(out, "Z\"", 2);
    return out + 2;
  }
  // '.' and nine digits, then drop the trailing zeros (there is at least one non-zero digit).
  out[0] = '.';
  out[1] = static_cast<char>('0' + fraction / 100000000);
  unsigned const rest = fraction % 100000000;
  write2(out + 2, rest / 1000000);
  write2(out + 4, rest / 10000 % 100);
  write2(out + 6, rest / 100 % 100);
  write2(out + 8, rest % 100);
  out += 10;
  while (out[-1] == '0') --out;
  std::memcpy(out, "Z\"", 2);
  return out + 2;
}

// ---- UUIDs --------------------------------------------------------------------------------

void UuidGenerator::seed(std::uint64_t a, std::uint64_t b) noexcept {
  std::uint64_t x = a;
  for (auto& word : state_) word = splitmix64(x) ^ b;
  if ((state_[0] | state_[1] | state_[2] | state_[3]) == 0) state_[0] = 1;  // xoshiro needs a non-zero state
}

UuidGenerator::UuidGenerator(std::uint64_t seed_value) noexcept { seed(seed_value, 0); }

UuidGenerator::UuidGenerator() noexcept {
  std::uint64_t entropy[2] = {0, 0};
  try {
    std::random_device device;
    for (auto& word : entropy) word = (std::uint64_t{device()} << 32) ^ device();
  } catch (...) {
    // No random_device: the counter, address and clocks below still separate generators.
  }
  std::uint64_t mix = generator_count.fetch_add(1, std::memory_order_relaxed);  // only uniqueness matters
  mix ^= reinterpret_cast<std::uintptr_t>(this) * 0x9E3779B97F4A7C15ULL;
  mix ^= static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()) << 1;
  mix ^= static_cast<std::uint64_t>(std::chrono::system_clock::now().time_since_epoch().count()) * 31;
  std::uint64_t x = mix;
  seed(entropy[0] ^ splitmix64(x), entropy[1] ^ splitmix64(x));
}

std::uint64_t UuidGenerator::next() noexcept {  // xoshiro256** 1.0
  std::uint64_t const result = std::rotl(state_[1] * 5, 7) * 9;
  std::uint64_t const t = state_[1] << 17;
  state_[2] ^= state_[0];
  state_[3] ^= state_[1];
  state_[1] ^= state_[2];
  state_[0] ^= state_[3];
  state_[2] ^= t;
  state_[3] = std::rotl(state_[3], 45);
  return result;
}

char* UuidGenerator::write(char* out) noexcept {
  std::uint64_t hi = next();
  std::uint64_t lo = next();
  hi = (hi & ~0xF000ULL) | 0x4000ULL;                                     // version 4: byte 6 = 4x
  lo = (lo & 0x3FFFFFFFFFFFFFFFULL) | 0x8000000000000000ULL;              // variant 10: byte 8 = 10xx xxxx
  char hex[32];
#if HTEVENTS_JSON_SSE2
  // Nibbles to ASCII, 16 at a time: big-endian byte order so the text reads hi then lo.
  auto const to_hex = [](std::uint64_t v, char* dst) {
    __m128i const bytes = _mm_cvtsi64_si128(static_cast<long long>(__builtin_bswap64(v)));
    __m128i const lo_nib = _mm_and_si128(bytes, _mm_set1_epi8(0x0f));
    __m128i const hi_nib = _mm_and_si128(_mm_srli_epi16(bytes, 4), _mm_set1_epi8(0x0f));
    __m128i const nibbles = _mm_unpacklo_epi8(hi_nib, lo_nib);
    __m128i const letters = _mm_and_si128(_mm_cmpgt_epi8(nibbles, _mm_set1_epi8(9)), _mm_set1_epi8('a' - '0' - 10));
    __m128i const ascii = _mm_add_epi8(_mm_add_epi8(nibbles, _mm_set1_epi8('0')), letters);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst), ascii);
  };
  to_hex(hi, hex);
  to_hex(lo, hex + 16);
#else
  for (int i = 0; i < 8; ++i) {
    std::memcpy(hex + 2 * i, &hex_pairs[2 * ((hi >> (56 - 8 * i)) & 0xff)], 2);
    std::memcpy(hex + 16 + 2 * i, &hex_pairs[2 * ((lo >> (56 - 8 * i)) & 0xff)], 2);
  }
#endif
  std::memcpy(out, hex, 8);
  out[8] = '-';
  std::memcpy(out + 9, hex + 8, 4);
  out[13] = '-';
  std::memcpy(out + 14, hex + 12, 4);
  out[18] = '-';
  std::memcpy(out + 19, hex + 16, 4);
  out[23] = '-';
  std::memcpy(out + 24, hex + 20, 12);
  return out + size;
}

// ---- Raw JSON -----------------------------------------------------------------------------

namespace {

// Grammar-only RFC 8259 check, used when simdjson rejects a number that is valid JSON but that
// it cannot represent (integers beyond 64 bits, 1e400). Strings must be valid UTF-8; \u
// escapes are checked for form only (lone surrogate escapes pass, as with Go's json.Valid).
// Nesting is limited to max_depth, like simdjson's default.
class GrammarCheck {
 public:
  explicit GrammarCheck(std::string_view text) noexcept
      : p_(reinterpret_cast<const uchar*>(text.data())), end_(p_ + text.size()) {}

  bool run() noexcept {
    std::size_t depth = 0;
  value:
    skip_whitespace();
    if (p_ == end_) return false;
    switch (*p_) {
      case '{':
        ++p_;
        skip_whitespace();
        if (p_ != end_ && *p_ == '}') {
          ++p_;
          goto after_value;
        }
        if (depth == max_depth) return false;
        stack_[depth++] = '{';
        goto key;
      case '[':
        ++p_;
        skip_whitespace();
        if (p_ != end_ && *p_ == ']') {
          ++p_;
          goto after_value;
        }
        if (depth == max_depth) return false;
        stack_[depth++] = '[';
        goto value;
      case '"':
        if (!string()) return false;
        goto after_value;
      case 't':
        if (!literal("true")) return false;
        goto after_value;
      case 'f':
        if (!literal("false")) return false;
        goto after_value;
      case 'n':
        if (!literal("null")) return false;
        goto after_value;
      default:
        if (!number()) return false;
        goto after_value;
    }
  key:
    skip_whitespace();
    if (p_ == end_ || *p_ != '"' || !string()) return false;
    skip_whitespace();
    if (p_ == end_ || *p_ != ':') return false;
    ++p_;
    goto value;
  after_value:
    skip_whitespace();
    if (depth == 0) return p_ == end_;
    if (p_ == end_) return false;
    if (*p_ == ',') {
      ++p_;
      if (stack_[depth - 1] == '{') goto key;
      goto value;
    }
    if (*p_ != (stack_[depth - 1] == '{' ? '}' : ']')) return false;
    ++p_;
    --depth;
    goto after_value;
  }

 private:
  static constexpr std::size_t max_depth = 1024;

  void skip_whitespace() noexcept {
    while (p_ != end_ && (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t')) ++p_;
  }
  bool literal(std::string_view word) noexcept {
    if (static_cast<std::size_t>(end_ - p_) < word.size() || std::memcmp(p_, word.data(), word.size()) != 0) return false;
    p_ += word.size();
    return true;
  }
  static bool is_digit(uchar c) noexcept { return c >= '0' && c <= '9'; }
  static bool is_hex(uchar c) noexcept { return is_digit(c) || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f'); }
  bool digits() noexcept {  // one or more
    if (p_ == end_ || !is_digit(*p_)) return false;
    while (p_ != end_ && is_digit(*p_)) ++p_;
    return true;
  }
  bool number() noexcept {
    if (*p_ == '-') ++p_;
    if (p_ == end_) return false;
    if (*p_ == '0') {
      ++p_;
    } else if (!digits()) {
      return false;
    }
    if (p_ != end_ && *p_ == '.') {
      ++p_;
      if (!digits()) return false;
    }
    if (p_ != end_ && (*p_ == 'e' || *p_ == 'E')) {
      ++p_;
      if (p_ != end_ && (*p_ == '+' || *p_ == '-')) ++p_;
      if (!digits()) return false;
    }
    return true;
  }
  bool string() noexcept {
    ++p_;  // opening quote
    while (p_ != end_) {
      uchar const c = *p_;
      if (c == '"') {
        ++p_;
        return true;
      }
      if (c < 0x20) return false;
      if (c == '\\') {
        if (++p_ == end_) return false;
        uchar const e = *p_++;
        if (e == 'u') {
          if (end_ - p_ < 4 || !is_hex(p_[0]) || !is_hex(p_[1]) || !is_hex(p_[2]) || !is_hex(p_[3])) return false;
          p_ += 4;
        } else if (std::memchr("\"\\/bfnrt", e, 8) == nullptr) {
          return false;
        }
      } else if (c < 0x80) {
        ++p_;
      } else if (std::size_t const n = utf8_sequence_size(p_, static_cast<std::size_t>(end_ - p_)); n != 0) {
        p_ += n;
      } else {
        return false;
      }
    }
    return false;
  }

  const uchar* p_;
  const uchar* const end_;
  char stack_[max_depth];
};

}  // namespace

bool is_valid_json(std::string_view text) noexcept {
  if (text.empty()) return false;
  simdjson::error_code error = simdjson::SUCCESS;
  try {
    // Reused across calls: keeps its tape and padded input copy (grows only for larger inputs).
    thread_local simdjson::dom::parser parser;
    simdjson::dom::element root;
    error = parser.parse(text.data(), text.size(), /*realloc_if_needed=*/true).get(root);
  } catch (...) {
    return false;  // allocation failure building the thread's parser
  }
  if (error == simdjson::SUCCESS) return true;
  // Valid JSON that simdjson cannot represent: decide on the grammar alone.
  return error == simdjson::NUMBER_ERROR && GrammarCheck(text).run();
}

std::size_t json_string_characters(std::string_view s) noexcept {
  auto const* p = reinterpret_cast<uchar const*>(s.data());
  auto const* const end = p + s.size();
  std::size_t characters = 0;
  while (p != end) {
    std::size_t const n = *p < 0x80 ? 1 : utf8_sequence_size(p, static_cast<std::size_t>(end - p));
    p += n == 0 ? 1 : n;  // an invalid byte: one U+FFFD
    ++characters;
  }
  return characters;
}

}  // namespace htevents::inline v0::detail
