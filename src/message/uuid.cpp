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

char* UuidGenerator::write(char* out) noexcept {
  std::uint64_t hi = next();
  std::uint64_t lo = next();
  hi = (hi & ~0xF000ULL) | 0x4000ULL;                         // version 4: byte 6 = 4x
  lo = (lo & 0x3FFFFFFFFFFFFFFFULL) | 0x8000000000000000ULL;  // variant 10: byte 8 = 10xx xxxx
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

}  // namespace htevents::inline v0::detail
