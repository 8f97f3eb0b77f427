// Tests of the local collector itself, over real HTTP on 127.0.0.1 with libcurl.
#include <curl/curl.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "collector/collector.hpp"

namespace {

using htevents::collector::Collector;
using htevents::collector::Options;

struct Reply {
  CURLcode curl = CURLE_OK;
  long status = 0;
  std::string body;
  std::string headers;
};

std::size_t append_to(char* data, std::size_t size, std::size_t count, void* target) {
  static_cast<std::string*>(target)->append(data, size * count);
  return size * count;
}

Reply request(std::string const& url, std::string const* body, std::string const& content_encoding = "") {
  Reply reply;
  CURL* curl = curl_easy_init();
  curl_slist* headers = nullptr;
  headers = curl_slist_append(headers, "Content-Type: application/json");
  headers = curl_slist_append(headers, "Authorization: Basic a2V5Og==");
  headers = curl_slist_append(headers, "User-Agent: events-sdk-cpp (version: 0.1.0)");
  headers = curl_slist_append(headers, "Expect:");
  if (!content_encoding.empty()) headers = curl_slist_append(headers, ("Content-Encoding: " + content_encoding).c_str());
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  if (body != nullptr) {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body->data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body->size()));
  }
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &append_to);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &reply.body);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, &append_to);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &reply.headers);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 10000L);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  reply.curl = curl_easy_perform(curl);
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &reply.status);
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  return reply;
}

Reply post(Collector const& collector, std::string const& body, std::string const& encoding = "",
           std::string const& path = "/v1/batch") {
  return request(collector.endpoint() + path, &body, encoding);
}

std::string message(std::string const& type, std::string const& id) {
  return R"({"type":")" + type + R"(","messageId":")" + id +
         R"(","userId":"u1","event":"Order completed","timestamp":"2026-11-26T10:00:00.123Z"})";
}

std::string batch(std::vector<std::string> const& messages) {
  std::string body = R"({"messageId":"b","sentAt":"2026-11-26T10:00:00Z","batch":[)";
  for (std::size_t i = 0; i < messages.size(); ++i) body += (i ? "," : "") + messages[i];
  return body + R"(],"context":{"library":{"name":"events-sdk-cpp","version":"0.1.0"}}})";
}

std::string uuid(int n) {
  char text[37];
  std::snprintf(text, sizeof text, "00000000-0000-4000-8000-%012x", n);
  return text;
}

std::string track_batch(int first, int count) {
  std::vector<std::string> messages;
  for (int i = first; i < first + count; ++i) messages.push_back(message("track", uuid(i)));
  return batch(messages);
}

TEST(Collector, CountsUniqueMessageIds) {
  Collector collector;
  std::string const body =
      batch({message("track", uuid(1)), message("track", uuid(2)), message("track", uuid(1)), message("track", "not-a-uuid")});
  Reply const reply = post(collector, body);
  ASSERT_EQ(reply.curl, CURLE_OK);
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.body, R"({"ok":true})");
  auto stats = collector.stats();
  EXPECT_EQ(stats.requests, 1u);
  EXPECT_EQ(stats.accepted_batches, 1u);
  EXPECT_EQ(stats.events, 4u);
  EXPECT_EQ(stats.unique_message_ids, 3u);
  EXPECT_EQ(stats.duplicate_message_ids, 1u);
  EXPECT_EQ(stats.by_type.track, 4u);
  EXPECT_EQ(stats.by_encoding.identity, 1u);
  EXPECT_EQ(stats.bytes_received, body.size());
  EXPECT_EQ(stats.bytes_decoded, body.size());

  EXPECT_EQ(post(collector, body).status, 200);  // a retry: everything is a duplicate
  stats = collector.stats();
  EXPECT_EQ(stats.events, 8u);
  EXPECT_EQ(stats.unique_message_ids, 3u);
  EXPECT_EQ(stats.duplicate_message_ids, 5u);
  EXPECT_EQ(stats.answered_2xx, 2u);
}

