#pragma once
// Not part of the API: the JSON writers that htevents/writer.hpp's inline fast path calls.
// Defined in the library (src/message/json_string.cpp, json_number.cpp); may change in any release.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "htevents/export.hpp"

// SSE2 (every x86-64) tests 16 bytes for write_json_string_inline in a few vector instructions;
// elsewhere, and in the HTEVENTS_PORTABLE build that tests the fallback, the SWAR test below.
#if !defined(HTEVENTS_PORTABLE) && (defined(__SSE2__) || defined(_M_X64))
#include <emmintrin.h>
#define HTEVENTS_DETAIL_JSON_WRITE_SSE2 1
#else
#define HTEVENTS_DETAIL_JSON_WRITE_SSE2 0
#endif

namespace htevents {
inline namespace v0 {
namespace detail {

// ---- Strings ------------------------------------------------------------------------------

/// Upper bound of what write_json_string can produce for `n` input bytes, quotes included
/// (every input byte becomes at most 6 output bytes: `\u001f`). Does not overflow for any
/// `n` a string_view can hold in practice (n < SIZE_MAX / 6).
constexpr std::size_t max_json_string_size(std::size_t n) noexcept { return 6 * n + 2; }

/// Exact number of bytes write_json_string(out, s) produces, quotes included.
/// Does not allocate memory. Thread-safe.
[[nodiscard]] std::size_t json_string_size(std::string_view s) noexcept;

/// Writes `s` as a JSON string, quotes included, and returns the end of the output.
///
/// - `"` and `\` are escaped; control characters 0x00-0x1f are escaped as `\b \t \n \f \r`
///   by name and as `\u00xx` (lowercase hex) otherwise. DEL (0x7f) is copied.
/// - Valid UTF-8 is copied through unchanged (U+2028/U+2029 too: they are valid JSON).
/// - Each byte that does not start a valid UTF-8 sequence is replaced by U+FFFD (EF BF BD),
///   then decoding resumes at the next byte, exactly as Go's encoding/json does
///   (utf8.DecodeRuneInString). Invalid: stray continuation bytes, C0/C1 and other overlong
///   forms, surrogates U+D800-U+DFFF, code points above U+10FFFF (F4 90.. and F5-FF),
///   sequences truncated by the end of the string or by a non-continuation byte.
///
/// `out` must have room for json_string_size(s) bytes (max_json_string_size(s.size()) always
/// suffices). Writes exactly json_string_size(s) bytes and never touches anything past them.
/// `out` must not overlap `s`. Does not allocate memory. Thread-safe.
HTEVENTS_EXPORT char* write_json_string(char* out, std::string_view s) noexcept;

/// Flags the bytes of `w` that write_json_string cannot copy as they are: control bytes
/// (< 0x20, NUL among them), `"`, `\\` and bytes >= 0x80 get their 0x80 bit set. A borrow can
/// also flag bytes above a flagged one, never below it, so the result is zero exactly when no
/// byte of `w` needs attention, whatever the byte order.
constexpr std::uint64_t json_special_bytes(std::uint64_t w) noexcept {
  // A byte below 0x80 with no borrow coming in sets its top bit in `w - 0x20` only when it is
  // below 0x20, and in `(w ^ c) - 1` only when it equals c; bytes from 0x80 up are flagged by
  // `w` itself, so no term needs the usual `& ~w`.
  constexpr std::uint64_t ones = 0x0101010101010101ULL;
  return ((w - ones * 0x20) | ((w ^ (ones * '"')) - ones) | ((w ^ (ones * '\\')) - ones) | w) & (ones * 0x80);
}

/// True when no byte of `lo` and `hi` needs attention (json_special_bytes of both is zero).
/// With SSE2 one signed compare finds the control bytes and those >= 0x80 (negative as
/// signed bytes) together: about half the instructions of two SWAR tests, and no registers
/// to save for their constants.
inline bool json_plain_words(std::uint64_t lo, std::uint64_t hi) noexcept {
#if HTEVENTS_DETAIL_JSON_WRITE_SSE2
  __m128i const v = _mm_set_epi64x(static_cast<long long>(hi), static_cast<long long>(lo));
  __m128i const control_or_high = _mm_cmplt_epi8(v, _mm_set1_epi8(0x20));
  __m128i const quote = _mm_cmpeq_epi8(v, _mm_set1_epi8('"'));
  __m128i const backslash = _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'));
  return _mm_movemask_epi8(_mm_or_si128(control_or_high, _mm_or_si128(quote, backslash))) == 0;
#else
  return (json_special_bytes(lo) | json_special_bytes(hi)) == 0;
#endif
}

/// write_json_string for a C string held in a `char[Size + 1]` array, typically a literal key
/// or value of the fast-path writer: when its Size bytes are plain ASCII (no control byte, so
/// no earlier NUL either, no `"`, `\\` or byte >= 0x80) it is copied with fixed-size moves after
/// a word-at-a-time check, all inline. Otherwise, or when longer than 16 bytes, it is written as
/// std::string_view(s) (up to its first NUL) by write_json_string.
template <std::size_t Size>
inline char* write_json_string_fixed(char* out, char const* s) noexcept {
  if constexpr (Size <= 16) {
    // Assembled byte by byte rather than memcpy'd: for a literal, GCC and clang fold the bytes,
    // the test and its branch away (the key becomes a few constant stores); for any other array
    // they merge the byte loads back into word loads.
    std::uint64_t words[2] = {0, 0};
#pragma GCC unroll 16
    for (std::size_t i = 0; i < Size; ++i) {
      words[i / 8] |= std::uint64_t{static_cast<unsigned char>(s[i])} << (8 * (i % 8));
    }
    // Zero padding past the string would read as control bytes: only its own bytes count.
    // Borrows only run upwards from a flagged byte, so the lowest Size bytes are tested exactly.
    // A function, so that clang does not warn about the shift in the arm not taken for this Size.
    constexpr auto low_bytes = [](std::size_t n) {
      return n >= 8 ? ~std::uint64_t{0} : (std::uint64_t{1} << (8 * n)) - 1;
    };
    constexpr std::uint64_t mask0 = low_bytes(Size);
    constexpr std::uint64_t mask1 = Size <= 8 ? 0 : low_bytes(Size - 8);
    if (((json_special_bytes(words[0]) & mask0) | (json_special_bytes(words[1]) & mask1)) == 0) {
      out[0] = '"';
      std::memcpy(out + 1, s, Size);
      out[Size + 1] = '"';
      return out + Size + 2;
    }
  }
  return write_json_string(out, std::string_view(s));
}

// The first and the last sizeof(Word) bytes of p[0, n) (n >= sizeof(Word); they overlap when
// n < 2 * sizeof(Word)), loaded into `first` and `last` and stored at the same places of `body`.
template <class Word>
inline void copy_ends(char const* p, std::size_t n, char* body, Word& first, Word& last) noexcept {
  std::memcpy(&first, p, sizeof(Word));
  std::memcpy(&last, p + n - sizeof(Word), sizeof(Word));
  std::memcpy(body, &first, sizeof(Word));
  std::memcpy(body + n - sizeof(Word), &last, sizeof(Word));
}

/// write_json_string(out, s), with the common case inline: a string of 1 to 16 plain ASCII
/// bytes (no control byte, `"`, `\\` or byte >= 0x80), such as an id or a short property value,
/// is checked and copied with two overlapping loads and stores, without the call and the
/// general writer's length loops. Anything else (empty, longer, or with a byte to escape or
/// validate) goes to write_json_string. Same output and preconditions as write_json_string;
/// reads only the bytes of `s`. Does not allocate memory. Thread-safe.
inline char* write_json_string_inline(char* out, std::string_view s) noexcept {
  std::size_t const n = s.size();
  if (n - 1 < 16) {  // 1..16 (0 wraps around)
    char const* const p = s.data();
    char* const body = out + 1;
    // Every load stays inside `s`, and each word is made of the string's own bytes only (some
    // twice), so one zero test covers them all. The stores of a short string write its bytes
    // before the test: the output has room for n + 2 bytes, and write_json_string overwrites
    // them when the test fails.
    std::uint64_t lo;
    std::uint64_t hi;
    if (n >= 8) {
      copy_ends(p, n, body, lo, hi);
    } else if (n >= 4) {
      std::uint32_t first;
      std::uint32_t last;
      copy_ends(p, n, body, first, last);
      lo = hi = first | (std::uint64_t{last} << 32);
    } else if (n >= 2) {
      std::uint16_t first;
      std::uint16_t last;
      copy_ends(p, n, body, first, last);
      std::uint64_t const both = first | (std::uint64_t{last} << 16);
      lo = hi = both | (both << 32);
    } else {
      auto const c = static_cast<unsigned char>(*p);
      *body = static_cast<char>(c);
      lo = hi = 0x0101010101010101ULL * c;
    }
    if (json_plain_words(lo, hi)) {
      out[0] = '"';
      body[n] = '"';
      return body + n + 1;
    }
  }
  return write_json_string(out, s);
}

// ---- Numbers ------------------------------------------------------------------------------

/// Longest output of write_integer: "-9223372036854775808" and "18446744073709551615".
constexpr std::size_t max_integer_size = 20;

/// Writes `v` in decimal (a leading `-` when negative). Writes only the returned range;
/// `out` must have room for max_integer_size bytes. Does not allocate memory. Thread-safe.
HTEVENTS_EXPORT char* write_integer(char* out, std::int64_t v) noexcept;
/// Unsigned overload of write_integer.
HTEVENTS_EXPORT char* write_integer(char* out, std::uint64_t v) noexcept;

/// write_integer, with values below 100 written here rather than by the call: counts,
/// quantities and levels usually are that small, and the call costs more than the digits.
inline char* write_integer_inline(char* out, std::uint64_t v) noexcept {
  if (v < 10) {
    *out = static_cast<char>('0' + v);
    return out + 1;
  }
  if (v < 100) {
    auto const small = static_cast<unsigned>(v);
    out[0] = static_cast<char>('0' + small / 10);
    out[1] = static_cast<char>('0' + small % 10);
    return out + 2;
  }
  return write_integer(out, v);
}
/// Signed overload of write_integer_inline: negative values go to the call.
inline char* write_integer_inline(char* out, std::int64_t v) noexcept {
  return v >= 0 ? write_integer_inline(out, static_cast<std::uint64_t>(v)) : write_integer(out, v);
}

/// Bound on write_double's output (the longest shortest form is 24 bytes,
/// e.g. "-2.2250738585072014e-308").
constexpr std::size_t max_double_size = 32;

/// Writes text that parses back to exactly `v`, and is valid JSON: the shortest form
/// (std::to_chars) such as `29.99`, `1e+21`, `1e-07`, `-0`, `5e-324`, with two exceptions.
/// Integral values up to 2^53 are written as integers (`100`, `1000000000000000` rather than
/// `1e+15`). From 9e18 up in magnitude the exponent form is forced (`1e+19`, never a 20-digit
/// token that integer-first parsers such as simdjson 3.0 reject).
/// Precondition: std::isfinite(v) (the encoder rejects NaN and infinities before this).
/// Writes only the returned range; `out` must have room for max_double_size bytes.
/// Does not allocate memory. Thread-safe.
HTEVENTS_EXPORT char* write_double(char* out, double v) noexcept;

}  // namespace detail
}  // namespace v0
}  // namespace htevents
