// The sender alone, against a fake HttpTransport: every response class of wire-format.md's
// table, Retry-After, the encoding fallback, splitting and the close deadline. No network, no
// Client: the test hands batches to the channel the way the serializer does and reads what the
// sender reported (counters, callbacks, the requests the fake saw).

#include "transport/sender.hpp"

#include <gtest/gtest.h>
#include <zlib.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "batch/batch_channel.hpp"
#include "batch/compressor.hpp"
#include "batch/envelope.hpp"
#include "batch/progress.hpp"
#include "transport/http_transport.hpp"

namespace htevents::inline v0::detail {
namespace {

using namespace std::chrono_literals;

struct Request {
  std::string body;  // decompressed when the request was gzip
  Compression encoding = Compression::none;
  std::size_t messages = 0;  // entries of the batch array
};

// How the fake server answers one request. `hold` keeps the request in flight forever.
struct Answer {
  long status = 200;
  std::optional<std::chrono::milliseconds> retry_after;
  bool transport_error = false;
  bool permanent = false;
  bool hold = false;
};

std::string gunzip(std::string_view in) {
  z_stream z{};
  inflateInit2(&z, 15 + 16);
  std::string out(1 << 20, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  inflate(&z, Z_FINISH);
  out.resize(z.total_out);
  inflateEnd(&z);
  return out;
}

std::size_t count_messages(std::string_view body) {
  // The test's messages are {"m":N} objects: count them.
  std::size_t n = 0;
  for (std::size_t at = body.find(R"({"m":)"); at != std::string_view::npos; at = body.find(R"({"m":)", at + 1)) ++n;
  return n;
}

class FakeHttp final : public HttpTransport {
 public:
  using Responder = std::function<Answer(Request const&, int nth)>;
  FakeHttp(std::size_t max_in_flight, Responder responder) : max_(max_in_flight), responder_(std::move(responder)) {}

  std::size_t max_in_flight() const noexcept override { return max_; }
  bool start(void* tag, std::string_view body, Compression encoding) noexcept override {
    Request r;
    r.encoding = encoding;
    r.body = encoding == Compression::gzip ? gunzip(body) : std::string(body);
    r.messages = count_messages(r.body);
    std::lock_guard lock(mutex_);
    requests_.push_back(r);
    Answer const answer = responder_(r, static_cast<int>(requests_.size()));
    if (!answer.hold) pending_.push_back({tag, answer});
    return true;
  }
  void perform() noexcept override {}
  bool next_completion(Completion& out) noexcept override {
    std::lock_guard lock(mutex_);
    if (pending_.empty()) return false;
    auto [tag, answer] = pending_.front();
    pending_.pop_front();
    out.tag = tag;
    out.response = HttpResponse{};
    out.response.transport_ok = !answer.transport_error;
    out.response.transport_permanent = answer.permanent;
    out.response.status = answer.transport_error ? 0 : answer.status;
    out.response.retry_after = answer.retry_after;
    out.response.body = "fake body";
    out.response.error = answer.transport_error ? "fake transport error" : "";
    return true;
  }
  void cancel_all() noexcept override {
    std::lock_guard lock(mutex_);
    ++cancels_;
  }
  void wait(std::chrono::milliseconds timeout) noexcept override {
    std::unique_lock lock(mutex_);
    woken_.wait_for(lock, std::min<std::chrono::milliseconds>(timeout, 5ms), [&] { return wake_ || !pending_.empty(); });
    wake_ = false;
  }
  void wake() noexcept override {
    {
      std::lock_guard lock(mutex_);
      wake_ = true;
    }
    woken_.notify_all();
  }

  std::vector<Request> requests() const {
    std::lock_guard lock(mutex_);
    return requests_;
  }
  int cancels() const {
    std::lock_guard lock(mutex_);
    return cancels_;
  }

 private:
  std::size_t const max_;
  Responder const responder_;
  mutable std::mutex mutex_;
  std::condition_variable woken_;
  bool wake_ = false;
  std::vector<Request> requests_;
  std::deque<std::pair<void*, Answer>> pending_;
  int cancels_ = 0;
};

struct Failed {
  FailureReason reason;
  int http_status;
  std::string message;
};

// One sender on its own thread, with the stages around it that the client would build.
class SenderRig {
 public:
  explicit SenderRig(FakeHttp::Responder responder, int max_attempts = 3, Compression encoding = Compression::none)
      : config_(make_config()),
        logger_({}, LogLevel::error),
        callbacks_(config_, logger_, counters_, {}),
        channel_(4, 64 * 1024, 64, encoding, progress_),
        compressor_(1),
        envelope_(Object{}) {
    auto http = std::make_unique<FakeHttp>(2, std::move(responder));
    http_ = http.get();
    SenderOptions options;
    options.max_attempts = max_attempts;
    options.retry_base = 1ms;
    options.retry_max = 2ms;
    options.compression_level = 1;
    sender_ = std::make_unique<Sender>(options, SenderLinks{channel_, callbacks_, counters_, logger_, last_error_},
                                       std::move(http));
    channel_.connect([this] { sender_->wake(); }, {});
    thread_ = std::thread([this] { sender_->run(); });
  }
  ~SenderRig() { finish(); }

  // A batch of `n` messages {"m":first}, {"m":first+1}..., encoded with `encoding`.
  void hand(std::size_t n, Compression encoding = Compression::none, std::size_t first = 0) {
    Batch* batch = channel_.try_take();
    ASSERT_NE(batch, nullptr);
    batch->clear();
    Envelope::open(*batch);
    for (std::size_t i = 0; i < n; ++i) Envelope::append(*batch, R"({"m":)" + std::to_string(first + i) + "}");
    envelope_.close(*batch, std::chrono::system_clock::now());
    batch->sent_at_written = std::chrono::steady_clock::now();
    batch->encoding = encoding;
    if (encoding != Compression::none) {
      ASSERT_TRUE(compressor_.compress(encoding, batch->body.view(), batch->wire));
    }
    batch->serial = ++serial_;
    channel_.hand(batch);
  }
  // No more batches; returns when the sender settled everything.
  void finish() {
    if (!thread_.joinable()) return;
    channel_.close();
    thread_.join();
  }
  void deadline_in(std::chrono::milliseconds d) { sender_->set_deadline(std::chrono::steady_clock::now() + d); }

  PipelineCounters const& counters() const { return counters_; }
  std::vector<Failed> failures() const {
    std::lock_guard lock(mutex_);
    return failures_;
  }
  std::vector<Delivery> deliveries() const {
    std::lock_guard lock(mutex_);
    return deliveries_;
  }
  FakeHttp& http() { return *http_; }
  BatchChannel& channel() { return channel_; }
  Progress& progress() { return progress_; }

 private:
  Config make_config() {
    Config c;
    c.on_failure = [this](Failure const& f) {
      std::lock_guard lock(mutex_);
      failures_.push_back({f.reason, f.http_status, std::string(f.message_json)});
    };
    c.on_success = [this](Delivery const& d) {
      std::lock_guard lock(mutex_);
      deliveries_.push_back(d);
    };
    return c;
  }

  mutable std::mutex mutex_;
  std::vector<Failed> failures_;
  std::vector<Delivery> deliveries_;
  Config config_;
  Logger logger_;
  PipelineCounters counters_;
  Progress progress_;
  Callbacks callbacks_;
  LastError last_error_;
  BatchChannel channel_;
  Compressor compressor_;
  Envelope envelope_;
  std::uint64_t serial_ = 0;
  FakeHttp* http_ = nullptr;
  std::unique_ptr<Sender> sender_;
  std::thread thread_;
};

Answer ok() { return Answer{}; }
Answer status(long s) {
  Answer a;
  a.status = s;
  return a;
}

TEST(Sender, DeliversA2xxAndGivesTheBatchBack) {
  for (long code : {200L, 201L, 204L}) {
    SenderRig rig([&](Request const&, int) { return status(code); });
    rig.hand(5);
    rig.finish();
    EXPECT_EQ(rig.counters().delivered.load(), 5u) << code;
    EXPECT_EQ(rig.counters().batches_sent.load(), 1u);
    EXPECT_EQ(rig.counters().requests.load(), 1u);
    EXPECT_TRUE(rig.failures().empty());
    ASSERT_EQ(rig.deliveries().size(), 1u);
    EXPECT_EQ(rig.deliveries()[0].attempts, 1);
    EXPECT_EQ(rig.progress().outstanding(), 0u) << "the batch finished";
    EXPECT_NE(rig.channel().try_take(), nullptr) << "the buffer is back in the pool";
  }
}

TEST(Sender, RetriesTransientAnswersAndTransportErrors) {
  for (long code : {408L, 429L, 460L, 500L, 502L, 503L, 504L, 0L}) {
    SenderRig rig([&](Request const&, int nth) {
      if (nth > 1) return ok();
      Answer a = status(code);
      a.transport_error = code == 0;
      return a;
    });
    rig.hand(3);
    rig.finish();
    EXPECT_EQ(rig.counters().delivered.load(), 3u) << code;
    EXPECT_EQ(rig.counters().requests.load(), 2u) << code;
    EXPECT_EQ(rig.counters().retries.load(), 1u) << code;
    ASSERT_EQ(rig.deliveries().size(), 1u);
    EXPECT_EQ(rig.deliveries()[0].attempts, 2);
  }
}

TEST(Sender, FailsWhenRetriesAreExhausted) {
  SenderRig rig([](Request const&, int) { return status(500); }, /*max_attempts=*/3);
  rig.hand(2);
  rig.finish();
  EXPECT_EQ(rig.counters().requests.load(), 3u);
  EXPECT_EQ(rig.counters().failed.load(), 2u);
  EXPECT_EQ(rig.counters().batches_failed.load(), 1u);
  auto const failures = rig.failures();
  ASSERT_EQ(failures.size(), 2u);
  EXPECT_EQ(failures[0].reason, FailureReason::retries_exhausted);
  EXPECT_EQ(failures[0].http_status, 500);
  EXPECT_EQ(failures[0].message, R"({"m":0})");
}

TEST(Sender, PermanentAnswersFailAtOnce) {
  for (long code : {401L, 403L, 404L, 501L, 505L, 511L, 301L}) {
    SenderRig rig([&](Request const&, int) { return status(code); });
    rig.hand(2);
    rig.finish();
    EXPECT_EQ(rig.counters().requests.load(), 1u) << code;
    EXPECT_EQ(rig.counters().failed.load(), 2u) << code;
    auto const failures = rig.failures();
    ASSERT_EQ(failures.size(), 2u);
    EXPECT_EQ(failures[0].reason, FailureReason::rejected) << code;
    EXPECT_EQ(failures[0].http_status, code);
  }
}

TEST(Sender, PermanentTransportErrorsFailAtOnce) {
  SenderRig rig([](Request const&, int) {
    Answer a;
    a.transport_error = true;
    a.permanent = true;
    return a;
  });
  rig.hand(2);
  rig.finish();
  EXPECT_EQ(rig.counters().requests.load(), 1u);
  ASSERT_EQ(rig.failures().size(), 2u);
  EXPECT_EQ(rig.failures()[0].reason, FailureReason::rejected);
  EXPECT_EQ(rig.failures()[0].http_status, 0);
}

TEST(Sender, RetryAfterPausesWithoutUsingAnAttempt) {
  // One attempt allowed: a 429 with Retry-After must not spend it.
  SenderRig rig(
      [](Request const&, int nth) {
        if (nth > 1) return ok();
        Answer a = status(429);
        a.retry_after = 30ms;
        return a;
      },
      /*max_attempts=*/1);
  auto const started = std::chrono::steady_clock::now();
  rig.hand(2);
  rig.finish();
  EXPECT_GE(std::chrono::steady_clock::now() - started, 30ms) << "nothing is sent before Retry-After";
  EXPECT_EQ(rig.counters().delivered.load(), 2u);
  EXPECT_EQ(rig.counters().requests.load(), 2u);
  ASSERT_EQ(rig.deliveries().size(), 1u);
  EXPECT_EQ(rig.deliveries()[0].attempts, 1) << "the paused try was given back";
}

TEST(Sender, ATransientAnswerWithoutRetryAfterUsesTheAttempt) {
  SenderRig rig([](Request const&, int nth) { return nth > 1 ? ok() : status(429); }, /*max_attempts=*/1);
  rig.hand(2);
  rig.finish();
  EXPECT_EQ(rig.counters().requests.load(), 1u);
  ASSERT_EQ(rig.failures().size(), 2u);
  EXPECT_EQ(rig.failures()[0].reason, FailureReason::retries_exhausted);
}

TEST(Sender, TooLargeIsSplitUntilThePiecesFit) {
  // The server takes at most 2 messages per request.
  SenderRig rig([](Request const& r, int) { return r.messages > 2 ? status(413) : ok(); });
  rig.hand(8);
  rig.finish();
  EXPECT_EQ(rig.counters().delivered.load(), 8u);
  EXPECT_TRUE(rig.failures().empty());
  EXPECT_EQ(rig.counters().batches_split.load(), 1u) << "one pool batch was split";
  EXPECT_EQ(rig.counters().split_requests.load(), 6u) << "8 -> 4+4 -> 2+2+2+2";
  EXPECT_EQ(rig.counters().batches_sent.load(), 4u);
  EXPECT_EQ(rig.progress().outstanding(), 0u) << "the root finished after its last piece";
}

TEST(Sender, BadRequestIsolatesTheRefusedMessage) {
  // A 400 to an uncompressed body is about the messages: halves until the bad one stands alone.
  SenderRig rig([](Request const& r, int) {
    return r.body.find(R"({"m":5})") != std::string::npos ? status(400) : ok();
  });
  rig.hand(8);
  rig.finish();
  EXPECT_EQ(rig.counters().delivered.load(), 7u);
  auto const failures = rig.failures();
  ASSERT_EQ(failures.size(), 1u);
  EXPECT_EQ(failures[0].reason, FailureReason::rejected);
  EXPECT_EQ(failures[0].http_status, 400);
  EXPECT_EQ(failures[0].message, R"({"m":5})");
}

TEST(Sender, SplittingStopsWhenItsBudgetIsSpent) {
  SenderRig rig([](Request const&, int) { return status(400); });
  rig.hand(64);
  rig.finish();
  EXPECT_EQ(rig.counters().failed.load(), 64u);
  // Every piece is refused: splitting goes on until its budget of extra requests is spent.
  EXPECT_EQ(rig.counters().split_requests.load(), static_cast<std::uint64_t>(split_budget(64)));
  EXPECT_EQ(rig.counters().requests.load(), 1u + static_cast<std::uint64_t>(split_budget(64)));
}

TEST(Sender, RefusedEncodingFallsBackAndSticks) {
  // 415 to gzip: resend uncompressed, and move the channel's encoding off gzip.
  SenderRig rig([](Request const& r, int) { return r.encoding == Compression::gzip ? status(415) : ok(); }, 1,
                Compression::gzip);
  rig.hand(3, Compression::gzip);
  rig.finish();
  EXPECT_EQ(rig.counters().delivered.load(), 3u);
  EXPECT_EQ(rig.counters().compression_fallbacks.load(), 1u);
  EXPECT_EQ(rig.channel().encoding(), Compression::none) << "new batches are built uncompressed";
  auto const requests = rig.http().requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].encoding, Compression::gzip);
  EXPECT_EQ(requests[1].encoding, Compression::none);
  EXPECT_EQ(requests[0].messages, 3u) << "the gzip body was the same batch";
  EXPECT_EQ(rig.deliveries()[0].attempts, 1) << "a refused encoding is not a failed try";
}

TEST(Sender, BadRequestToAnUnprovenEncodingIsAnEncodingRefusal) {
  SenderRig rig([](Request const& r, int) { return r.encoding == Compression::gzip ? status(400) : ok(); }, 1,
                Compression::gzip);
  rig.hand(4, Compression::gzip);
  rig.finish();
  EXPECT_EQ(rig.counters().delivered.load(), 4u);
  EXPECT_EQ(rig.counters().batches_split.load(), 0u) << "not split: the encoding was the problem";
  EXPECT_EQ(rig.counters().compression_fallbacks.load(), 1u);
}

TEST(Sender, BadRequestToAProvenEncodingIsAboutTheMessages) {
  SenderRig rig(
      [](Request const& r, int nth) {
        if (nth == 1) return ok();  // gzip proven
        return r.body.find(R"({"m":12})") != std::string::npos ? status(400) : ok();
      },
      1, Compression::gzip);
  rig.hand(2, Compression::gzip, 0);
  // Wait for the first answer before the next batch: the 2xx must come first.
  for (int i = 0; i < 2000 && rig.counters().delivered.load() < 2; ++i) std::this_thread::sleep_for(1ms);
  rig.hand(4, Compression::gzip, 10);
  rig.finish();
  EXPECT_EQ(rig.counters().compression_fallbacks.load(), 0u);
  EXPECT_EQ(rig.counters().batches_split.load(), 1u);
  EXPECT_EQ(rig.counters().delivered.load(), 5u);
  ASSERT_EQ(rig.failures().size(), 1u);
  EXPECT_EQ(rig.failures()[0].message, R"({"m":12})");
}

TEST(Sender, FailsWhatIsInFlightAtTheDeadline) {
  SenderRig rig([](Request const&, int) {
    Answer a;
    a.hold = true;  // the server never answers
    return a;
  });
  rig.hand(3);
  rig.deadline_in(20ms);
  rig.finish();
  EXPECT_EQ(rig.counters().failed.load(), 3u);
  EXPECT_EQ(rig.counters().deadline_failures.load(), 3u);
  ASSERT_EQ(rig.failures().size(), 3u);
  EXPECT_EQ(rig.failures()[0].reason, FailureReason::deadline);
  EXPECT_GE(rig.http().cancels(), 1) << "the request in flight was cancelled";
  EXPECT_EQ(rig.progress().outstanding(), 0u);
}

TEST(Sender, RunsAtMostMaxInFlightRequests) {
  // The fake allows 2 in flight and never answers: the other batches wait for a slot.
  SenderRig rig([](Request const&, int) {
    Answer a;
    a.hold = true;
    return a;
  });
  for (int i = 0; i < 4; ++i) rig.hand(1, Compression::none, static_cast<std::size_t>(i));
  for (int i = 0; i < 2000 && rig.http().requests().size() < 2; ++i) std::this_thread::sleep_for(1ms);
  std::this_thread::sleep_for(20ms);
  EXPECT_EQ(rig.http().requests().size(), 2u);
  rig.deadline_in(0ms);
  rig.finish();
  EXPECT_EQ(rig.counters().deadline_failures.load(), 4u) << "in flight and waiting alike";
}

}  // namespace
}  // namespace htevents::inline v0::detail
