#include "collector/collector.hpp"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <simdjson.h>
#include <netinet/in.h>
#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <limits>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string_view>
#include <thread>

#include "collector/request_dump.hpp"

namespace htevents::collector {
namespace {

constexpr auto relaxed = std::memory_order_relaxed;

enum class Route : std::uint8_t { batch, stats, wrong_method, not_found };

// Responses that never change, created once and queued any number of times (MHD refcounts them).
enum class Canned : std::uint8_t {
  ok,
  corrupt_encoding,
  invalid_json,
  not_a_batch,
  too_large,
  unsupported_encoding,
  not_found,
  wrong_method,
  injected_500,
  injected_429,
  internal_error,
  count
};

struct CannedSpec {
  int status;
  std::string_view body;
};

constexpr CannedSpec canned_specs[] = {
    {MHD_HTTP_OK, R"({"ok":true})"},
    {MHD_HTTP_BAD_REQUEST, R"({"ok":false,"error":"corrupt Content-Encoding stream"})"},
    {MHD_HTTP_BAD_REQUEST, R"({"ok":false,"error":"invalid JSON"})"},
    {MHD_HTTP_BAD_REQUEST, R"({"ok":false,"error":"body is not an object with a batch array"})"},
    {413, R"({"ok":false,"error":"body too large"})"},
    {415, R"({"ok":false,"error":"unsupported Content-Encoding"})"},
    {MHD_HTTP_NOT_FOUND, R"({"ok":false,"error":"not found"})"},
    {MHD_HTTP_METHOD_NOT_ALLOWED, R"({"ok":false,"error":"method not allowed"})"},
    {MHD_HTTP_INTERNAL_SERVER_ERROR, R"({"ok":false,"error":"injected 500"})"},
    {429, R"({"ok":false,"error":"injected 429"})"},
    {MHD_HTTP_INTERNAL_SERVER_ERROR, R"({"ok":false,"error":"internal error"})"},
};
static_assert(std::size(canned_specs) == static_cast<std::size_t>(Canned::count));

// What to do with a request once its body is in (possibly after Options::delay).
struct Outcome {
  int status = 0;
  MHD_Response* response = nullptr;
  bool owned = false;  // response made for this request only
  bool drop = false;   // close the connection without answering
};

// Per-request state, from the first handler call until MHD's completion callback.
struct Request {
  Route route = Route::not_found;
  bool overflow = false;  // body exceeded max_body_bytes: dropped, answered 413
  bool waiting = false;   // suspended for Options::delay, outcome decided
  std::string body{};
  Outcome outcome{};

  Request() = default;
  Request(Request const&) = delete;
  Request& operator=(Request const&) = delete;
  ~Request() {
    if (outcome.owned && outcome.response != nullptr) MHD_destroy_response(outcome.response);
  }
};

std::uint64_t splitmix64(std::uint64_t x) noexcept {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

double clamp_share(double share) noexcept { return share > 0 ? (share < 1 ? share : 1.0) : 0.0; }

std::string header_value(MHD_Connection* connection, char const* name) {
  char const* value = MHD_lookup_connection_value(connection, MHD_HEADER_KIND, name);
  return value != nullptr ? std::string(value) : std::string();
}

MHD_Response* make_json_response(std::string_view body) {
  MHD_Response* response =
      MHD_create_response_from_buffer(body.size(), const_cast<char*>(body.data()), MHD_RESPMEM_MUST_COPY);
  if (response != nullptr) MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
  return response;
}

// An answer made for one request: `status`, a JSON error, and Retry-After when `retry_after` > 0.
MHD_Response* make_fault_response(int status, std::string_view error, int retry_after) {
  MHD_Response* response = make_json_response(R"({"ok":false,"error":")" + std::string(error) + " " +
                                              std::to_string(status) + "\"}");
  if (response != nullptr && retry_after > 0) {
    MHD_add_response_header(response, MHD_HTTP_HEADER_RETRY_AFTER, std::to_string(retry_after).c_str());
  }
  return response;
}

// A top-level string member of a JSON object ("" when missing or not a string).
std::string top_level_string(simdjson::dom::element const& root, char const* key) {
  std::string_view value;
  if (root[key].get_string().get(value) != simdjson::SUCCESS) return {};
  return std::string(value);
}

// The per-thread decode/parse state: MHD worker threads each get their own, reused for every
// request that thread serves. Holds no collector-specific data, so collectors may share it.
BatchChecker& thread_checker() {
  thread_local BatchChecker checker;
  return checker;
}

}  // namespace

class Collector::Impl {
 public:
  explicit Impl(Options options);
  ~Impl();
  Impl(Impl const&) = delete;
  Impl& operator=(Impl const&) = delete;

