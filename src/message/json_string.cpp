// JSON strings: escaping (write_json_string), its exact size, and character counting.
#include <array>
#include <bit>
#include <cstring>

#include "htevents/detail/json_write.hpp"
#include "message/json_string.hpp"
#include "message/sse2.hpp"
#include "message/utf8.hpp"

namespace htevents::inline v0::detail {
namespace {

// ---- String escaping ----------------------------------------------------------------------

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
  [[maybe_unused]] char* const out_begin = ++out;  // the SSE2 path's tail check uses it
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

// ---- Characters ---------------------------------------------------------------------------

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
