// Random (version 4) UUIDs.
#include "message/uuid.hpp"

#include <array>
#include <atomic>
#include <bit>
#include <chrono>
#include <cstring>
#include <random>

#include "message/sse2.hpp"

namespace htevents::inline v0::detail {
namespace {

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

// The 128 random bits become 32 hex digits in two runs of 16, written where they land in the
// text: out[0, 16) and out[20, 36). Which bit ends up where does not matter (they are all
// random), so there is no byte swap and no masking, and the layout is a handful of byte stores
// rather than five copies out of a temporary: the two digits under the dashes at 8 and 13 move
// to 16 and 17 (the gap between the runs), the digit at 14 becomes the version '4' and two of
// its bits pick the variant digit at 19, the digit at 23 gives way to the last dash. That keeps
// 30 random digits and 2 random variant bits: 122 random bits, as RFC 9562 version 4 has.
char* UuidGenerator::write(char* out) noexcept {
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
    std::memcpy(out + 2 * i, &hex_pairs[2 * ((a >> (8 * i)) & 0xff)], 2);
    std::memcpy(out + 20 + 2 * i, &hex_pairs[2 * ((b >> (8 * i)) & 0xff)], 2);
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
