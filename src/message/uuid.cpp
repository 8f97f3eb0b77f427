// Random (version 4) UUIDs.
#include "message/uuid.hpp"

#include <array>
#include <atomic>
#include <bit>
#include <chrono>
#include <cstring>
#include <random>

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

}  // namespace htevents::inline v0::detail
