#include "transport/sender.hpp"

#include <algorithm>
#include <cstring>
#include <mutex>
#include <stdexcept>

#include "client_core.hpp"
#include "htevents_version.hpp"

namespace htevents::inline v0::detail {
namespace {

constexpr std::size_t kept_response_bytes = 512;
constexpr auto stop_poll = std::chrono::milliseconds(1000);

void init_curl_once() {
  static std::once_flag once;
  static CURLcode result = CURLE_OK;
  std::call_once(once, [] { result = curl_global_init(CURL_GLOBAL_DEFAULT); });
  if (result != CURLE_OK) throw std::runtime_error("htevents: curl_global_init failed");
}

// Errors another attempt cannot fix.
bool permanent(CURLcode code) noexcept {
  switch (code) {
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_TOO_MANY_REDIRECTS:
      return true;
    default:
      return false;
  }
}

Compression next_encoding(Compression c) noexcept {
  return c == Compression::zstd ? Compression::gzip : Compression::none;
}

}  // namespace

Sender::Sender(ClientCore& core)
    : core_(core), compressor_(core.config.compression_level), rng_(std::random_device{}()) {
  init_curl_once();
  multi_ = curl_multi_init();
  if (multi_ == nullptr) throw std::runtime_error("htevents: curl_multi_init failed");
  auto const max = static_cast<long>(core.config.max_in_flight);
  curl_multi_setopt(multi_, CURLMOPT_MAX_TOTAL_CONNECTIONS, max);
  curl_multi_setopt(multi_, CURLMOPT_MAXCONNECTS, max);

  std::string const user_agent = "User-Agent: events-sdk-cpp (version: " HTEVENTS_VERSION ")";
  for (Compression c : {Compression::none, Compression::gzip, Compression::zstd}) {
    curl_slist* list = nullptr;
    list = curl_slist_append(list, core.authorization.c_str());
    list = curl_slist_append(list, "Content-Type: application/json");
    list = curl_slist_append(list, user_agent.c_str());
    list = curl_slist_append(list, "Expect:");  // no 100-continue round trip for large bodies
    if (c != Compression::none) {
      list = curl_slist_append(list, ("Content-Encoding: " + std::string(content_encoding(c))).c_str());
    }
    if (list == nullptr) throw std::runtime_error("htevents: out of memory for HTTP headers");
    headers_[static_cast<int>(c)] = list;
  }

  // Room for every batch of the pool, reserved before any thread runs: submit() (serializer
  // thread) and intake() then never reallocate.
  submitted_.reserve(core.batches.size());
  intake_.reserve(core.batches.size());
  waiting_.reserve(core.batches.size());

  slots_.resize(core.config.max_in_flight);
  for (Slot& slot : slots_) {
    slot.easy = curl_easy_init();
    if (slot.easy == nullptr) throw std::runtime_error("htevents: curl_easy_init failed");
    CURL* e = slot.easy;
    curl_easy_setopt(e, CURLOPT_URL, core.url.c_str());
    curl_easy_setopt(e, CURLOPT_POST, 1L);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);  // wire-format.md: follow no redirects
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, static_cast<long>(core.config.request_timeout.count()));
    curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, core.config.tls_verify ? 1L : 0L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, core.config.tls_verify ? 2L : 0L);
    if (!core.config.ca_bundle.empty()) curl_easy_setopt(e, CURLOPT_CAINFO, core.config.ca_bundle.c_str());
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &Sender::on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &slot);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, &Sender::on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, &slot);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, slot.error);
    curl_easy_setopt(e, CURLOPT_PRIVATE, &slot);
    slot.response.reserve(kept_response_bytes);
    idle_slots_.push_back(&slot);
  }
}

Sender::~Sender() {
  for (Slot& slot : slots_) {
    if (slot.batch != nullptr) curl_multi_remove_handle(multi_, slot.easy);
    if (slot.easy != nullptr) curl_easy_cleanup(slot.easy);
  }
  for (curl_slist* list : headers_) curl_slist_free_all(list);
  if (multi_ != nullptr) curl_multi_cleanup(multi_);
}

std::size_t Sender::on_body(char* data, std::size_t size, std::size_t count, void* user) noexcept {
  auto& slot = *static_cast<Slot*>(user);
  std::size_t const n = size * count;
  std::size_t const keep = std::min(n, kept_response_bytes - std::min(kept_response_bytes, slot.response.size()));
  slot.response.append(data, keep);  // within the reserved capacity: no allocation
  return n;
}

std::size_t Sender::on_header(char* data, std::size_t size, std::size_t count, void* user) noexcept {
  auto& slot = *static_cast<Slot*>(user);
  std::size_t const n = size * count;
  std::string_view line(data, n);
  constexpr std::string_view name = "retry-after:";
  if (line.size() > name.size() && strncasecmp(line.data(), name.data(), name.size()) == 0) {
    auto const now = std::chrono::duration_cast<std::chrono::seconds>(
        std::chrono::system_clock::now().time_since_epoch()).count();
    slot.retry_after = parse_retry_after(line.substr(name.size()), now);
  }
  return n;
}

