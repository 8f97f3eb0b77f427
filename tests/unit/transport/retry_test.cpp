#include "transport/retry.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <optional>
#include <random>
#include <string>

namespace {

namespace hd = htevents::detail;
using hd::Outcome;
using std::chrono::milliseconds;

// classify(status, transport_ok, transport_permanent, first_compressed_request)
struct ClassifyCase {
  long status;
  bool transport_ok;
  bool transport_permanent;
  bool first_compressed;
  Outcome expected;
};

TEST(Classify, FollowsTheResponsesTable) {
  ClassifyCase const cases[] = {
      // 2xx: delivered, whatever else is true.
      {200, true, false, false, Outcome::delivered},
      {201, true, false, false, Outcome::delivered},
      {204, true, false, false, Outcome::delivered},
      {299, true, false, false, Outcome::delivered},
      {200, true, false, true, Outcome::delivered},
      // 408, 429, 5xx: retried.
      {408, true, false, false, Outcome::retry},
      {429, true, false, false, Outcome::retry},
      {500, true, false, false, Outcome::retry},
      {502, true, false, false, Outcome::retry},
      {503, true, false, false, Outcome::retry},
      {504, true, false, false, Outcome::retry},
      {599, true, false, false, Outcome::retry},
      {503, true, false, true, Outcome::retry},
      {429, true, false, true, Outcome::retry},
      // Other 4xx: permanent.
      {400, true, false, false, Outcome::rejected},
      {401, true, false, false, Outcome::rejected},
      {403, true, false, false, Outcome::rejected},
      {404, true, false, false, Outcome::rejected},
      {413, true, false, false, Outcome::rejected},
      {422, true, false, false, Outcome::rejected},
      {401, true, false, true, Outcome::rejected},
      // Redirects are not followed: permanent too.
      {301, true, false, false, Outcome::rejected},
      {302, true, false, false, Outcome::rejected},
      // 415 always asks for the next encoding; 400 only on the first compressed request.
      {415, true, false, false, Outcome::refused_encoding},
      {415, true, false, true, Outcome::refused_encoding},
      {400, true, false, true, Outcome::refused_encoding},
      // Transport errors: retried unless another try cannot help.
      {0, false, false, false, Outcome::retry},
      {0, false, false, true, Outcome::retry},
      {0, false, true, false, Outcome::rejected},
      {0, false, true, true, Outcome::rejected},
  };
  for (ClassifyCase const& c : cases) {
    EXPECT_EQ(hd::classify(c.status, c.transport_ok, c.transport_permanent, c.first_compressed), c.expected)
        << "status " << c.status << " transport_ok " << c.transport_ok << " permanent " << c.transport_permanent
        << " first_compressed " << c.first_compressed;
  }
}

TEST(Classify, TransportErrorWinsOverAStaleStatus) {
  // A curl error with a status left over from a previous transfer is still a transport error.
  EXPECT_EQ(hd::classify(200, false, false, false), Outcome::retry);
  EXPECT_EQ(hd::classify(200, false, true, false), Outcome::rejected);
}

constexpr int draws = 2000;

TEST(Backoff, StaysWithinFullJitterBounds) {
  std::mt19937_64 rng(42);
  milliseconds const base(100), max(10'000);
  for (int attempt = 1; attempt <= 20; ++attempt) {
    std::int64_t const ceiling = std::min<std::int64_t>(max.count(), base.count() << std::min(attempt - 1, 40));
    std::int64_t lowest = ceiling, highest = 0;
    for (int i = 0; i < draws; ++i) {
      std::int64_t const wait = hd::backoff(attempt, base, max, std::nullopt, rng).count();
      ASSERT_GE(wait, 0) << "attempt " << attempt;
      ASSERT_LE(wait, ceiling) << "attempt " << attempt;
      lowest = std::min(lowest, wait);
      highest = std::max(highest, wait);
    }
    // Full jitter: the draws cover the range, not just its top or its bottom.
    EXPECT_LE(lowest, ceiling / 10) << "attempt " << attempt;
    EXPECT_GE(highest, ceiling - ceiling / 10) << "attempt " << attempt;
  }
}

TEST(Backoff, HugeAttemptCountsDoNotOverflow) {
  std::mt19937_64 rng(7);
  for (int attempt : {31, 32, 63, 64, 1000, 1 << 30}) {
    for (int i = 0; i < 100; ++i) {
      auto const wait = hd::backoff(attempt, milliseconds(100), milliseconds(10'000), std::nullopt, rng);
      ASSERT_GE(wait.count(), 0);
      ASSERT_LE(wait.count(), 10'000);
    }
  }
}

TEST(Backoff, ZeroBaseMeansNoWait) {
  std::mt19937_64 rng(3);
  for (int attempt = 1; attempt <= 10; ++attempt) {
    EXPECT_EQ(hd::backoff(attempt, milliseconds(0), milliseconds(0), std::nullopt, rng).count(), 0);
  }
}

TEST(Backoff, WaitsAtLeastRetryAfter) {
  std::mt19937_64 rng(11);
  milliseconds const base(10), max(5'000);
  for (int attempt = 1; attempt <= 12; ++attempt) {
    std::int64_t const ceiling = std::min<std::int64_t>(max.count(), base.count() << (attempt - 1));
    for (int i = 0; i < draws / 4; ++i) {
      std::int64_t const wait = hd::backoff(attempt, base, max, milliseconds(1000), rng).count();
      ASSERT_GE(wait, 1000) << "attempt " << attempt;
      ASSERT_LE(wait, std::max<std::int64_t>(ceiling, 1000)) << "attempt " << attempt;
    }
  }
}

TEST(Backoff, RetryAfterIsCappedAtRetryMax) {
  std::mt19937_64 rng(5);
  milliseconds const base(10), max(2'000);
  for (int attempt = 1; attempt <= 12; ++attempt) {
    for (int i = 0; i < draws / 4; ++i) {
      // The jitter never exceeds retry_max, so a capped Retry-After gives exactly retry_max.
      EXPECT_EQ(hd::backoff(attempt, base, max, milliseconds(3'600'000), rng), max) << "attempt " << attempt;
    }
  }
}

TEST(Backoff, ZeroRetryAfterLeavesTheJitter) {
  std::mt19937_64 rng(9);
  std::int64_t highest = 0;
  for (int i = 0; i < draws; ++i) {
    std::int64_t const wait = hd::backoff(4, milliseconds(100), milliseconds(10'000), milliseconds(0), rng).count();
    ASSERT_GE(wait, 0);
    ASSERT_LE(wait, 800);
    highest = std::max(highest, wait);
  }
  EXPECT_GT(highest, 400);
}

// 2015-10-21T07:28:00Z.
constexpr std::int64_t date_epoch = 1'445'412'480;
constexpr char const* date_text = "Wed, 21 Oct 2015 07:28:00 GMT";

TEST(ParseRetryAfter, ReadsDeltaSeconds) {
  EXPECT_EQ(hd::parse_retry_after("0", date_epoch), milliseconds(0));
  EXPECT_EQ(hd::parse_retry_after("1", date_epoch), milliseconds(1000));
  EXPECT_EQ(hd::parse_retry_after("120", date_epoch), milliseconds(120'000));
  // Header values arrive with the blank after the colon and the line ending.
  EXPECT_EQ(hd::parse_retry_after(" 5\r\n", date_epoch), milliseconds(5000));
  EXPECT_EQ(hd::parse_retry_after("\t7 ", date_epoch), milliseconds(7000));
}

TEST(ParseRetryAfter, CapsAbsurdDelays) {
  auto const wait = hd::parse_retry_after("99999999999", date_epoch);
  ASSERT_TRUE(wait.has_value());
  EXPECT_LE(*wait, milliseconds(86'400'000));
  EXPECT_GT(*wait, milliseconds(0));
}

TEST(ParseRetryAfter, ReadsAnHttpDate) {
  EXPECT_EQ(hd::parse_retry_after(date_text, date_epoch - 30), milliseconds(30'000));
  EXPECT_EQ(hd::parse_retry_after(std::string(" ") + date_text + "\r\n", date_epoch - 2), milliseconds(2000));
  EXPECT_EQ(hd::parse_retry_after(date_text, date_epoch), milliseconds(0));
}

TEST(ParseRetryAfter, PastDateMeansNoWait) {
  EXPECT_EQ(hd::parse_retry_after(date_text, date_epoch + 3600), milliseconds(0));
  EXPECT_EQ(hd::parse_retry_after("Thu, 01 Jan 1998 00:00:00 GMT", date_epoch), milliseconds(0));
}

TEST(ParseRetryAfter, RejectsGarbage) {
  for (char const* garbage : {"", " ", "\r\n", "-1", "-120", "soon", "abc", "Wed, 99 Foo 2015 xx:yy:zz GMT", "\x01\x02"}) {
    EXPECT_EQ(hd::parse_retry_after(garbage, date_epoch), std::nullopt) << "input: '" << garbage << "'";
  }
}

}  // namespace