// Growing the id set stops every answer while it rehashes (tens of milliseconds at millions of
// ids): a collector told how many ids to expect never grows through that many.
TEST(Collector, SizedForItsIdsItNeverGrowsItsIdSet) {
  constexpr int ids = 200'000, per_batch = 2'000;
  Options sized;
  sized.expected_ids = ids;
  Collector expecting(sized);
  Collector unsized;
  for (int first = 0; first < ids; first += per_batch) {
    std::string const body = track_batch(first, per_batch);
    ASSERT_EQ(post(expecting, body).status, 200);
    ASSERT_EQ(post(unsized, body).status, 200);
  }
  EXPECT_EQ(expecting.stats().unique_message_ids, static_cast<std::uint64_t>(ids));
  EXPECT_EQ(expecting.stats().id_set_growths, 0u);
  EXPECT_EQ(unsized.stats().unique_message_ids, static_cast<std::uint64_t>(ids));
  EXPECT_GT(unsized.stats().id_set_growths, 0u) << "the default size holds fewer ids than this test sends";
  EXPECT_NE(expecting.stats().to_json().find(R"("id_set_growths":0})"), std::string::npos);
}

TEST(Collector, CountsEveryMessageType) {
  Collector collector;
  Reply const reply = post(collector, batch({message("identify", "a"), message("track", "b"), message("page", "c"),
                                             message("screen", "d"), message("group", "e"), message("alias", "f"),
                                             message("bogus", "g")}));
  EXPECT_EQ(reply.status, 200);
  auto const stats = collector.stats();
  EXPECT_EQ(stats.by_type.identify, 1u);
  EXPECT_EQ(stats.by_type.track, 1u);
  EXPECT_EQ(stats.by_type.page, 1u);
  EXPECT_EQ(stats.by_type.screen, 1u);
  EXPECT_EQ(stats.by_type.group, 1u);
  EXPECT_EQ(stats.by_type.alias, 1u);
  EXPECT_EQ(stats.events, 6u);
  EXPECT_EQ(stats.invalid_messages, 1u);
}

TEST(Collector, AcceptsGzipBody) {
  Collector collector;
  std::string const body = track_batch(0, 50);
  std::string const wire = htevents::collector::gzip_compress(body);
  Reply const reply = post(collector, wire, "gzip");
  EXPECT_EQ(reply.status, 200);
  auto const stats = collector.stats();
  EXPECT_EQ(stats.unique_message_ids, 50u);
  EXPECT_EQ(stats.by_encoding.gzip, 1u);
  EXPECT_EQ(stats.bytes_received, wire.size());
  EXPECT_EQ(stats.bytes_decoded, body.size());
}

TEST(Collector, AcceptsZstdBody) {
  Collector collector;
  std::string const body = track_batch(0, 250);
  std::string const wire = htevents::collector::zstd_compress(body, 1);
  EXPECT_EQ(post(collector, wire, "zstd").status, 200);
  auto const stats = collector.stats();
  EXPECT_EQ(stats.unique_message_ids, 250u);
  EXPECT_EQ(stats.by_encoding.zstd, 1u);
  EXPECT_EQ(stats.bytes_received, wire.size());
  EXPECT_EQ(stats.bytes_decoded, body.size());
}

TEST(Collector, RejectsInvalidJsonWith400) {
  Collector collector;
  EXPECT_EQ(post(collector, R"({"batch":[{"type":"track","messageId":"x"})").status, 400);
  EXPECT_EQ(post(collector, R"({"nobatch":[]})").status, 400);
  auto const stats = collector.stats();
  EXPECT_EQ(stats.requests, 2u);
  EXPECT_EQ(stats.accepted_batches, 0u);
  EXPECT_EQ(stats.events, 0u);
  EXPECT_EQ(stats.invalid_messages, 0u);
  EXPECT_EQ(stats.answered_4xx, 2u);
}