void Sender::submit(Batch* batch) noexcept {
  {
    std::lock_guard lock(submit_mutex_);
    submitted_.push_back(batch);  // capacity reserved for the whole pool: never allocates
  }
  wake();
}

void Sender::serializer_finished() noexcept {
  serializer_done_.store(true, std::memory_order_release);
  wake();
}

void Sender::wake() noexcept { curl_multi_wakeup(multi_); }

void Sender::intake() noexcept {
  {
    std::lock_guard lock(submit_mutex_);
    intake_.swap(submitted_);
  }
  for (Batch* batch : intake_) ready_.push_back(batch);
  intake_.clear();
  auto const now = std::chrono::steady_clock::now();
  // Due retries go first: they are the oldest messages.
  auto due = std::partition(waiting_.begin(), waiting_.end(), [&](Batch* b) { return b->not_before > now; });
  for (auto it = due; it != waiting_.end(); ++it) ready_.push_front(*it);
  waiting_.erase(due, waiting_.end());
}

void Sender::start(Slot& slot, Batch* batch) noexcept {
  slot.batch = batch;
  slot.response.clear();
  slot.retry_after.reset();
  slot.error[0] = '\0';
  std::string_view const body = batch->wire_view();
  curl_easy_setopt(slot.easy, CURLOPT_POSTFIELDS, body.data());
  curl_easy_setopt(slot.easy, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  curl_easy_setopt(slot.easy, CURLOPT_HTTPHEADER, headers_[static_cast<int>(batch->encoding)]);
  ++batch->attempts;
  core_.counters.requests.fetch_add(1, std::memory_order_relaxed);
  if (batch->attempts > 1) core_.counters.retries.fetch_add(1, std::memory_order_relaxed);
  core_.counters.bytes_sent.fetch_add(body.size(), std::memory_order_relaxed);
  if (curl_multi_add_handle(multi_, slot.easy) != CURLM_OK) {
    slot.batch = nullptr;
    idle_slots_.push_back(&slot);
    retry_later(batch, std::nullopt);
    return;
  }
  ++in_flight_;
}

bool Sender::reap() noexcept {
  bool any = false;
  int left = 0;
  while (CURLMsg* msg = curl_multi_info_read(multi_, &left)) {
    if (msg->msg != CURLMSG_DONE) continue;
    Slot* slot = nullptr;
    curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &slot);
    CURLcode const result = msg->data.result;
    curl_multi_remove_handle(multi_, slot->easy);
    --in_flight_;
    settle(*slot, result);
    slot->batch = nullptr;
    idle_slots_.push_back(slot);
    any = true;
  }
  return any;
}

void Sender::settle(Slot& slot, CURLcode result) noexcept {
  Batch* batch = slot.batch;
  long status = 0;
  curl_easy_getinfo(slot.easy, CURLINFO_RESPONSE_CODE, &status);
  bool const compressed = batch->encoding != Compression::none;
  bool const first_compressed = compressed && !compressed_answered_ && result == CURLE_OK;
  if (compressed && result == CURLE_OK) compressed_answered_ = true;

  switch (classify(status, result == CURLE_OK, permanent(result), first_compressed)) {
    case Outcome::delivered:
      deliver(batch, status);
      return;
    case Outcome::refused_encoding:
      if (fall_back(batch)) return;
      break;  // nothing left to fall back to: a plain rejection
    case Outcome::retry:
      if (batch->attempts < core_.config.max_attempts) {
        retry_later(batch, slot.retry_after);
        return;
      }
      break;
    case Outcome::rejected:
      break;
  }
  std::string detail;
  try {
    if (result != CURLE_OK) {
      detail = std::string("curl: ") + (slot.error[0] != '\0' ? slot.error : curl_easy_strerror(result));
    } else {
      detail = "HTTP " + std::to_string(status) + ": " + slot.response;
    }
  } catch (...) {
  }
  bool const exhausted = result != CURLE_OK ? !permanent(result) : (status == 408 || status == 429 || status >= 500);
  fail(batch, exhausted ? FailureReason::retries_exhausted : FailureReason::rejected, status, detail);
}

void Sender::retry_later(Batch* batch, std::optional<std::chrono::milliseconds> retry_after) noexcept {
  auto const wait = backoff(batch->attempts, core_.config.retry_base, core_.config.retry_max, retry_after, rng_);
  batch->not_before = std::chrono::steady_clock::now() + wait;
  try {
    waiting_.push_back(batch);
  } catch (...) {
    fail(batch, FailureReason::retries_exhausted, 0, "out of memory scheduling a retry");
  }
}

