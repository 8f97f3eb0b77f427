// A user-supplied Transport (Config::transport) instead of libcurl, written against the public
// headers only, as a user would: one that records bodies and answers as told, and one that
// speaks plain HTTP/1.1 over a blocking socket to the local collector. The client's endpoint
// points at a closed port, so anything delivered went through the user's transport.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <simdjson.h>
#include <htevents/htevents.hpp>
#include <htevents/transport.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <ctime>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "collector/collector.hpp"

namespace {

using namespace std::chrono_literals;

// The sleeping and waking every transport needs: wait() returns on wake() or a completion.
class Doorbell {
 public:
  void ring() {
    {
      std::lock_guard lock(mutex_);
      rung_ = true;
    }
    cv_.notify_all();
  }
  void wait(std::chrono::milliseconds timeout, std::function<bool()> const& ready) {
    std::unique_lock lock(mutex_);
    cv_.wait_for(lock, timeout, [&] { return rung_ || ready(); });
    rung_ = false;
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  bool rung_ = false;
};

// What a RecordingTransport answers to one request.
struct Answer {
  long status = 200;
  bool transport_ok = true;
  bool permanent = false;
  bool hold = false;  // never completes (until cancel_all)
};

// Shared with the test, which outlives the client's transport.
struct Recording {
  std::mutex mutex;
  std::vector<std::string> bodies;
  std::vector<htevents::Compression> encodings;
  htevents::TransportOptions options;
  std::function<Answer(int nth)> answer = [](int) { return Answer{}; };
  std::atomic<int> cancels{0};
  std::atomic<bool> destroyed{false};
};

// Records each body and answers at once, from the sender thread.
class RecordingTransport final : public htevents::Transport {
 public:
  explicit RecordingTransport(std::shared_ptr<Recording> r) : r_(std::move(r)) {}
  ~RecordingTransport() override { r_->destroyed = true; }

  std::size_t max_in_flight() const noexcept override { return r_->options.max_in_flight; }
  bool start(void* tag, std::string_view body, htevents::Compression encoding) noexcept override {
    int nth = 0;
    {
      std::lock_guard lock(r_->mutex);
      r_->bodies.emplace_back(body);
      r_->encodings.push_back(encoding);
      nth = static_cast<int>(r_->bodies.size());
    }
    Answer const a = r_->answer(nth);
    if (!a.hold) done_.push_back({tag, a});
    return true;
  }
  void perform() noexcept override {}
  bool next_completion(Completion& out) noexcept override {
    if (done_.empty()) return false;
    auto const [tag, a] = done_.front();
    done_.pop_front();
    out.tag = tag;
    out.response = htevents::TransportResponse{};
    out.response.transport_ok = a.transport_ok;
    out.response.transport_permanent = a.permanent;
    out.response.status = a.status;
    out.response.body = a.transport_ok ? "{\"ok\":true}" : "";
    out.response.error = a.transport_ok ? "" : "recording transport: link down";
    return true;
  }
  void cancel_all() noexcept override { ++r_->cancels; }
  void wait(std::chrono::milliseconds timeout) noexcept override {
    bell_.wait(timeout, [this] { return !done_.empty(); });
  }
  void wake() noexcept override { bell_.ring(); }

