// CurlTransport, the sender's libcurl-multi HTTP, against the local collector on 127.0.0.1:
// what it reports for an answer, a Retry-After, a refused connection and a URL no retry can
// fix; its slot limit; cancel_all(). (The sender's decisions are unit-tested against a fake.)

#include "transport/curl_transport.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>

#include "collector/collector.hpp"

namespace htevents::inline v0::detail {
namespace {

using namespace std::chrono_literals;

constexpr std::string_view body =
    R"({"batch":[{"type":"track","event":"e","userId":"u","messageId":"m-1","timestamp":"2024-01-01T00:00:00Z"}],)"
    R"("sentAt":"2024-01-01T00:00:00Z","messageId":"b-1"})";

CurlTransportOptions options_for(std::string url, std::size_t max_in_flight = 2) {
  CurlTransportOptions o;
  o.url = std::move(url);
  o.authorization = "Authorization: Basic dGVzdC13cml0ZS1rZXk6";
  o.max_in_flight = max_in_flight;
  o.request_timeout = 5000ms;
  return o;
}

std::string batch_url(collector::Collector const& c) { return c.endpoint() + "/v1/batch"; }

// Drives the transport until one request completes (or 10 s pass).
bool complete_one(CurlTransport& http, HttpTransport::Completion& done) {
  auto const until = std::chrono::steady_clock::now() + 10s;
  while (std::chrono::steady_clock::now() < until) {
    http.perform();
    if (http.next_completion(done)) return true;
    http.wait(10ms);
  }
  return false;
}

TEST(CurlTransport, ReportsTheAnswerWithItsTag) {
  collector::Collector collector{collector::Options{}};
  CurlTransport http(options_for(batch_url(collector)));
  int tag = 0;
  ASSERT_TRUE(http.start(&tag, body, Compression::none));
  HttpTransport::Completion done;
  ASSERT_TRUE(complete_one(http, done));
  EXPECT_EQ(done.tag, &tag);
  EXPECT_TRUE(done.response.transport_ok);
  EXPECT_EQ(done.response.status, 200) << done.response.body;
  EXPECT_FALSE(done.response.retry_after);
}

TEST(CurlTransport, ParsesRetryAfter) {
  collector::Options o;
  o.fail_first = 1;
  o.fail_first_status = 429;
  o.fail_first_retry_after = 2;
  collector::Collector collector(o);
  CurlTransport http(options_for(batch_url(collector)));
  int tag = 0;
  ASSERT_TRUE(http.start(&tag, body, Compression::none));
  HttpTransport::Completion done;
  ASSERT_TRUE(complete_one(http, done));
  EXPECT_EQ(done.response.status, 429);
  ASSERT_TRUE(done.response.retry_after);
  EXPECT_EQ(*done.response.retry_after, 2000ms);
  EXPECT_EQ(describe(done.response).rfind("HTTP 429: ", 0), 0u) << describe(done.response);
}

TEST(CurlTransport, ARefusedConnectionIsATransientTransportError) {
  std::string url;
  {
    collector::Collector gone{collector::Options{}};
    url = batch_url(gone);
  }  // nothing listens on that port now
  CurlTransport http(options_for(url));
  int tag = 0;
  ASSERT_TRUE(http.start(&tag, body, Compression::none));
  HttpTransport::Completion done;
  ASSERT_TRUE(complete_one(http, done));
  EXPECT_FALSE(done.response.transport_ok);
  EXPECT_FALSE(done.response.transport_permanent);
  EXPECT_EQ(done.response.status, 0);
  EXPECT_FALSE(done.response.error.empty());
  EXPECT_EQ(describe(done.response).rfind("curl: ", 0), 0u);
}

TEST(CurlTransport, AnUnsupportedSchemeIsPermanent) {
  CurlTransport http(options_for("htps://127.0.0.1:1/v1/batch"));
  int tag = 0;
  ASSERT_TRUE(http.start(&tag, body, Compression::none));
  HttpTransport::Completion done;
  ASSERT_TRUE(complete_one(http, done));
  EXPECT_FALSE(done.response.transport_ok);
  EXPECT_TRUE(done.response.transport_permanent);
}

TEST(CurlTransport, StartsAtMostMaxInFlightAndCancelsThem) {
  collector::Options o;
  o.delay = 2000ms;
  collector::Collector collector(o);
  CurlTransport http(options_for(batch_url(collector), 2));
  EXPECT_EQ(http.max_in_flight(), 2u);
  int a = 0, b = 0, c = 0;
  ASSERT_TRUE(http.start(&a, body, Compression::none));
  ASSERT_TRUE(http.start(&b, body, Compression::none));
  EXPECT_FALSE(http.start(&c, body, Compression::none)) << "no free slot";
  http.perform();
  http.cancel_all();
  HttpTransport::Completion done;
  http.perform();
  EXPECT_FALSE(http.next_completion(done)) << "cancelled requests never complete";
  EXPECT_TRUE(http.start(&c, body, Compression::none)) << "their slots are free again";
  http.cancel_all();
}

}  // namespace
}  // namespace htevents::inline v0::detail