  std::uint16_t port() const noexcept { return port_; }
  std::string endpoint() const { return "http://" + options_.bind_address + ":" + std::to_string(port_); }
  Stats stats() const noexcept;
  bool wait_for_unique(std::uint64_t n, std::chrono::milliseconds timeout) const;
  std::vector<std::string> bodies() const {
    std::lock_guard lock(bodies_mutex_);
    return bodies_;
  }
  RequestHeaders last_headers() const {
    std::lock_guard lock(headers_mutex_);
    return last_headers_;
  }
  void set_fixed_status(int status) noexcept { fixed_status_.store(status, relaxed); }  // read by next request; no ordering
  void set_shares(double share_500, double share_429, double share_drop) noexcept {
    // Three independent relaxed stores: a request racing with this may see a mix, which is fine.
    share_500_.store(clamp_share(share_500), relaxed);
    share_429_.store(clamp_share(share_429), relaxed);
    share_drop_.store(clamp_share(share_drop), relaxed);
  }
  void set_delay(std::chrono::milliseconds delay) noexcept { delay_ms_.store(delay.count(), relaxed); }
  // Refuse mode is one deadline: refuse() puts it at the end of time, release() before any
  // time, refuse_for() at now + duration. Requests read it once each; no ordering needed.
  void refuse_until_ns(std::int64_t deadline_ns) noexcept { outage_until_ns_.store(deadline_ns, relaxed); }
  void refuse() noexcept { refuse_until_ns(std::numeric_limits<std::int64_t>::max()); }
  void release() noexcept { refuse_until_ns(std::numeric_limits<std::int64_t>::min()); }
  void refuse_for(std::chrono::milliseconds duration) noexcept {
    refuse_until_ns(now_ns() + std::chrono::duration_cast<std::chrono::nanoseconds>(duration).count());
  }
  bool refusing() const noexcept { return now_ns() < outage_until_ns_.load(relaxed); }
  bool seen_message_id(std::string_view id) const {
    std::lock_guard lock(ids_mutex_);
    return ids_.contains(message_id_key(id));
  }
  std::vector<std::string> unseen_message_ids(std::span<std::string const> ids) const {
    std::vector<std::string> unseen;
    std::lock_guard lock(ids_mutex_);
    for (std::string const& id : ids)
      if (!ids_.contains(message_id_key(id))) unseen.push_back(id);
    return unseen;
  }
  std::vector<Envelope> envelopes() const {
    std::lock_guard lock(envelopes_mutex_);
    return envelopes_;
  }

 private:
  static std::int64_t now_ns() noexcept {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }
  Outcome decide_fault(MHD_Connection* connection, Request& request, char const* url, std::optional<Encoding> encoding);
  void record_envelope(std::optional<Encoding> encoding, Request const& request, Outcome const& outcome);
  void dump_request(MHD_Connection* connection, Request const& request, char const* url,
                    std::optional<Encoding> encoding, Outcome const& outcome);
  static MHD_Result on_request(void* cls, MHD_Connection* connection, char const* url, char const* method,
                               char const* version, char const* upload_data, std::size_t* upload_data_size,
                               void** con_cls) noexcept;
  static void on_completed(void* cls, MHD_Connection* connection, void** con_cls,
                           MHD_RequestTerminationCode code) noexcept;

  MHD_Result handle(MHD_Connection* connection, char const* url, char const* method, char const* upload_data,
                    std::size_t* upload_data_size, void** con_cls);
  Outcome decide(MHD_Connection* connection, Request& request, char const* url);
  Outcome decide_batch(MHD_Connection* connection, Request& request, char const* url);
  Outcome canned(Canned which) const noexcept {
    auto const i = static_cast<std::size_t>(which);
    return {canned_specs[i].status, canned_[i], false, false};
  }
  MHD_Result answer(MHD_Connection* connection, Request& request);
  void count_ids(BatchChecker const& checker, CheckResult const& result);
  bool suspend_for_delay(MHD_Connection* connection, Request& request);
  void timer_loop();
  void stop_timer();
  void resume_all_delayed();

  Options options_;
  std::uint16_t port_ = 0;
  bool refused_[3] = {false, false, false};  // by Encoding: 415
  bool bad_request_[3] = {false, false, false};  // by Encoding: 400
  MHD_Response* canned_[static_cast<std::size_t>(Canned::count)] = {};
  std::FILE* ndjson_ = nullptr;
  std::mutex ndjson_mutex_;
  std::unique_ptr<RequestDump> dump_;  // Options::dump_requests_path

  // Runtime-adjustable fault injection; each is an independent relaxed value read per request.
  std::atomic<int> fixed_status_{0};
  std::atomic<double> share_500_{0};
  std::atomic<double> share_429_{0};
  std::atomic<double> share_drop_{0};
  std::atomic<std::int64_t> delay_ms_{0};
  std::atomic<std::uint64_t> fault_draws_{0};  // index into the seeded PRNG sequence
  std::atomic<std::uint64_t> fail_first_left_{0};  // Options::fail_first answers still to give
  std::atomic<std::int64_t> outage_until_ns_{std::numeric_limits<std::int64_t>::min()};  // steady_clock; refuse until then