TEST(Collector, RejectsCorruptCompressedBodiesWith400) {
  Collector collector;
  std::string const zstd = htevents::collector::zstd_compress(track_batch(0, 10));
  std::string const gzip = htevents::collector::gzip_compress(track_batch(0, 10));
  EXPECT_EQ(post(collector, zstd.substr(0, zstd.size() / 2), "zstd").status, 400);
  EXPECT_EQ(post(collector, gzip.substr(0, gzip.size() / 2), "gzip").status, 400);
  EXPECT_EQ(post(collector, "plain text", "zstd").status, 400);
  EXPECT_EQ(collector.stats().events, 0u);
}

TEST(Collector, CountsMessageWithoutMessageIdAsInvalid) {
  Collector collector;
  Reply const reply = post(collector, batch({message("track", uuid(1)), R"({"type":"track","userId":"u"})",
                                             R"({"type":"track","messageId":7})", "42"}));
  EXPECT_EQ(reply.status, 200);
  auto const stats = collector.stats();
  EXPECT_EQ(stats.events, 1u);
  EXPECT_EQ(stats.invalid_messages, 3u);
  EXPECT_EQ(stats.unique_message_ids, 1u);
}

TEST(Collector, AcceptsPathPrefixAndAnswers404Elsewhere) {
  Collector collector;
  EXPECT_EQ(post(collector, track_batch(0, 1), "", "/some/prefix/v1/batch").status, 200);
  EXPECT_EQ(post(collector, track_batch(1, 1), "", "/v1/other").status, 404);
  EXPECT_EQ(request(collector.endpoint() + "/nothing", nullptr).status, 404);
  EXPECT_EQ(collector.stats().events, 1u);
  EXPECT_EQ(collector.last_headers().path, "/some/prefix/v1/batch");
}

TEST(Collector, AnswersUnknownEncodingWith415) {
  Collector collector;
  EXPECT_EQ(post(collector, track_batch(0, 1), "br").status, 415);
  EXPECT_EQ(collector.stats().answered_4xx, 1u);
  EXPECT_EQ(collector.stats().events, 0u);
}

TEST(Collector, RefusedEncodingGets415) {
  Collector collector({.refused_encodings = {"zstd"}});
  std::string const body = track_batch(0, 5);
  EXPECT_EQ(post(collector, htevents::collector::zstd_compress(body), "zstd").status, 415);
  EXPECT_EQ(post(collector, htevents::collector::gzip_compress(body), "gzip").status, 200);
  auto const stats = collector.stats();
  EXPECT_EQ(stats.answered_4xx, 1u);
  EXPECT_EQ(stats.answered_2xx, 1u);
  EXPECT_EQ(stats.unique_message_ids, 5u);
}

TEST(Collector, AnswersStatsAsJson) {
  Collector collector;
  post(collector, track_batch(0, 3));
  Reply const reply = request(collector.endpoint() + "/stats", nullptr);
  EXPECT_EQ(reply.status, 200);
  EXPECT_NE(reply.body.find(R"("unique_message_ids":3,)"), std::string::npos) << reply.body;
  EXPECT_NE(reply.body.find(R"("by_type":{"identify":0,"track":3,)"), std::string::npos) << reply.body;
  EXPECT_EQ(reply.body, collector.stats().to_json());
}

TEST(Collector, FixedStatusAnswersEveryPostAndAcceptsNothing) {
  Collector collector({.fixed_status = 503});
  EXPECT_EQ(post(collector, track_batch(0, 3)).status, 503);
  EXPECT_EQ(post(collector, "not even json").status, 503);
  auto stats = collector.stats();
  EXPECT_EQ(stats.events, 0u);
  EXPECT_EQ(stats.answered_5xx, 2u);
  collector.set_fixed_status(0);
  EXPECT_EQ(post(collector, track_batch(0, 3)).status, 200);
  collector.set_fixed_status(400);
  EXPECT_EQ(post(collector, track_batch(3, 3)).status, 400);
  stats = collector.stats();
  EXPECT_EQ(stats.events, 3u);
  EXPECT_EQ(stats.answered_4xx, 1u);
}

