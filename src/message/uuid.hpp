#pragma once
// Message ids: random (version 4) UUIDs. No allocation, no lock, no system call per id.

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "message/sse2.hpp"

namespace htevents::inline v0::detail {

/// Random (version 4) UUIDs, as 36 lowercase characters without quotes:
/// `xxxxxxxx-xxxx-4xxx-Yxxx-xxxxxxxxxxxx` with Y in 8, 9, a, b.
///
/// Generation is pure arithmetic (xoshiro256**, 122 random bits per id); the only system call
/// is std::random_device in the default constructor. Not thread-safe: keep one per thread
/// (`thread_local` in the caller). Not cryptographically secure: ids are unique, not secret.
/// A process that fork()s must not keep using a generator created before the fork in both
/// parent and child: the two would produce the same ids.
class UuidGenerator {
 public:
  /// Seeds from std::random_device, mixed with a process-wide counter, the object's address
  /// and the clocks, so two generators never share a stream even if random_device is weak
  /// or fails. Does not allocate memory.
  UuidGenerator() noexcept;
  /// Deterministic stream for tests: the same seed gives the same ids.
  explicit UuidGenerator(std::uint64_t seed) noexcept;

  static constexpr std::size_t size = 36;

  /// Writes one id (exactly `size` bytes) and returns out + size. Does not allocate memory.
  /// Inline (below): it is a few dozen instructions, called once per message.
  char* write(char* out) noexcept;

 private:
  std::uint64_t next() noexcept;
  void seed(std::uint64_t a, std::uint64_t b) noexcept;

  std::uint64_t state_[4]{};
};

// The portable path's byte-to-two-hex-digits table.
constexpr std::array<char, 512> make_uuid_hex_pairs() noexcept {
  std::array<char, 512> t{};
  constexpr char hex[] = "0123456789abcdef";
  for (std::size_t i = 0; i < 256; ++i) {
    t[2 * i] = hex[i >> 4];
    t[2 * i + 1] = hex[i & 0xf];
  }
  return t;
}
[[maybe_unused]] inline constexpr std::array<char, 512> uuid_hex_pairs = make_uuid_hex_pairs();

inline std::uint64_t UuidGenerator::next() noexcept {  // xoshiro256** 1.0
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

// The 128 random bits become 32 hex digits in two runs of 16, written where they land in the
// text: out[0, 16) and out[20, 36). Which bit ends up where does not matter (they are all
// random), so there is no byte swap and no masking, and the layout is a handful of byte stores
// rather than five copies out of a temporary: the two digits under the dashes at 8 and 13 move
// to 16 and 17 (the gap between the runs), the digit at 14 becomes the version '4' and two of
// its bits pick the variant digit at 19, the digit at 23 gives way to the last dash. That keeps
// 30 random digits and 2 random variant bits: 122 random bits, as RFC 9562 version 4 has.
inline char* UuidGenerator::write(char* out) noexcept {
  std::uint64_t const a = next();
  std::uint64_t const b = next();
#if HTEVENTS_JSON_SSE2
  // Nibbles to ASCII, 16 per register: each byte's high nibble, then its low one.
  __m128i const bytes = _mm_set_epi64x(static_cast<long long>(b), static_cast<long long>(a));
  __m128i const low_mask = _mm_set1_epi8(0x0f);
  __m128i const lo_nib = _mm_and_si128(bytes, low_mask);
  __m128i const hi_nib = _mm_and_si128(_mm_srli_epi16(bytes, 4), low_mask);
  auto const to_ascii = [](__m128i nibbles) {
    __m128i const letters = _mm_and_si128(_mm_cmpgt_epi8(nibbles, _mm_set1_epi8(9)), _mm_set1_epi8('a' - '0' - 10));
    return _mm_add_epi8(_mm_add_epi8(nibbles, _mm_set1_epi8('0')), letters);
  };
  _mm_storeu_si128(reinterpret_cast<__m128i*>(out), to_ascii(_mm_unpacklo_epi8(hi_nib, lo_nib)));
  _mm_storeu_si128(reinterpret_cast<__m128i*>(out + 20), to_ascii(_mm_unpackhi_epi8(hi_nib, lo_nib)));
#else
  for (int i = 0; i < 8; ++i) {
    std::memcpy(out + 2 * i, &uuid_hex_pairs[2 * ((a >> (8 * i)) & 0xff)], 2);
    std::memcpy(out + 20 + 2 * i, &uuid_hex_pairs[2 * ((b >> (8 * i)) & 0xff)], 2);
  }
#endif
  // Digit 14 is the high nibble of a's byte 7 (bits 60-63) in both paths: bits 60-61 pick the
  // variant, 62-63 are dropped with that digit.
  static constexpr char variants[] = {'8', '9', 'a', 'b'};
  out[16] = out[8];
  out[17] = out[13];
  out[8] = '-';
  out[13] = '-';
  out[14] = '4';
  out[18] = '-';
  out[19] = variants[(a >> 60) & 3];
  out[23] = '-';
  return out + size;
}

}  // namespace htevents::inline v0::detail