 private:
  std::shared_ptr<Recording> r_;
  std::deque<std::pair<void*, Answer>> done_;  // sender thread only
  Doorbell bell_;
};

htevents::Config recording_config(std::shared_ptr<Recording> const& recording, std::size_t max_in_flight = 2) {
  htevents::Config config;
  config.endpoint = "http://127.0.0.1:9";  // nothing listens: curl would deliver nothing
  config.compression = htevents::Compression::none;
  config.interval = 20ms;
  config.batch_size = 100;
  config.max_in_flight = max_in_flight;
  config.retry_base = 1ms;
  config.retry_max = 5ms;
  config.transport = [recording](htevents::TransportOptions const& options) {
    recording->options = options;
    return std::make_unique<RecordingTransport>(recording);
  };
  return config;
}

// The messages of recorded batch bodies, by messageId.
std::set<std::string> message_ids(std::vector<std::string> const& bodies, std::size_t& messages) {
  std::set<std::string> ids;
  simdjson::dom::parser parser;
  messages = 0;
  for (std::string const& body : bodies) {
    simdjson::dom::element const doc = parser.parse(body);
    for (simdjson::dom::element m : doc["batch"].get_array()) {
      ++messages;
      ids.emplace(std::string_view(m["messageId"].get_string()));
    }
  }
  return ids;
}

TEST(CustomTransport, DeliversEveryMessageThroughTheUsersTransport) {
  auto recording = std::make_shared<Recording>();
  {
    htevents::Client client("transport-key", recording_config(recording, 3));
    for (int i = 0; i < 1000; ++i) {
      ASSERT_EQ(client.enqueue(htevents::Track{.user_id = "u", .event = "e", .properties = {{"i", i}}}),
                htevents::Status::ok);
    }
    EXPECT_TRUE(client.flush(10s));
    EXPECT_EQ(client.stats().delivered, 1000u);
    EXPECT_TRUE(client.close(10s));
  }
  EXPECT_TRUE(recording->destroyed);
  std::size_t messages = 0;
  EXPECT_EQ(message_ids(recording->bodies, messages).size(), 1000u);
  EXPECT_EQ(messages, 1000u);
  for (auto e : recording->encodings) EXPECT_EQ(e, htevents::Compression::none);
  // What the factory was told.
  EXPECT_EQ(recording->options.url, "http://127.0.0.1:9/v1/batch");
  EXPECT_EQ(recording->options.authorization, "Basic dHJhbnNwb3J0LWtleTo=");  // base64("transport-key:")
  EXPECT_EQ(recording->options.user_agent.rfind("events-sdk-cpp (version: ", 0), 0u);
  EXPECT_EQ(recording->options.max_in_flight, 3u);
  EXPECT_EQ(recording->options.request_timeout, 10000ms);
}

TEST(CustomTransport, TheSenderActsOnWhatTheTransportReports) {
  auto recording = std::make_shared<Recording>();
  // First a 503, then a retryable transport error, then 200: delivered on the third try.
  recording->answer = [](int nth) {
    if (nth == 1) return Answer{.status = 503};
    if (nth == 2) return Answer{.status = 0, .transport_ok = false};
    return Answer{};
  };
  htevents::Config config = recording_config(recording, 1);
  std::vector<htevents::Failure> failures;
  std::vector<std::string> details;
  config.on_failure = [&](htevents::Failure const& f) {
    failures.push_back(f);
    details.emplace_back(f.detail);
  };
  htevents::Client client("k", config);
  ASSERT_EQ(client.enqueue(htevents::Identify{.user_id = "u1"}), htevents::Status::ok);
  EXPECT_TRUE(client.flush(10s));
  htevents::Stats s = client.stats();
  EXPECT_EQ(s.delivered, 1u);
  EXPECT_EQ(s.retries, 2u);

  // A permanent transport error: rejected at once, with the transport's own words.
  recording->answer = [](int) { return Answer{.status = 0, .transport_ok = false, .permanent = true}; };
  ASSERT_EQ(client.enqueue(htevents::Identify{.user_id = "u2"}), htevents::Status::ok);
  EXPECT_FALSE(client.flush(10s));
  EXPECT_FALSE(client.close(10s));
  ASSERT_EQ(failures.size(), 1u);
  EXPECT_EQ(failures[0].reason, htevents::FailureReason::rejected);
  EXPECT_EQ(details[0].find("recording transport: link down"), 0u) << details[0];
  EXPECT_EQ(client.stats().retries, 2u);
}

TEST(CustomTransport, CloseCancelsWhatTheTransportHolds) {
  auto recording = std::make_shared<Recording>();
  recording->answer = [](int) { return Answer{.hold = true}; };
  htevents::Config config = recording_config(recording);
  int deadline_failures = 0;
  config.on_failure = [&](htevents::Failure const& f) {
    if (f.reason == htevents::FailureReason::deadline) ++deadline_failures;
  };
  htevents::Client client("k", config);
  for (int i = 0; i < 10; ++i)
    ASSERT_EQ(client.enqueue(htevents::Alias{.user_id = "u", .previous_id = "p"}), htevents::Status::ok);
  EXPECT_FALSE(client.flush(100ms));
  EXPECT_FALSE(client.close(200ms));
  EXPECT_GE(recording->cancels.load(), 1);
  EXPECT_EQ(deadline_failures, 10);
}

TEST(CustomTransport, AFactoryThatMakesNothingIsAConfigError) {
  htevents::Config config;
  config.transport = [](htevents::TransportOptions const&) { return std::unique_ptr<htevents::Transport>(); };
  EXPECT_THROW(htevents::Client("k", config), htevents::ConfigError);
  // The factory's own exceptions leave the constructor as they are.
  config.transport = [](htevents::TransportOptions const&) -> std::unique_ptr<htevents::Transport> {
    throw std::runtime_error("no network on this platform");
  };
  EXPECT_THROW(htevents::Client("k", config), std::runtime_error);
}

// Plain HTTP/1.1 over a blocking socket, one request at a time, done inside start(): the
// shape of a transport over a platform's synchronous HTTP call. Only http://IPv4:port/path.
class SocketTransport final : public htevents::Transport {
 public:
  explicit SocketTransport(htevents::TransportOptions options) : options_(std::move(options)) {
    std::string_view url = options_.url;
    url.remove_prefix(std::string_view("http://").size());
    auto const colon = url.find(':');
    auto const slash = url.find('/');
    host_ = std::string(url.substr(0, colon));
    port_ = static_cast<std::uint16_t>(std::stoi(std::string(url.substr(colon + 1, slash - colon - 1))));
    path_ = std::string(url.substr(slash));
  }

