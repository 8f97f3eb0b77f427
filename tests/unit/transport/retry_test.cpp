#include "transport/retry.hpp"
#include "transport/curl_transport.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <optional>
#include <random>
#include <string>

#include <curl/curl.h>

namespace {

namespace hd = htevents::detail;
using hd::Outcome;
using std::chrono::milliseconds;

// classify(status, transport_ok, transport_permanent, unproven_encoding)
struct ClassifyCase {
  long status;
  bool transport_ok;
  bool transport_permanent;
  bool unproven_encoding;
  Outcome expected;
};

std::string name(Outcome o) {
  switch (o) {
    case Outcome::delivered: return "delivered";
    case Outcome::retry: return "retry";
    case Outcome::refused_encoding: return "refused_encoding";
    case Outcome::split_too_large: return "split_too_large";
    case Outcome::split_refused: return "split_refused";
    case Outcome::rejected: return "rejected";
  }
  return "?";
}

// wire-format.md, Responses, row by row.
TEST(Classify, FollowsTheResponsesTable) {
  ClassifyCase const cases[] = {
      // 2xx: delivered, whatever else is true.
      {200, true, false, false, Outcome::delivered},
      {201, true, false, false, Outcome::delivered},
      {204, true, false, false, Outcome::delivered},
      {299, true, false, false, Outcome::delivered},
      {200, true, false, true, Outcome::delivered},
      // 400: split to isolate the refused messages, unless the encoding never had a 2xx.
      {400, true, false, false, Outcome::split_refused},
      {400, true, false, true, Outcome::refused_encoding},
      // 413: split, proven encoding or not (the body is too large in any encoding).
      {413, true, false, false, Outcome::split_too_large},
      {413, true, false, true, Outcome::split_too_large},
      // 415: the next encoding, always.
      {415, true, false, false, Outcome::refused_encoding},
      {415, true, false, true, Outcome::refused_encoding},
      // 408, 429, 460, 5xx but 501, 505, 511: transient.
      {408, true, false, false, Outcome::retry},
      {429, true, false, false, Outcome::retry},
      {429, true, false, true, Outcome::retry},
      {460, true, false, false, Outcome::retry},
      {500, true, false, false, Outcome::retry},
      {502, true, false, false, Outcome::retry},
      {503, true, false, false, Outcome::retry},
      {503, true, false, true, Outcome::retry},
      {504, true, false, false, Outcome::retry},
      {506, true, false, false, Outcome::retry},
      {510, true, false, false, Outcome::retry},
      {599, true, false, false, Outcome::retry},
      // 501, 505, 511 and the other 4xx: permanent.
      {501, true, false, false, Outcome::rejected},
      {505, true, false, false, Outcome::rejected},
      {511, true, false, false, Outcome::rejected},
      {401, true, false, false, Outcome::rejected},
      {401, true, false, true, Outcome::rejected},
      {403, true, false, false, Outcome::rejected},
      {404, true, false, false, Outcome::rejected},
      {409, true, false, false, Outcome::rejected},
      {422, true, false, false, Outcome::rejected},
      {459, true, false, false, Outcome::rejected},
      {461, true, false, false, Outcome::rejected},
      {499, true, false, false, Outcome::rejected},
      // Redirects are not followed, and nothing else is a known answer: permanent too.
      {301, true, false, false, Outcome::rejected},
      {302, true, false, false, Outcome::rejected},
      {100, true, false, false, Outcome::rejected},
      {600, true, false, false, Outcome::rejected},
      // Transport errors: retried unless another try cannot help.
      {0, false, false, false, Outcome::retry},
      {0, false, false, true, Outcome::retry},
      {0, false, true, false, Outcome::rejected},
      {0, false, true, true, Outcome::rejected},
  };
  for (ClassifyCase const& c : cases) {
    Outcome const got = hd::classify(c.status, c.transport_ok, c.transport_permanent, c.unproven_encoding);
    EXPECT_EQ(name(got), name(c.expected))
        << "status " << c.status << " transport_ok " << c.transport_ok << " permanent " << c.transport_permanent
        << " unproven_encoding " << c.unproven_encoding;
  }
}

TEST(Classify, TransportErrorWinsOverAStaleStatus) {
  // A curl error with a status left over from a previous transfer is still a transport error.
  EXPECT_EQ(name(hd::classify(200, false, false, false)), name(Outcome::retry));
  EXPECT_EQ(name(hd::classify(400, false, false, false)), name(Outcome::retry));
  EXPECT_EQ(name(hd::classify(200, false, true, false)), name(Outcome::rejected));
}

TEST(PermanentTransportError, TlsToAPlainServerIsPermanentButAResetHandshakeIsNot) {
  // https to a plain-HTTP port: OpenSSL reads an HTTP answer as a TLS record.
  EXPECT_TRUE(hd::permanent_transport_error(
      CURLE_SSL_CONNECT_ERROR, "OpenSSL/3.0.19: error:0A00010B:SSL routines::wrong version number"));
  EXPECT_TRUE(hd::permanent_transport_error(CURLE_SSL_CONNECT_ERROR, "error:1408F10B:SSL routines:ssl3_get_record:"
                                                                     "packet length too long"));
  // The same code for a connection reset mid-handshake: another try may well work.
  EXPECT_FALSE(hd::permanent_transport_error(CURLE_SSL_CONNECT_ERROR, "OpenSSL SSL_connect: Connection reset by peer"));
  EXPECT_FALSE(hd::permanent_transport_error(CURLE_SSL_CONNECT_ERROR, ""));
}

TEST(PermanentTransportError, SetupErrorsArePermanentNetworkErrorsAreNot) {
  for (CURLcode code : {CURLE_URL_MALFORMAT, CURLE_UNSUPPORTED_PROTOCOL, CURLE_PEER_FAILED_VERIFICATION,
                        CURLE_SSL_CACERT_BADFILE, CURLE_SSL_CERTPROBLEM, CURLE_SSL_PINNEDPUBKEYNOTMATCH}) {
    EXPECT_TRUE(hd::permanent_transport_error(code, "")) << curl_easy_strerror(code);
  }
  for (CURLcode code : {CURLE_COULDNT_CONNECT, CURLE_COULDNT_RESOLVE_HOST, CURLE_OPERATION_TIMEDOUT,
                        CURLE_SEND_ERROR, CURLE_RECV_ERROR, CURLE_GOT_NOTHING, CURLE_PARTIAL_FILE}) {
    EXPECT_FALSE(hd::permanent_transport_error(code, "")) << curl_easy_strerror(code);
  }
}

TEST(SplitBudget, IsolatesAFewRefusedMessagesAndStaysBounded) {
  // 3 refused messages in 100: at most 2 requests per halving (7 halvings) for each.
  EXPECT_GE(hd::split_budget(100), 2 * 7 * 3);
  // One split is always possible.
  EXPECT_GE(hd::split_budget(2), 2);
  // Far fewer than splitting down to single messages (2n - 2 requests) for a large batch.
  EXPECT_LT(hd::split_budget(2500), 2 * 2500 - 2);
  EXPECT_LE(hd::split_budget(2500), 2 * 12 * hd::split_isolates);
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

TEST(Backoff, RetryAfterIsNotCappedAtRetryMaxButAt300Seconds) {
  std::mt19937_64 rng(5);
  milliseconds const base(10), max(2'000);
  for (int attempt = 1; attempt <= 12; ++attempt) {
    for (int i = 0; i < draws / 4; ++i) {
      // The server knows better than retry_max: 30 s is obeyed; an hour waits 300 s.
      EXPECT_EQ(hd::backoff(attempt, base, max, milliseconds(30'000), rng), milliseconds(30'000));
      EXPECT_EQ(hd::backoff(attempt, base, max, milliseconds(3'600'000), rng), hd::retry_after_cap);
    }
  }
  EXPECT_EQ(hd::retry_after_cap, milliseconds(300'000));
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