TEST(Collector, InjectsServerErrors) {
  Collector collector({.share_500 = 1});
  EXPECT_EQ(post(collector, track_batch(0, 3)).status, 500);
  auto const stats = collector.stats();
  EXPECT_EQ(stats.injected_500, 1u);
  EXPECT_EQ(stats.answered_5xx, 1u);
  EXPECT_EQ(stats.events, 0u);
  EXPECT_EQ(stats.accepted_batches, 0u);
}

TEST(Collector, InjectsTooManyRequestsWithRetryAfter) {
  Collector collector({.share_429 = 1, .retry_after_seconds = 7});
  Reply const reply = post(collector, track_batch(0, 3));
  EXPECT_EQ(reply.status, 429);
  EXPECT_NE(reply.headers.find("Retry-After: 7\r\n"), std::string::npos) << reply.headers;
  EXPECT_EQ(collector.stats().injected_429, 1u);
  EXPECT_EQ(collector.stats().events, 0u);
}

// ---- Segment's response rules: one fault mode each ----

TEST(Collector, FailFirstAnswersExactlyNRequestsWithRetryAfter) {
  Collector collector({.fail_first = 2, .fail_first_status = 429, .fail_first_retry_after = 3});
  Reply const first = post(collector, track_batch(0, 3));
  EXPECT_EQ(first.status, 429);
  EXPECT_NE(first.headers.find("Retry-After: 3\r\n"), std::string::npos) << first.headers;
  EXPECT_EQ(post(collector, track_batch(0, 3)).status, 429);
  EXPECT_EQ(post(collector, track_batch(0, 3)).status, 200);
  auto const stats = collector.stats();
  EXPECT_EQ(stats.failed_first, 2u);
  EXPECT_EQ(stats.unique_message_ids, 3u);
}

TEST(Collector, OutageRefusesUntilItEnds) {
  Collector collector({.outage = std::chrono::minutes(10), .outage_retry_after = 2});
  Reply const refused = post(collector, track_batch(0, 3));
  EXPECT_EQ(refused.status, 503);
  EXPECT_NE(refused.headers.find("Retry-After: 2\r\n"), std::string::npos) << refused.headers;
  collector.start_outage(std::chrono::milliseconds(0));  // ends it
  EXPECT_EQ(post(collector, track_batch(0, 3)).status, 200);
  EXPECT_EQ(collector.stats().outage_refusals, 1u);
}

TEST(Collector, RefusesEveryPostUntilReleasedThenAccepts) {
  Collector collector({.refuse_until_released = true});
  EXPECT_TRUE(collector.refusing());
  for (int i = 0; i < 5; ++i) {
    Reply const refused = post(collector, track_batch(i * 3, 3));
    EXPECT_EQ(refused.status, 503);
    EXPECT_EQ(refused.headers.find("Retry-After"), std::string::npos) << refused.headers;
  }
  EXPECT_EQ(collector.stats().unique_message_ids, 0u);
  EXPECT_FALSE(collector.seen_message_id(uuid(0)));

  collector.release();
  EXPECT_FALSE(collector.refusing());
  for (int i = 0; i < 5; ++i) EXPECT_EQ(post(collector, track_batch(i * 3, 3)).status, 200);
  auto const stats = collector.stats();
  EXPECT_EQ(stats.requests, 10u);
  EXPECT_EQ(stats.outage_refusals, 5u);
  EXPECT_EQ(stats.answered_5xx, 5u);
  EXPECT_EQ(stats.answered_2xx, 5u);
  EXPECT_EQ(stats.accepted_batches, 5u);
  EXPECT_EQ(stats.unique_message_ids, 15u);
  EXPECT_EQ(stats.duplicate_message_ids, 0u);

  collector.refuse();  // again, at runtime
  EXPECT_EQ(post(collector, track_batch(0, 3)).status, 503);
  collector.release();
  EXPECT_EQ(post(collector, track_batch(0, 3)).status, 200);  // a resend: 3 duplicates
  EXPECT_EQ(collector.stats().outage_refusals, 6u);
  EXPECT_EQ(collector.stats().duplicate_message_ids, 3u);
}