  std::size_t max_in_flight() const noexcept override { return 1; }
  bool start(void* tag, std::string_view body, htevents::Compression encoding) noexcept override {
    Done d = post(body, encoding);
    d.tag = tag;
    done_.push_back(std::move(d));
    return true;
  }
  void perform() noexcept override {}
  bool next_completion(Completion& out) noexcept override {
    if (done_.empty()) return false;
    current_ = std::move(done_.front());
    done_.pop_front();
    out.tag = current_.tag;
    out.response = current_.response;
    out.response.body = current_.body;  // views into current_, kept until the next call
    out.response.error = current_.error;
    return true;
  }
  void cancel_all() noexcept override { done_.clear(); }
  void wait(std::chrono::milliseconds timeout) noexcept override {
    bell_.wait(timeout, [this] { return !done_.empty(); });
  }
  void wake() noexcept override { bell_.ring(); }

 private:
  struct Done {
    void* tag = nullptr;
    htevents::TransportResponse response{};
    std::string body, error;
  };

  Done post(std::string_view body, htevents::Compression encoding) noexcept {
    Done d;
    d.response.transport_ok = false;
    int const fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port_);
    ::inet_pton(AF_INET, host_.c_str(), &address.sin_addr);
    if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
      d.error = "socket: cannot connect";
      if (fd >= 0) ::close(fd);
      return d;
    }
    std::string request = "POST " + path_ + " HTTP/1.1\r\nHost: " + host_ +
                          "\r\nAuthorization: " + options_.authorization +
                          "\r\nContent-Type: application/json\r\nUser-Agent: " + options_.user_agent + "\r\n";
    if (encoding == htevents::Compression::gzip) request += "Content-Encoding: gzip\r\n";
    if (encoding == htevents::Compression::zstd) request += "Content-Encoding: zstd\r\n";
    request += "Content-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n";
    request += body;
    for (std::size_t sent = 0; sent < request.size();) {
      ssize_t const n = ::send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) {
        d.error = "socket: send failed";
        ::close(fd);
        return d;
      }
      sent += static_cast<std::size_t>(n);
    }
    std::string answer;
    char buffer[4096];
    for (ssize_t n; (n = ::recv(fd, buffer, sizeof buffer, 0)) > 0;) answer.append(buffer, static_cast<std::size_t>(n));
    ::close(fd);
    // "HTTP/1.1 200 OK\r\n...headers...\r\n\r\nbody"
    auto const head_end = answer.find("\r\n\r\n");
    if (answer.rfind("HTTP/1.", 0) != 0 || answer.size() < 12 || head_end == std::string::npos) {
      d.error = "socket: no HTTP answer";
      return d;
    }
    d.response.transport_ok = true;
    d.response.status = std::stol(answer.substr(9, 3));
    std::string_view const head(answer.data(), head_end);
    if (auto at = head.find("\r\nRetry-After: "); at != std::string_view::npos) {
      auto const value = head.substr(at + 15, head.find("\r\n", at + 2) - (at + 15));
      d.response.retry_after = htevents::parse_retry_after(value, std::time(nullptr));
    }
    d.body = answer.substr(head_end + 4, 512);
    return d;
  }

  htevents::TransportOptions const options_;
  std::string host_, path_;
  std::uint16_t port_ = 0;
  std::deque<Done> done_;
  Done current_;
  Doorbell bell_;
};

TEST(CustomTransport, APlainSocketTransportDeliversToTheCollector) {
  htevents::collector::Collector collector{htevents::collector::Options{}};
  std::string const real_url = collector.endpoint() + "/v1/batch";
  htevents::Config config;
  config.endpoint = "http://127.0.0.1:9";
  config.compression = htevents::Compression::zstd;
  config.interval = 20ms;
  config.transport = [real_url](htevents::TransportOptions const& options) {
    htevents::TransportOptions to_collector = options;
    to_collector.url = real_url;
    return std::make_unique<SocketTransport>(to_collector);
  };
  htevents::Client client("socket-key", config);
  for (int i = 0; i < 500; ++i)
    ASSERT_EQ(client.track("Socket event").user_id("u").property("i", i).send(), htevents::Status::ok);
  EXPECT_TRUE(client.flush(10s));
  EXPECT_TRUE(client.close(10s));
  auto const s = collector.stats();
  EXPECT_EQ(s.unique_message_ids, 500u);
  EXPECT_EQ(s.duplicate_message_ids, 0u);
  EXPECT_EQ(s.invalid_messages, 0u);
  EXPECT_GE(s.by_encoding.zstd, 1u);
  EXPECT_EQ(collector.last_headers().authorization, "Basic c29ja2V0LWtleTo=");  // base64("socket-key:")
}

}  // namespace
