// CRC-32C: the published vectors, the hardware path against the table at every length and
// alignment the records use (and the multi-round lengths of the three-stream join), chaining.

#include "spool/crc32c.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "spool/format.hpp"

namespace htevents::inline v0::detail::spool {
namespace {

std::vector<unsigned char> random_bytes(std::size_t n, std::uint32_t seed) {
  std::minstd_rand rng(seed);
  std::vector<unsigned char> v(n);
  for (auto& b : v) b = static_cast<unsigned char>(rng());
  return v;
}

TEST(Crc32c, MatchesPublishedVectors) {
  std::string_view const check = "123456789";
  EXPECT_EQ(crc32c(check.data(), check.size()), 0xE3069283U);
  EXPECT_EQ(crc32c_portable(check.data(), check.size()), 0xE3069283U);
  // RFC 3720 (iSCSI), appendix B.4.
  std::vector<unsigned char> bytes(32, 0x00);
  EXPECT_EQ(crc32c(bytes.data(), bytes.size()), 0x8A9136AAU);
  bytes.assign(32, 0xFF);
  EXPECT_EQ(crc32c(bytes.data(), bytes.size()), 0x62A8AB43U);
  for (std::size_t i = 0; i < 32; ++i) bytes[i] = static_cast<unsigned char>(i);
  EXPECT_EQ(crc32c(bytes.data(), bytes.size()), 0x46DD794EU);
  for (std::size_t i = 0; i < 32; ++i) bytes[i] = static_cast<unsigned char>(31 - i);
  EXPECT_EQ(crc32c(bytes.data(), bytes.size()), 0x113FDB5CU);
}

TEST(Crc32c, EmptyInputReturnsTheSeed) {
  EXPECT_EQ(crc32c(nullptr, 0), 0U);
  EXPECT_EQ(crc32c(nullptr, 0, 0x12345678U), 0x12345678U);
  EXPECT_EQ(crc32c_portable(nullptr, 0, 0x12345678U), 0x12345678U);
}

TEST(Crc32c, HardwareMatchesTableAtEveryLengthAndAlignment) {
  RecordProperty("implementation", std::string(crc32c_implementation()));
  auto const bytes = random_bytes(300 + 64, 1);
  std::minstd_rand rng(2);
  for (std::size_t length = 0; length <= 300; ++length) {
    for (std::size_t align = 0; align < 64; ++align) {
      auto const seed = static_cast<std::uint32_t>(rng());
      ASSERT_EQ(crc32c(bytes.data() + align, length, seed), crc32c_portable(bytes.data() + align, length, seed))
          << "length " << length << ", alignment " << align << ", " << crc32c_implementation();
    }
  }
}

// Long inputs go through several rounds of the join (streams of up to 256 words each).
TEST(Crc32c, HardwareMatchesTableOnLongInputs) {
  auto const bytes = random_bytes(70'000, 3);
  std::minstd_rand rng(4);
  for (std::size_t length : {6143U, 6144U, 6145U, 6150U, 12'288U, 12'301U, 65'536U, 69'999U}) {
    auto const seed = static_cast<std::uint32_t>(rng());
    EXPECT_EQ(crc32c(bytes.data() + 1, length, seed), crc32c_portable(bytes.data() + 1, length, seed))
        << "length " << length;
  }
  for (int i = 0; i < 200; ++i) {
    std::size_t const length = rng() % 69'000;
    std::size_t const align = rng() % 8;
    EXPECT_EQ(crc32c(bytes.data() + align, length), crc32c_portable(bytes.data() + align, length))
        << "length " << length;
  }
}

// The sync's three-chain version, against the table one buffer at a time: equal lengths,
// lengths a few bytes apart (the usual records), one far longer than the others (its rest goes
// through the multi-stream update), empty buffers, odd alignments, a seed each.
TEST(Crc32c, ThreeAtOnceMatchesTheTableForEachBuffer) {
  auto const bytes = random_bytes(3 * 7000 + 64, 6);
  std::minstd_rand rng(7);
  auto check = [&](std::size_t a, std::size_t b, std::size_t c) {
    std::size_t const sizes[3] = {a, b, c};
    CrcJob jobs[3];
    for (std::size_t j = 0; j < 3; ++j) {
      jobs[j] = {bytes.data() + j * 7000 + rng() % 64, sizes[j], static_cast<std::uint32_t>(rng()), 0};
    }
    crc32c_three(jobs);
    for (CrcJob const& job : jobs) {
      ASSERT_EQ(job.crc, crc32c_portable(job.data, job.size, job.seed))
          << "sizes " << a << ", " << b << ", " << c << ", " << crc32c_implementation();
    }
  };
  for (std::size_t n = 0; n <= 300; ++n) check(n, n, n);
  for (std::size_t n = 200; n <= 300; ++n) check(n, n + rng() % 24, n - rng() % 24);
  for (std::size_t n : {0U, 1U, 7U, 8U, 79U, 80U, 81U, 2047U, 6143U, 6144U, 6145U, 6900U}) {
    check(n, 250, 251);
    check(250, n, 9);
    check(3, 249, n);
  }
  for (int i = 0; i < 300; ++i) check(rng() % 7000, rng() % 7000, rng() % 7000);
}

TEST(Crc32c, ContinuesFromAPreviousResult) {
  auto const bytes = random_bytes(1000, 5);
  std::uint32_t const whole = crc32c(bytes.data(), bytes.size());
  for (std::size_t split = 0; split <= bytes.size(); split += 7) {
    std::uint32_t const head = crc32c(bytes.data(), split);
    EXPECT_EQ(crc32c(bytes.data() + split, bytes.size() - split, head), whole) << "split at " << split;
    EXPECT_EQ(crc32c_portable(bytes.data() + split, bytes.size() - split, crc32c_portable(bytes.data(), split)), whole);
  }
}

TEST(Crc32c, UsesTheHardwareWhereTheBuildAllowsIt) {
#if defined(HTEVENTS_PORTABLE)
  EXPECT_EQ(crc32c_implementation(), "table");
#elif defined(__x86_64__)
  if (__builtin_cpu_supports("sse4.2")) {
    EXPECT_NE(crc32c_implementation(), "table");
  }
#elif defined(__aarch64__) && defined(__ARM_FEATURE_CRC32)
  EXPECT_EQ(crc32c_implementation(), "armv8-crc");
#endif
}

}  // namespace
}  // namespace htevents::inline v0::detail::spool