TEST(Collector, RefuseForIsRefuseWithATimedRelease) {
  // Counts, not timing: a refusal far longer than the test is released early by a call, and
  // one already over (0 ms) refuses nothing.
  Collector collector({.outage = std::chrono::hours(1)});
  EXPECT_TRUE(collector.refusing());
  EXPECT_EQ(post(collector, track_batch(0, 3)).status, 503);
  EXPECT_EQ(post(collector, track_batch(0, 3)).status, 503);
  collector.release();
  EXPECT_EQ(post(collector, track_batch(0, 3)).status, 200);
  collector.refuse_for(std::chrono::hours(1));
  EXPECT_EQ(post(collector, track_batch(3, 3)).status, 503);
  collector.refuse_for(std::chrono::milliseconds(0));
  EXPECT_FALSE(collector.refusing());
  EXPECT_EQ(post(collector, track_batch(3, 3)).status, 200);
  auto const stats = collector.stats();
  EXPECT_EQ(stats.outage_refusals, 3u);
  EXPECT_EQ(stats.answered_5xx, 3u);
  EXPECT_EQ(stats.answered_2xx, 2u);
  EXPECT_EQ(stats.unique_message_ids, 6u);
}

TEST(Collector, TimedRefusalEndsByItself) {
  // The one timed check: a short refusal ends without a call (waited for by polling the state,
  // bounded by a generous deadline; the counts are what is asserted).
  Collector collector({.outage = std::chrono::milliseconds(200)});
  EXPECT_EQ(post(collector, track_batch(0, 3)).status, 503);
  auto const deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (collector.refusing() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_FALSE(collector.refusing());
  EXPECT_EQ(post(collector, track_batch(0, 3)).status, 200);
  EXPECT_EQ(collector.stats().outage_refusals, 1u);
  EXPECT_EQ(collector.stats().answered_2xx, 1u);
}

TEST(Collector, TellsWhichMessageIdsItHasSeen) {
  Collector collector;
  EXPECT_EQ(post(collector, batch({message("track", uuid(1)), message("track", "t00-000000001"),
                                   message("track", "t00-000000001")})).status, 200);
  EXPECT_TRUE(collector.seen_message_id(uuid(1)));
  EXPECT_TRUE(collector.seen_message_id("t00-000000001"));
  EXPECT_FALSE(collector.seen_message_id(uuid(2)));
  EXPECT_FALSE(collector.seen_message_id("t00-000000002"));
  std::vector<std::string> const ids = {uuid(1), uuid(2), "t00-000000001", "t00-000000002"};
  EXPECT_EQ(collector.unseen_message_ids(ids), (std::vector<std::string>{uuid(2), "t00-000000002"}));
  EXPECT_EQ(collector.stats().duplicate_message_ids, 1u);

  // Ids of refused batches are not seen.
  collector.refuse();
  EXPECT_EQ(post(collector, batch({message("track", uuid(2))})).status, 503);
  EXPECT_FALSE(collector.seen_message_id(uuid(2)));
}

TEST(Collector, OutageCanCloseConnections) {
  Collector collector({.outage = std::chrono::minutes(10), .outage_drops = true});
  EXPECT_NE(post(collector, track_batch(0, 3)).curl, CURLE_OK);
  EXPECT_EQ(collector.stats().outage_refusals, 1u);
  EXPECT_EQ(collector.stats().dropped_connections, 1u);
}

TEST(Collector, Injects460AtItsShare) {
  Collector collector({.share_460 = 1});
  EXPECT_EQ(post(collector, track_batch(0, 3)).status, 460);
  EXPECT_EQ(collector.stats().injected_460, 1u);
  EXPECT_EQ(collector.stats().events, 0u);
}

TEST(Collector, AnswersTooLargeOverMaxBodyBytes) {
  Collector collector({.max_body_bytes = 1000});
  EXPECT_EQ(post(collector, track_batch(0, 20)).status, 413);
  EXPECT_EQ(post(collector, track_batch(0, 2)).status, 200);
  // The decoded size counts: a small zstd frame of a large body is refused too.
  EXPECT_EQ(post(collector, htevents::collector::zstd_compress(track_batch(100, 20)), "zstd").status, 413);
}

TEST(Collector, AnswersBadRequestToAnEncoding) {
  Collector collector({.bad_request_encodings = {"zstd"}});
  std::string const body = track_batch(0, 5);
  EXPECT_EQ(post(collector, htevents::collector::zstd_compress(body), "zstd").status, 400);
  EXPECT_EQ(post(collector, htevents::collector::gzip_compress(body), "gzip").status, 200);
}

TEST(Collector, RefusesABatchHoldingAMarkedMessage) {
  Collector collector({.refuse_marker = "poison-pill"});
  std::vector<std::string> messages{message("track", uuid(1)), message("track", uuid(2))};
  messages.push_back(R"({"type":"track","messageId":")" + uuid(3) + R"(","userId":"u","event":"poison-pill"})");
  EXPECT_EQ(post(collector, batch(messages)).status, 400);
  messages.pop_back();
  EXPECT_EQ(post(collector, batch(messages)).status, 200);
  auto const stats = collector.stats();
  EXPECT_EQ(stats.refused_marked, 1u);
  EXPECT_EQ(stats.unique_message_ids, 2u);
}

TEST(Collector, RecordsEveryEnvelopeWhateverTheAnswer) {
  Collector collector({.fail_first = 1, .fail_first_status = 500, .record_envelopes = true});
  std::string const body = track_batch(0, 2);  // messageId "b", sentAt 2026-11-26T10:00:00Z
  EXPECT_EQ(post(collector, htevents::collector::gzip_compress(body), "gzip").status, 500);
  EXPECT_EQ(post(collector, body).status, 200);
  auto const envelopes = collector.envelopes();
  ASSERT_EQ(envelopes.size(), 2u);
  EXPECT_EQ(envelopes[0].status, 500);
  EXPECT_EQ(envelopes[1].status, 200);
  for (auto const& e : envelopes) {
    EXPECT_EQ(e.message_id, "b");
    EXPECT_EQ(e.sent_at, "2026-11-26T10:00:00Z");
  }
}

TEST(Collector, DropsConnections) {
  Collector collector({.share_drop_connection = 1});
  Reply const reply = post(collector, track_batch(0, 3));
  EXPECT_EQ(reply.curl, CURLE_GOT_NOTHING);
  auto const stats = collector.stats();
  EXPECT_EQ(stats.dropped_connections, 1u);
  EXPECT_EQ(stats.events, 0u);
  EXPECT_EQ(stats.answered_2xx + stats.answered_4xx + stats.answered_5xx, 0u);
}

TEST(Collector, MixesFaultsByShareDeterministically) {
  auto run = [] {
    Collector collector({.share_500 = 0.2, .share_429 = 0.2, .share_drop_connection = 0.1, .seed = 7});
    for (int i = 0; i < 200; ++i) post(collector, track_batch(i, 1));
    return collector.stats();
  };
  auto const stats = run();
  EXPECT_EQ(stats.requests, 200u);
  EXPECT_EQ(stats.accepted_batches + stats.injected_500 + stats.injected_429 + stats.dropped_connections, 200u);
  EXPECT_EQ(stats.events, stats.accepted_batches);
  EXPECT_GT(stats.injected_500, 15u);
  EXPECT_LT(stats.injected_500, 70u);
  EXPECT_GT(stats.injected_429, 15u);
  EXPECT_LT(stats.injected_429, 70u);
  EXPECT_GT(stats.dropped_connections, 3u);
  EXPECT_LT(stats.dropped_connections, 40u);
  auto const again = run();  // same seed, same sequence
  EXPECT_EQ(again.injected_500, stats.injected_500);
  EXPECT_EQ(again.injected_429, stats.injected_429);
  EXPECT_EQ(again.dropped_connections, stats.dropped_connections);
}

TEST(Collector, DelayDoesNotSerializeConnections) {
  using namespace std::chrono;
  Collector collector({.delay = milliseconds(400)});
  auto const start = steady_clock::now();
  std::vector<std::thread> clients;
  std::vector<long> statuses(6, 0);
  for (int i = 0; i < 6; ++i)
    clients.emplace_back([&, i] { statuses[static_cast<std::size_t>(i)] = post(collector, track_batch(i, 1)).status; });
  for (auto& client : clients) client.join();
  auto const elapsed = steady_clock::now() - start;
  for (long status : statuses) EXPECT_EQ(status, 200);
  EXPECT_GE(elapsed, milliseconds(400));
  EXPECT_LT(elapsed, milliseconds(1500));  // 6 serialized answers would take 2.4 s
  EXPECT_EQ(collector.stats().unique_message_ids, 6u);
}

TEST(Collector, StopsPromptlyWhileAnswersAreDelayed) {
  using namespace std::chrono;
  Reply reply;
  std::thread client;
  auto start = steady_clock::now();
  {
    Collector collector({.delay = seconds(30)});
    std::string const url = collector.endpoint() + "/v1/batch";
    client = std::thread([&reply, url] {
      std::string const body = track_batch(0, 1);
      reply = request(url, &body);
    });
    ASSERT_TRUE(collector.wait_for_unique(1, seconds(10)));  // counted before the delay starts
    start = steady_clock::now();
  }
  EXPECT_LT(steady_clock::now() - start, seconds(5));
  client.join();
  EXPECT_TRUE(reply.curl != CURLE_OK || reply.status == 200);  // answered at once or cut off
}

TEST(Collector, WaitForUniqueWakesOnArrival) {
  Collector collector;
  std::thread sender([&] {
    for (int i = 0; i < 10; ++i) post(collector, track_batch(i * 10, 10));
  });
  EXPECT_TRUE(collector.wait_for_unique(100, std::chrono::seconds(10)));
  sender.join();
  EXPECT_FALSE(collector.wait_for_unique(101, std::chrono::milliseconds(50)));
}

TEST(Collector, KeepsBodiesAndLastHeaders) {
  Collector collector({.keep_bodies = true, .max_kept_bodies = 2});
  std::string const body = track_batch(0, 2);
  post(collector, htevents::collector::zstd_compress(body), "zstd");
  post(collector, track_batch(2, 2));
  post(collector, track_batch(4, 2));
  auto const bodies = collector.bodies();
  ASSERT_EQ(bodies.size(), 2u);
  EXPECT_EQ(bodies[0], body);
  EXPECT_EQ(bodies[1], track_batch(2, 2));
  auto const headers = collector.last_headers();
  EXPECT_EQ(headers.authorization, "Basic a2V5Og==");
  EXPECT_EQ(headers.content_type, "application/json");
  EXPECT_EQ(headers.content_encoding, "");
  EXPECT_EQ(headers.user_agent, "events-sdk-cpp (version: 0.1.0)");
  EXPECT_EQ(headers.path, "/v1/batch");
}

TEST(Collector, WritesEveryMessageAsNdjson) {
  auto const path = std::filesystem::temp_directory_path() /
                    ("htevents-collector-test-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
                     "-" + std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()) + ".ndjson");
  {
    Collector collector({.ndjson_path = path.string()});
    post(collector, track_batch(0, 3));
    post(collector, htevents::collector::gzip_compress(track_batch(3, 2)), "gzip");
  }
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  std::filesystem::remove(path);
  ASSERT_EQ(lines.size(), 5u);
  EXPECT_EQ(lines[0], message("track", uuid(0)));
  EXPECT_EQ(lines[4], message("track", uuid(4)));
}