  // Counters: statistics only, relaxed (no data is published through them), except unique_.
  std::atomic<std::uint64_t> requests_{0}, accepted_batches_{0}, events_{0}, duplicates_{0}, invalid_{0},
      bytes_received_{0}, bytes_decoded_{0}, answered_2xx_{0}, answered_4xx_{0}, answered_5xx_{0},
      injected_500_{0}, injected_429_{0}, dropped_{0}, injected_460_{0}, refused_marked_{0}, failed_first_{0},
      outage_refusals_{0}, id_set_growths_{0};
  std::atomic<std::uint64_t> by_type_[message_type_count] = {};
  std::atomic<std::uint64_t> by_encoding_[3] = {};

  // Unique ids. ids_mutex_ is taken for every batch (once, uncontended but for a reader):
  // seen_message_id() reads the set from other threads.
  mutable std::mutex ids_mutex_;
  MessageIdSet ids_;
  std::atomic<std::uint64_t> unique_{0};
  // wait_for_unique: waiters_ and unique_ are seq_cst so that either the inserter sees a
  // waiter (and notifies under wait_mutex_) or the waiter sees the new count.
  mutable std::atomic<int> waiters_{0};
  mutable std::mutex wait_mutex_;
  mutable std::condition_variable wait_cv_;

  mutable std::mutex bodies_mutex_;
  std::vector<std::string> bodies_;
  mutable std::mutex headers_mutex_;
  RequestHeaders last_headers_;
  mutable std::mutex envelopes_mutex_;
  std::vector<Envelope> envelopes_;

  // Delayed answers: suspended connections and when to resume them. Lock order: timer_mutex_
  // may be held while calling MHD_suspend_connection; MHD_resume_connection is called without it.
  std::mutex timer_mutex_;
  std::condition_variable timer_cv_;
  std::multimap<std::chrono::steady_clock::time_point, MHD_Connection*> timers_;
  bool timer_stopped_ = false;
  bool timer_exit_ = false;  // the timer thread returns (std::jthread would do: libc++ 14 lacks it)