bool Sender::fall_back(Batch* batch) noexcept {
  Compression const refused = batch->encoding;
  if (refused == Compression::none) return false;
  Compression const next = next_encoding(refused);
  // Keep using what works from now on; the serializer reads this for each new batch.
  Compression expected = refused;
  core_.encoding.compare_exchange_strong(expected, next, std::memory_order_relaxed);
  core_.counters.compression_fallbacks.fetch_add(1, std::memory_order_relaxed);
  if (!core_.fallback_logged.exchange(true)) {
    core_.logger.log(LogLevel::warn, refused == Compression::zstd
                                         ? "the server refused zstd request bodies; falling back to gzip"
                                         : "the server refused gzip request bodies; sending them uncompressed");
  }
  batch->encoding = next;
  if (next != Compression::none && !compressor_.compress(next, batch->body.view(), batch->wire)) {
    batch->encoding = Compression::none;
  }
  --batch->attempts;  // a refused encoding is not a failed try
  ready_.push_front(batch);
  return true;
}

void Sender::deliver(Batch* batch, long http_status) noexcept {
  core_.counters.delivered.fetch_add(batch->messages.size(), std::memory_order_relaxed);
  core_.counters.batches_sent.fetch_add(1, std::memory_order_relaxed);
  core_.notify_success(Delivery{batch->messages.size(), batch->body.size(), batch->wire_view().size(),
                                static_cast<int>(http_status), batch->attempts});
  finish(batch);
}

void Sender::fail(Batch* batch, FailureReason reason, long http_status, std::string_view detail) noexcept {
  for (std::size_t i = 0; i < batch->messages.size(); ++i) {
    core_.fail_message(reason, static_cast<int>(http_status), detail, batch->message(i));
  }
  if (reason == FailureReason::deadline) {
    core_.counters.deadline_failures.fetch_add(batch->messages.size(), std::memory_order_relaxed);
  }
  core_.counters.batches_failed.fetch_add(1, std::memory_order_relaxed);
  finish(batch);
}

void Sender::finish(Batch* batch) noexcept {
  std::uint64_t const serial = batch->serial;
  core_.batches.give_back(batch);
  core_.serializer_wakeup.signal();  // a batch buffer is free again
  core_.progress.finished(serial);
}

void Sender::fail_all_at_deadline() noexcept {
  constexpr std::string_view why = "close() deadline passed before the batch was delivered";
  for (Slot& slot : slots_) {
    if (slot.batch == nullptr) continue;
    curl_multi_remove_handle(multi_, slot.easy);
    --in_flight_;
    Batch* batch = slot.batch;
    slot.batch = nullptr;
    idle_slots_.push_back(&slot);
    fail(batch, FailureReason::deadline, 0, why);
  }
  intake();
  for (Batch* batch : ready_) fail(batch, FailureReason::deadline, 0, why);
  ready_.clear();
  for (Batch* batch : waiting_) fail(batch, FailureReason::deadline, 0, why);
  waiting_.clear();
}

bool Sender::idle() const noexcept { return ready_.empty() && waiting_.empty() && in_flight_ == 0; }

int Sender::poll_timeout_ms(std::chrono::steady_clock::time_point now) const noexcept {
  auto timeout = std::chrono::duration_cast<std::chrono::milliseconds>(stop_poll);
  for (Batch const* batch : waiting_) {
    timeout = std::min(timeout, std::chrono::duration_cast<std::chrono::milliseconds>(batch->not_before - now) +
                                    std::chrono::milliseconds(1));
  }
  if (std::int64_t const deadline = core_.deadline_ns.load(std::memory_order_relaxed); deadline != 0) {
    timeout = std::min(timeout, std::chrono::milliseconds((deadline - to_ns(now)) / 1'000'000 + 1));
  }
  if (core_.config.stats_interval.count() > 0) {
    timeout = std::min(timeout, std::chrono::duration_cast<std::chrono::milliseconds>(next_stats_ - now) +
                                    std::chrono::milliseconds(1));
  }
  return static_cast<int>(std::max<std::int64_t>(timeout.count(), 0));
}

void Sender::run() noexcept {
  next_stats_ = std::chrono::steady_clock::now() + core_.config.stats_interval;
  for (;;) {
    // Read before intake: a batch submitted before serializer_finished() is then taken below.
    bool const serializer_done = serializer_done_.load(std::memory_order_acquire);
    intake();
    auto const now = std::chrono::steady_clock::now();
    std::int64_t const deadline = core_.deadline_ns.load(std::memory_order_relaxed);
    if (deadline != 0 && to_ns(now) >= deadline) {
      fail_all_at_deadline();
      if (serializer_done) break;
    }
    while (!ready_.empty() && !idle_slots_.empty()) {
      Slot* slot = idle_slots_.back();
      idle_slots_.pop_back();
      Batch* batch = ready_.front();
      ready_.pop_front();
      start(*slot, batch);
    }
    int running = 0;
    curl_multi_perform(multi_, &running);
    bool const settled = reap();
    if (core_.config.stats_interval.count() > 0 && now >= next_stats_) {
      core_.notify_stats();
      next_stats_ = now + core_.config.stats_interval;
    }
    if (serializer_done && idle()) break;
    if (settled) continue;  // free slots may take ready batches at once
    curl_multi_poll(multi_, nullptr, 0, poll_timeout_ms(now), nullptr);
  }
}

}  // namespace htevents::inline v0::detail