TEST(Collector, CountsCorrectlyWithSeveralThreads) {
  Collector collector({.threads = 4});
  std::vector<std::thread> clients;
  for (int c = 0; c < 4; ++c)
    clients.emplace_back([&, c] {
      for (int i = 0; i < 25; ++i) post(collector, track_batch((c * 25 + i) * 10 % 600, 10));  // overlapping ids
    });
  for (auto& client : clients) client.join();
  auto const stats = collector.stats();
  EXPECT_EQ(stats.accepted_batches, 100u);
  EXPECT_EQ(stats.events, 1000u);
  EXPECT_EQ(stats.unique_message_ids, 600u);
  EXPECT_EQ(stats.duplicate_message_ids, 400u);
}

TEST(Collector, ThrowsWhenThePortIsTaken) {
  Collector first;
  Options options;
  options.port = first.port();
  EXPECT_THROW(Collector{options}, std::runtime_error);
  EXPECT_THROW(Collector({.bind_address = "localhost:1"}), std::runtime_error);
  EXPECT_THROW(Collector({.share_500 = 0.7, .share_429 = 0.7}), std::runtime_error);
}

}  // namespace

namespace {

std::vector<std::string> read_lines(std::filesystem::path const& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

}  // namespace

TEST(Collector, DumpsWholeRequestsWithHeadersAndAnswers) {
  auto const path = std::filesystem::temp_directory_path() /
                    ("htevents-collector-dump-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
                     "-" + std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()) + ".ndjson");
  std::string const body = track_batch(0, 2);
  {
    Collector collector({.dump_requests_path = path.string(), .refused_encodings = {"gzip"}});
    post(collector, htevents::collector::zstd_compress(body), "zstd");
    post(collector, htevents::collector::gzip_compress(body), "gzip");  // refused: 415, still dumped
    post(collector, "{not json");
    post(collector, body, "br");  // an encoding the collector does not know
  }
  auto const lines = read_lines(path);
  std::filesystem::remove(path);
  ASSERT_EQ(lines.size(), 4u);
  // Whole envelope, decoded, with the headers the client sent and the answer it got.
  EXPECT_NE(lines[0].find(R"("method":"POST","path":"/v1/batch","status":200,)"), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find(R"("Authorization":"Basic a2V5Og==")"), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find(R"("Content-Encoding":"zstd")"), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find(R"x("User-Agent":"events-sdk-cpp (version: 0.1.0)")x"), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find(R"("encoding":"zstd",)"), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find(R"("body":)" + body + "}"), std::string::npos) << lines[0];
  EXPECT_NE(lines[1].find(R"("status":415,)"), std::string::npos) << lines[1];
  EXPECT_NE(lines[1].find(R"("body":)" + body), std::string::npos) << lines[1];
  EXPECT_NE(lines[2].find(R"("status":400,)"), std::string::npos) << lines[2];
  EXPECT_NE(lines[2].find(R"("body":null,"body_error":"invalid JSON","body_text":"{not json")"), std::string::npos)
      << lines[2];
  EXPECT_NE(lines[3].find(R"("encoding":null,)"), std::string::npos) << lines[3];
  EXPECT_NE(lines[3].find(R"("body_error":"unknown Content-Encoding")"), std::string::npos) << lines[3];
}