  MHD_Daemon* daemon_ = nullptr;
  std::thread timer_thread_;  // declared last; stop_timer() before anything it uses goes
};

Collector::Impl::Impl(Options options)
    : options_(std::move(options)),
      ids_(options_.expected_ids > 0 ? MessageIdSet(options_.expected_ids) : MessageIdSet()) {
  if (options_.threads < 1) throw std::runtime_error("collector: threads must be at least 1");
  for (double share : {options_.share_500, options_.share_429, options_.share_drop_connection})
    if (!(share >= 0 && share <= 1)) throw std::runtime_error("collector: fault shares must be within [0, 1]");
  if (options_.share_500 + options_.share_429 + options_.share_drop_connection > 1.0 + 1e-9)
    throw std::runtime_error("collector: fault shares add up to more than 1");
  if (options_.fixed_status != 0 && (options_.fixed_status < 100 || options_.fixed_status > 999))
    throw std::runtime_error("collector: fixed_status must be an HTTP status (100..999)");
  for (std::string const& name : options_.refused_encodings) {
    auto const encoding = parse_encoding(name);
    if (!encoding)
      throw std::runtime_error("collector: unknown encoding to refuse: '" + name + "' (identity, gzip or zstd)");
    refused_[static_cast<std::size_t>(*encoding)] = true;
  }
  for (std::string const& name : options_.bad_request_encodings) {
    auto const encoding = parse_encoding(name);
    if (!encoding)
      throw std::runtime_error("collector: unknown encoding to answer 400: '" + name + "' (identity, gzip or zstd)");
    bad_request_[static_cast<std::size_t>(*encoding)] = true;
  }
  if (!(options_.share_460 >= 0 && options_.share_460 <= 1) ||
      options_.share_500 + options_.share_429 + options_.share_drop_connection + options_.share_460 > 1.0 + 1e-9)
    throw std::runtime_error("collector: fault shares must be within [0, 1] and add up to at most 1");
  if (options_.fail_first != 0 && (options_.fail_first_status < 100 || options_.fail_first_status > 999))
    throw std::runtime_error("collector: fail_first_status must be an HTTP status (100..999)");
  fail_first_left_.store(options_.fail_first, relaxed);
  if (options_.outage.count() > 0) refuse_for(options_.outage);
  if (options_.refuse_until_released) refuse();
  fixed_status_.store(options_.fixed_status, relaxed);
  set_shares(options_.share_500, options_.share_429, options_.share_drop_connection);
  set_delay(options_.delay);

  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(options_.port);
  if (inet_pton(AF_INET, options_.bind_address.c_str(), &address.sin_addr) != 1)
    throw std::runtime_error("collector: bind address '" + options_.bind_address + "' is not an IPv4 address");

  if (!options_.dump_requests_path.empty())
    dump_ = std::make_unique<RequestDump>(options_.dump_requests_path, options_.max_body_bytes);
  if (!options_.ndjson_path.empty()) {
    ndjson_ = std::fopen(options_.ndjson_path.c_str(), "ab");
    if (ndjson_ == nullptr)
      throw std::runtime_error("collector: cannot open NDJSON file '" + options_.ndjson_path +
                               "': " + std::strerror(errno));
  }

  for (std::size_t i = 0; i < std::size(canned_specs); ++i) {
    std::string_view const body = canned_specs[i].body;
    canned_[i] = MHD_create_response_from_buffer(body.size(), const_cast<char*>(body.data()), MHD_RESPMEM_PERSISTENT);
    if (canned_[i] == nullptr) {
      for (std::size_t j = 0; j < i; ++j) MHD_destroy_response(canned_[j]);
      if (ndjson_ != nullptr) std::fclose(ndjson_);
      throw std::runtime_error("collector: MHD_create_response_from_buffer failed");
    }
    MHD_add_response_header(canned_[i], MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
  }
  std::string const retry_after = std::to_string(options_.retry_after_seconds);
  MHD_add_response_header(canned_[static_cast<std::size_t>(Canned::injected_429)], MHD_HTTP_HEADER_RETRY_AFTER,
                          retry_after.c_str());

  timer_thread_ = std::thread([this] { timer_loop(); });
#if defined(__linux__)
  pthread_setname_np(timer_thread_.native_handle(), "htev-coll-delay");  // elsewhere: unnamed
#endif

  // Suspend/resume is always allowed so that set_delay() works at any time.
#if defined(__linux__)
  unsigned const poller = MHD_USE_EPOLL;
#else
  unsigned const poller = MHD_USE_AUTO;  // poll() or select(), whichever this MHD has
#endif
  unsigned const flags = MHD_USE_INTERNAL_POLLING_THREAD | poller | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_TURBO;
  // 128 KiB per connection: large bodies arrive in fewer, bigger reads.
  std::size_t const memory_limit = std::size_t{128} * 1024;
  errno = 0;
  if (options_.threads > 1) {
    daemon_ = MHD_start_daemon(flags, options_.port, nullptr, nullptr, &Impl::on_request, this, MHD_OPTION_SOCK_ADDR,
                               &address, MHD_OPTION_NOTIFY_COMPLETED, &Impl::on_completed, this,
                               MHD_OPTION_CONNECTION_MEMORY_LIMIT, memory_limit, MHD_OPTION_THREAD_POOL_SIZE,
                               static_cast<unsigned int>(options_.threads), MHD_OPTION_END);
  } else {
    daemon_ = MHD_start_daemon(flags, options_.port, nullptr, nullptr, &Impl::on_request, this, MHD_OPTION_SOCK_ADDR,
                               &address, MHD_OPTION_NOTIFY_COMPLETED, &Impl::on_completed, this,
                               MHD_OPTION_CONNECTION_MEMORY_LIMIT, memory_limit, MHD_OPTION_END);
  }
  if (daemon_ == nullptr) {
    int const error = errno;
    stop_timer();
    for (MHD_Response* response : canned_) MHD_destroy_response(response);
    if (ndjson_ != nullptr) std::fclose(ndjson_);
    throw std::runtime_error("collector: cannot listen on " + options_.bind_address + ":" +
                             std::to_string(options_.port) + ": " +
                             (error != 0 ? std::strerror(error) : "MHD_start_daemon failed"));
  }
  MHD_DaemonInfo const* info = MHD_get_daemon_info(daemon_, MHD_DAEMON_INFO_BIND_PORT);
  port_ = info != nullptr && info->port != 0 ? info->port : options_.port;
}

Collector::Impl::~Impl() {
  // Shutdown order: stop the timer, resume every suspended connection (MHD refuses to stop
  // with suspended ones), then stop MHD, then free what its threads used.
  stop_timer();
  resume_all_delayed();
  // Stop accepting, then let the connections still open finish before stopping: libmicrohttpd
  // 0.9.75 can crash in its polling thread when stopped while it is still answering a
  // malformed request (seen with a TLS ClientHello sent to this plain-HTTP port).
  MHD_quiesce_daemon(daemon_);
  for (int i = 0; i < 200; ++i) {
    MHD_DaemonInfo const* info = MHD_get_daemon_info(daemon_, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
    if (info == nullptr || info->num_connections == 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  MHD_stop_daemon(daemon_);
  for (MHD_Response* response : canned_) MHD_destroy_response(response);
  if (ndjson_ != nullptr) std::fclose(ndjson_);
}

MHD_Result Collector::Impl::on_request(void* cls, MHD_Connection* connection, char const* url, char const* method,
                                       char const* /*version*/, char const* upload_data,
                                       std::size_t* upload_data_size, void** con_cls) noexcept {
  try {
    return static_cast<Impl*>(cls)->handle(connection, url, method, upload_data, upload_data_size, con_cls);
  } catch (...) {
    return MHD_NO;  // bad_alloc: close the connection rather than throw across MHD
  }
}

void Collector::Impl::on_completed(void* /*cls*/, MHD_Connection* /*connection*/, void** con_cls,
                                   MHD_RequestTerminationCode /*code*/) noexcept {
  delete static_cast<Request*>(*con_cls);
  *con_cls = nullptr;
}

MHD_Result Collector::Impl::handle(MHD_Connection* connection, char const* url, char const* method,
                                   char const* upload_data, std::size_t* upload_data_size, void** con_cls) {
  auto* request = static_cast<Request*>(*con_cls);
  if (request == nullptr) {  // headers are in; the body (if any) follows in later calls
    request = new Request;
    *con_cls = request;
    std::string_view const path(url);
    std::string_view const verb(method);
    if (path.ends_with("/v1/batch")) {
      request->route = verb == "POST" ? Route::batch : Route::wrong_method;
      if (char const* length = MHD_lookup_connection_value(connection, MHD_HEADER_KIND,
                                                           MHD_HTTP_HEADER_CONTENT_LENGTH)) {
        std::size_t n = 0;
        std::string_view const text(length);
        if (std::from_chars(text.data(), text.data() + text.size(), n).ec == std::errc{} &&
            n <= options_.max_body_bytes)
          request->body.reserve(n);
      }
    } else if (path == "/stats" && verb == "GET") {
      request->route = Route::stats;
    }
    return MHD_YES;
  }
  if (*upload_data_size != 0) {
    if (request->route == Route::batch) {
      bytes_received_.fetch_add(*upload_data_size, relaxed);
      if (!request->overflow) {
        if (request->body.size() + *upload_data_size > options_.max_body_bytes) {
          request->overflow = true;
          std::string().swap(request->body);
        } else {
          request->body.append(upload_data, *upload_data_size);
        }
      }
    }
    *upload_data_size = 0;
    return MHD_YES;
  }
  if (!request->waiting) {
    request->outcome = decide(connection, *request, url);
    if (request->route == Route::batch && suspend_for_delay(connection, *request)) return MHD_YES;
  }
  return answer(connection, *request);
}

Outcome Collector::Impl::decide(MHD_Connection* connection, Request& request, char const* url) {
  switch (request.route) {
    case Route::batch: return decide_batch(connection, request, url);
    case Route::stats: {
      MHD_Response* response = make_json_response(stats().to_json());
      if (response == nullptr) return canned(Canned::internal_error);
      return {MHD_HTTP_OK, response, true, false};
    }
    case Route::wrong_method: return canned(Canned::wrong_method);
    case Route::not_found: break;
  }
  return canned(Canned::not_found);
}

Outcome Collector::Impl::decide_batch(MHD_Connection* connection, Request& request, char const* url) {
  std::optional<Encoding> const encoding = parse_encoding(header_value(connection, MHD_HTTP_HEADER_CONTENT_ENCODING));
  Outcome outcome = decide_fault(connection, request, url, encoding);
  if (options_.record_envelopes) record_envelope(encoding, request, outcome);
  if (dump_) dump_request(connection, request, url, encoding, outcome);
  return outcome;
}

void Collector::Impl::dump_request(MHD_Connection* connection, Request const& request, char const* url,
                                   std::optional<Encoding> encoding, Outcome const& outcome) {
  DumpedRequest dumped{.method = "POST",
                       .path = url,
                       .headers = {},
                       .wire_body = request.body,
                       .encoding = encoding,
                       .overflow = request.overflow,
                       .status = outcome.drop ? 0 : outcome.status};
  MHD_get_connection_values(
      connection, MHD_HEADER_KIND,
      [](void* cls, MHD_ValueKind, char const* key, char const* value) -> MHD_Result {
        static_cast<DumpedRequest*>(cls)->headers.emplace_back(key, value != nullptr ? value : "");
        return MHD_YES;
      },
      &dumped);
  dump_->write(dumped);
}

void Collector::Impl::record_envelope(std::optional<Encoding> encoding, Request const& request,
                                      Outcome const& outcome) {
  thread_local Decoder decoder;
  thread_local simdjson::dom::parser parser;
  Envelope envelope;
  envelope.status = outcome.drop ? 0 : outcome.status;
  simdjson::dom::element root;
  if (encoding && !request.overflow &&
      decoder.decode(*encoding, request.body, options_.max_body_bytes) == DecodeStatus::ok &&
      parser.parse(decoder.output().data(), decoder.output().size(), true).get(root) == simdjson::SUCCESS) {
    envelope.message_id = top_level_string(root, "messageId");
    envelope.sent_at = top_level_string(root, "sentAt");
  }
  std::lock_guard lock(envelopes_mutex_);
  envelopes_.push_back(std::move(envelope));
}

// Everything but the envelope record: fixed status, then the scripted faults (fail_first, outage),
// then the random ones (shares), then the body's own checks (size, encoding, JSON, marker).
Outcome Collector::Impl::decide_fault(MHD_Connection* connection, Request& request, char const* url,
                                      std::optional<Encoding> encoding) {
  requests_.fetch_add(1, relaxed);
  std::string encoding_header = header_value(connection, MHD_HTTP_HEADER_CONTENT_ENCODING);
  {
    RequestHeaders headers{header_value(connection, MHD_HTTP_HEADER_AUTHORIZATION),
                           header_value(connection, MHD_HTTP_HEADER_CONTENT_TYPE), encoding_header,
                           header_value(connection, MHD_HTTP_HEADER_USER_AGENT), url};
    MHD_get_connection_values(
        connection, MHD_HEADER_KIND,
        [](void* cls, MHD_ValueKind, char const* key, char const*) -> MHD_Result {
          std::string name(key);
          for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
          static_cast<RequestHeaders*>(cls)->names.push_back(std::move(name));
          return MHD_YES;
        },
        &headers);
    std::lock_guard lock(headers_mutex_);
    last_headers_ = std::move(headers);
  }
  if (encoding) by_encoding_[static_cast<std::size_t>(*encoding)].fetch_add(1, relaxed);

  if (int const fixed = fixed_status_.load(relaxed); fixed != 0) {
    MHD_Response* response =
        make_json_response(R"({"ok":false,"error":"fixed status )" + std::to_string(fixed) + "\"}");
    if (response == nullptr) return canned(Canned::internal_error);
    return {fixed, response, true, false};
  }

  // The first N answers: claimed one at a time, so that exactly N requests get it.
  for (std::uint64_t left = fail_first_left_.load(relaxed); left > 0;) {
    if (fail_first_left_.compare_exchange_weak(left, left - 1, relaxed)) {
      failed_first_.fetch_add(1, relaxed);
      MHD_Response* response =
          make_fault_response(options_.fail_first_status, "fail_first", options_.fail_first_retry_after);
      if (response == nullptr) return canned(Canned::internal_error);
      return {options_.fail_first_status, response, true, false};
    }
  }

  if (refusing()) {
    outage_refusals_.fetch_add(1, relaxed);
    if (options_.outage_drops) return {0, nullptr, false, true};
    MHD_Response* response = make_fault_response(503, "outage", options_.outage_retry_after);
    if (response == nullptr) return canned(Canned::internal_error);
    return {503, response, true, false};
  }

  double const drop = share_drop_.load(relaxed);
  double const s500 = share_500_.load(relaxed);
  double const s429 = share_429_.load(relaxed);
  double const s460 = options_.share_460;
  if (drop + s500 + s429 + s460 > 0) {
    std::uint64_t const draw = fault_draws_.fetch_add(1, relaxed);  // only an index; no ordering
    double const u = static_cast<double>(splitmix64(options_.seed * 0xD1B54A32D192ED03ULL + draw) >> 11) * 0x1.0p-53;
    if (u < drop) return {0, nullptr, false, true};
    if (u < drop + s500) {
      injected_500_.fetch_add(1, relaxed);
      return canned(Canned::injected_500);
    }
    if (u < drop + s500 + s429) {
      injected_429_.fetch_add(1, relaxed);
      return canned(Canned::injected_429);
    }
    if (u < drop + s500 + s429 + s460) {
      injected_460_.fetch_add(1, relaxed);
      MHD_Response* response = make_fault_response(460, "injected", 0);
      if (response == nullptr) return canned(Canned::internal_error);
      return {460, response, true, false};
    }
  }

  if (request.overflow) return canned(Canned::too_large);
  if (!encoding || refused_[static_cast<std::size_t>(*encoding)]) return canned(Canned::unsupported_encoding);
  if (bad_request_[static_cast<std::size_t>(*encoding)]) {
    MHD_Response* response = make_fault_response(400, "bad request for Content-Encoding", 0);
    if (response == nullptr) return canned(Canned::internal_error);
    return {400, response, true, false};
  }

  BatchChecker& checker = thread_checker();
  thread_local std::string ndjson_lines;
  ndjson_lines.clear();
  CheckResult const result =
      checker.check(*encoding, request.body, options_.max_body_bytes, ndjson_ != nullptr ? &ndjson_lines : nullptr);
  bytes_decoded_.fetch_add(result.decoded_bytes, relaxed);
  switch (result.status) {
    case BodyStatus::ok: break;
    case BodyStatus::corrupt_encoding: return canned(Canned::corrupt_encoding);
    case BodyStatus::too_large: return canned(Canned::too_large);
    case BodyStatus::invalid_json: return canned(Canned::invalid_json);
    case BodyStatus::not_a_batch: return canned(Canned::not_a_batch);
  }
  if (!options_.refuse_marker.empty() && checker.decoded().find(options_.refuse_marker) != std::string_view::npos) {
    refused_marked_.fetch_add(1, relaxed);
    MHD_Response* response = make_fault_response(400, "batch holds a refused message", 0);
    if (response == nullptr) return canned(Canned::internal_error);
    return {400, response, true, false};
  }

  if (ndjson_ != nullptr && !ndjson_lines.empty()) {
    std::lock_guard lock(ndjson_mutex_);
    std::fwrite(ndjson_lines.data(), 1, ndjson_lines.size(), ndjson_);
    std::fflush(ndjson_);
  }
  if (options_.keep_bodies) {
    std::lock_guard lock(bodies_mutex_);
    if (bodies_.size() < options_.max_kept_bodies) bodies_.emplace_back(checker.decoded());
  }
  for (std::size_t i = 0; i < message_type_count; ++i)
    if (result.by_type[i] != 0) by_type_[i].fetch_add(result.by_type[i], relaxed);
  invalid_.fetch_add(result.invalid, relaxed);
  events_.fetch_add(result.valid, relaxed);
  count_ids(checker, result);
  accepted_batches_.fetch_add(1, relaxed);
  return canned(Canned::ok);
}

void Collector::Impl::count_ids(BatchChecker const& checker, CheckResult const& result) {
  std::uint64_t fresh = 0;
  {
    std::lock_guard lock(ids_mutex_);
    fresh = ids_.insert_all(checker.ids());
    id_set_growths_.store(ids_.growths(), relaxed);
  }
  duplicates_.fetch_add(result.valid - fresh, relaxed);
  if (fresh == 0) return;
  unique_.fetch_add(fresh, std::memory_order_seq_cst);  // pairs with wait_for_unique()'s waiters_ increment
  if (waiters_.load(std::memory_order_seq_cst) > 0) {   // pairs with wait_for_unique()'s fetch_add
    { std::lock_guard lock(wait_mutex_); }              // a waiter is either before its check or in wait()
    wait_cv_.notify_all();
  }
}

bool Collector::Impl::suspend_for_delay(MHD_Connection* connection, Request& request) {
  std::int64_t const ms = delay_ms_.load(relaxed);
  if (ms <= 0) return false;
  {
    std::lock_guard lock(timer_mutex_);
    if (timer_stopped_) return false;  // shutting down: answer at once
    MHD_suspend_connection(connection);
    timers_.emplace(std::chrono::steady_clock::now() + std::chrono::milliseconds(ms), connection);
    request.waiting = true;
  }
  timer_cv_.notify_one();
  return true;
}

void Collector::Impl::stop_timer() {
  {
    std::lock_guard lock(timer_mutex_);
    timer_exit_ = true;
  }
  timer_cv_.notify_all();
  if (timer_thread_.joinable()) timer_thread_.join();
}

void Collector::Impl::timer_loop() {
  std::vector<MHD_Connection*> due;
  std::unique_lock lock(timer_mutex_);
  while (!timer_exit_) {
    if (timers_.empty()) {
      timer_cv_.wait(lock, [this] { return timer_exit_ || !timers_.empty(); });
      continue;
    }
    auto const first = timers_.begin()->first;
    if (std::chrono::steady_clock::now() < first) {
      timer_cv_.wait_until(
          lock, first, [this, first] { return timer_exit_ || (!timers_.empty() && timers_.begin()->first < first); });
      continue;
    }
    auto const now = std::chrono::steady_clock::now();
    while (!timers_.empty() && timers_.begin()->first <= now) {
      due.push_back(timers_.begin()->second);
      timers_.erase(timers_.begin());
    }
    lock.unlock();  // MHD_resume_connection takes MHD's own locks
    for (MHD_Connection* connection : due) MHD_resume_connection(connection);
    due.clear();
    lock.lock();
  }
}

void Collector::Impl::resume_all_delayed() {
  std::vector<MHD_Connection*> pending;
  {
    std::lock_guard lock(timer_mutex_);
    timer_stopped_ = true;
    for (auto const& entry : timers_) pending.push_back(entry.second);
    timers_.clear();
  }
  for (MHD_Connection* connection : pending) MHD_resume_connection(connection);
}

MHD_Result Collector::Impl::answer(MHD_Connection* connection, Request& request) {
  Outcome& outcome = request.outcome;
  bool const batch = request.route == Route::batch;
  if (outcome.drop) {
    dropped_.fetch_add(1, relaxed);
    return MHD_NO;  // MHD closes the connection without a response
  }
  if (batch) {
    int const status_class = outcome.status / 100;
    if (status_class == 2) answered_2xx_.fetch_add(1, relaxed);
    else if (status_class == 4) answered_4xx_.fetch_add(1, relaxed);
    else if (status_class == 5) answered_5xx_.fetch_add(1, relaxed);
  }
  return MHD_queue_response(connection, static_cast<unsigned int>(outcome.status), outcome.response);
}

Stats Collector::Impl::stats() const noexcept {
  Stats s;
  s.requests = requests_.load(relaxed);
  s.accepted_batches = accepted_batches_.load(relaxed);
  s.events = events_.load(relaxed);
  s.unique_message_ids = unique_.load(relaxed);
  s.id_set_growths = id_set_growths_.load(relaxed);
  s.duplicate_message_ids = duplicates_.load(relaxed);
  s.invalid_messages = invalid_.load(relaxed);
  s.bytes_received = bytes_received_.load(relaxed);
  s.bytes_decoded = bytes_decoded_.load(relaxed);
  auto type = [this](MessageType t) { return by_type_[static_cast<std::size_t>(t)].load(relaxed); };
  s.by_type = {type(MessageType::identify), type(MessageType::track), type(MessageType::page),
               type(MessageType::screen), type(MessageType::group), type(MessageType::alias)};
  auto encoding = [this](Encoding e) { return by_encoding_[static_cast<std::size_t>(e)].load(relaxed); };
  s.by_encoding = {encoding(Encoding::identity), encoding(Encoding::gzip), encoding(Encoding::zstd)};
  s.answered_2xx = answered_2xx_.load(relaxed);
  s.answered_4xx = answered_4xx_.load(relaxed);
  s.answered_5xx = answered_5xx_.load(relaxed);
  s.injected_500 = injected_500_.load(relaxed);
  s.injected_429 = injected_429_.load(relaxed);
  s.dropped_connections = dropped_.load(relaxed);
  s.injected_460 = injected_460_.load(relaxed);
  s.refused_marked = refused_marked_.load(relaxed);
  s.failed_first = failed_first_.load(relaxed);
  s.outage_refusals = outage_refusals_.load(relaxed);
  return s;
}

bool Collector::Impl::wait_for_unique(std::uint64_t n, std::chrono::milliseconds timeout) const {
  auto const deadline = std::chrono::steady_clock::now() + timeout;
  waiters_.fetch_add(1, std::memory_order_seq_cst);  // pairs with count_ids()'s waiters_ load
  bool reached = false;
  {
    std::unique_lock lock(wait_mutex_);
    reached = wait_cv_.wait_until(lock, deadline, [this, n] {
      return unique_.load(std::memory_order_seq_cst) >= n;  // pairs with count_ids()'s fetch_add
    });
  }
  waiters_.fetch_sub(1, std::memory_order_seq_cst);
  return reached;
}

std::string Stats::to_json() const {
  std::string out;
  out.reserve(640);
  auto field = [&out](std::string_view name, std::uint64_t value, bool last = false) {
    out.push_back('"');
    out.append(name);
    out.append("\":");
    out.append(std::to_string(value));
    if (!last) out.push_back(',');
  };
  out.push_back('{');
  field("requests", requests);
  field("accepted_batches", accepted_batches);
  field("events", events);
  field("unique_message_ids", unique_message_ids);
  field("duplicate_message_ids", duplicate_message_ids);
  field("invalid_messages", invalid_messages);
  field("bytes_received", bytes_received);
  field("bytes_decoded", bytes_decoded);
  out.append("\"by_type\":{");
  field("identify", by_type.identify);
  field("track", by_type.track);
  field("page", by_type.page);
  field("screen", by_type.screen);
  field("group", by_type.group);
  field("alias", by_type.alias, true);
  out.append("},\"by_encoding\":{");
  field("identity", by_encoding.identity);
  field("gzip", by_encoding.gzip);
  field("zstd", by_encoding.zstd, true);
  out.append("},");
  field("answered_2xx", answered_2xx);
  field("answered_4xx", answered_4xx);
  field("answered_5xx", answered_5xx);
  field("injected_500", injected_500);
  field("injected_429", injected_429);
  field("dropped_connections", dropped_connections);
  field("injected_460", injected_460);
  field("refused_marked", refused_marked);
  field("failed_first", failed_first);
  field("outage_refusals", outage_refusals);
  field("id_set_growths", id_set_growths, true);
  out.push_back('}');
  return out;
}

Collector::Collector(Options options) : impl_(std::make_unique<Impl>(std::move(options))) {}
Collector::~Collector() = default;
std::uint16_t Collector::port() const noexcept { return impl_->port(); }
std::string Collector::endpoint() const { return impl_->endpoint(); }
Stats Collector::stats() const noexcept { return impl_->stats(); }
bool Collector::wait_for_unique(std::uint64_t n, std::chrono::milliseconds timeout) const {
  return impl_->wait_for_unique(n, timeout);
}
std::vector<std::string> Collector::bodies() const { return impl_->bodies(); }
Collector::RequestHeaders Collector::last_headers() const { return impl_->last_headers(); }
void Collector::set_fixed_status(int status) noexcept { impl_->set_fixed_status(status); }
void Collector::set_shares(double share_500, double share_429, double share_drop_connection) noexcept {
  impl_->set_shares(share_500, share_429, share_drop_connection);
}
void Collector::set_delay(std::chrono::milliseconds delay) noexcept { impl_->set_delay(delay); }
void Collector::start_outage(std::chrono::milliseconds duration) noexcept { impl_->refuse_for(duration); }
void Collector::refuse() noexcept { impl_->refuse(); }
void Collector::refuse_for(std::chrono::milliseconds duration) noexcept { impl_->refuse_for(duration); }
void Collector::release() noexcept { impl_->release(); }
bool Collector::refusing() const noexcept { return impl_->refusing(); }
bool Collector::seen_message_id(std::string_view id) const { return impl_->seen_message_id(id); }
std::vector<std::string> Collector::unseen_message_ids(std::span<std::string const> ids) const {
  return impl_->unseen_message_ids(ids);
}
std::vector<Collector::Envelope> Collector::envelopes() const { return impl_->envelopes(); }

}  // namespace htevents::collector
