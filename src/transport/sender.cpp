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
// A first attempt whose sentAt is older than this gets a fresh one (and is recompressed):
// batches that queued behind a Retry-After pause or a full set of slots. Younger ones go as
// the serializer wrote them, so the common case compresses once.
constexpr auto stale_sent_at = std::chrono::milliseconds(250);
// Consecutive failed attempts that make a warn line: the first time at 3, then at 30, 300...
constexpr std::uint64_t failing_run_warn = 3;

void init_curl_once() {
  static std::once_flag once;
  static CURLcode result = CURLE_OK;
  std::call_once(once, [] { result = curl_global_init(CURL_GLOBAL_DEFAULT); });
  if (result != CURLE_OK) throw std::runtime_error("htevents: curl_global_init failed");
}

Compression next_encoding(Compression c) noexcept {
  return c == Compression::zstd ? Compression::gzip : Compression::none;
}

int by_encoding(Compression c) noexcept { return static_cast<int>(c); }

std::string describe(CURLcode result, char const* error, long status, std::string_view response) {
  if (result != CURLE_OK) return std::string("curl: ") + (error[0] != '\0' ? error : curl_easy_strerror(result));
  return "HTTP " + std::to_string(status) + ": " + std::string(response);
}

bool warn_worthy(std::uint64_t run) noexcept {
  for (std::uint64_t at = failing_run_warn; at <= run; at *= 10) {
    if (at == run) return true;
  }
  return false;
}

}  // namespace

Sender::Sender(ClientCore& core)
    : core_(core),
      compressor_(core.config.compression_level),
      envelope_(core.config.default_context),
      rng_(std::random_device{}()) {
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

std::string Sender::last_error() const {
  std::lock_guard lock(last_error_mutex_);
  return last_error_;
}

void Sender::encode(Batch& batch, Compression encoding) noexcept {
  batch.encoding = encoding;
  if (encoding != Compression::none && !compressor_.compress(encoding, batch.body.view(), batch.wire)) {
    batch.encoding = Compression::none;
  }
}

// Just before a batch goes out: an encoding refused since it was compressed is replaced by the
// one in use, and a retry (or a batch that waited) gets a fresh sentAt. Both recompress, once.
void Sender::prepare(Batch& batch, std::chrono::steady_clock::time_point now) noexcept {
  bool const refused = batch.encoding != Compression::none && refused_[by_encoding(batch.encoding)];
  // A resend after a refused encoding is an attempt too: it gets its own sentAt.
  bool const stale = batch.attempts > 0 || refused || now - batch.sent_at_written > stale_sent_at;
  if (!refused && !stale) return;
  if (stale) {
    envelope_.close(batch, std::chrono::system_clock::now());
    batch.sent_at_written = now;
  }
  Compression encoding = batch.encoding;
  while (encoding != Compression::none && refused_[by_encoding(encoding)]) encoding = next_encoding(encoding);
  encode(batch, encoding);
}

void Sender::start(Slot& slot, Batch* batch) noexcept {
  prepare(*batch, std::chrono::steady_clock::now());
  slot.batch = batch;
  slot.response.clear();
  slot.retry_after.reset();
  slot.error[0] = '\0';
  std::string_view const body = batch->wire_view();
  curl_easy_setopt(slot.easy, CURLOPT_POSTFIELDS, body.data());
  curl_easy_setopt(slot.easy, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  curl_easy_setopt(slot.easy, CURLOPT_HTTPHEADER, headers_[by_encoding(batch->encoding)]);
  ++batch->attempts;
  core_.counters.requests.fetch_add(1, std::memory_order_relaxed);
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
  if (result == CURLE_OK) curl_easy_getinfo(slot.easy, CURLINFO_RESPONSE_CODE, &status);
  bool const transport_ok = result == CURLE_OK;
  bool const transport_permanent = !transport_ok && permanent_transport_error(result, slot.error);
  Compression const encoding = batch->encoding;
  bool const unproven = encoding != Compression::none && !proven_[by_encoding(encoding)];
  Outcome const outcome = classify(status, transport_ok, transport_permanent, unproven);
  if (outcome == Outcome::delivered) {
    proven_[by_encoding(encoding)] = true;
    note_success();
    deliver(batch, status);
    return;
  }
  std::string detail;
  try {
    detail = describe(result, slot.error, status, slot.response);
  } catch (...) {
  }
  note_error(*batch, status, detail);

  FailureReason reason = FailureReason::rejected;
  switch (outcome) {
    case Outcome::delivered:
      return;  // handled above
    case Outcome::refused_encoding:
      if (fall_back(batch)) return;
      break;  // nothing left to fall back to: a plain rejection
    case Outcome::split_too_large:
    case Outcome::split_refused:
      if (split(batch)) return;
      if (batch->messages.size() > 1) detail += " (split budget spent: the piece fails whole)";
      break;
    case Outcome::retry:
      note_failed_attempt(*batch);
      if (slot.retry_after && honours_retry_after(status) && slot.retry_after->count() > 0) {
        pause_for(batch, *slot.retry_after);
        return;
      }
      if (batch->attempts < core_.config.max_attempts) {
        retry_later(batch, slot.retry_after);
        return;
      }
      reason = FailureReason::retries_exhausted;
      break;
    case Outcome::rejected:
      break;
  }
  fail(batch, reason, status, detail);
}

void Sender::note_error(Batch& batch, long http_status, std::string detail) noexcept {
  batch.last_status = http_status;
  try {
    batch.last_error = detail;
    std::lock_guard lock(last_error_mutex_);
    last_error_ = std::move(detail);
  } catch (...) {
  }
}

void Sender::note_failed_attempt(Batch const& batch) noexcept {
  ++failing_run_;
  if (!warn_worthy(failing_run_) || !core_.logger.enabled(LogLevel::warn)) return;
  try {
    core_.logger.log(LogLevel::warn, std::to_string(failing_run_) + " attempts in a row failed and are being retried; last: " +
                                         batch.last_error);
  } catch (...) {
  }
}

void Sender::note_success() noexcept {
  if (failing_run_ >= failing_run_warn && core_.logger.enabled(LogLevel::warn)) {
    try {
      core_.logger.log(LogLevel::warn, "delivering again after " + std::to_string(failing_run_) + " failed attempts");
    } catch (...) {
    }
  }
  failing_run_ = 0;
}

void Sender::retry_later(Batch* batch, std::optional<std::chrono::milliseconds> retry_after) noexcept {
  schedule(batch, backoff(batch->attempts, core_.config.retry_base, core_.config.retry_max, retry_after, rng_));
}

// 429/503 with Retry-After: the server says when to come back. Nothing is sent before then (the
// requests in flight go on), and the wait is not a failed try: the attempt is given back.
void Sender::pause_for(Batch* batch, std::chrono::milliseconds retry_after) noexcept {
  auto const until = std::chrono::steady_clock::now() + std::min(retry_after, retry_after_cap);
  paused_until_ = std::max(paused_until_, until);
  --batch->attempts;
  schedule(batch, std::chrono::duration_cast<std::chrono::milliseconds>(paused_until_ - std::chrono::steady_clock::now()));
}

void Sender::schedule(Batch* batch, std::chrono::milliseconds wait) noexcept {
  core_.counters.retries.fetch_add(1, std::memory_order_relaxed);
  batch->not_before = std::chrono::steady_clock::now() + wait;
  if (core_.logger.enabled(LogLevel::debug)) {
    try {
      core_.logger.log(LogLevel::debug, "retrying a batch of " + std::to_string(batch->messages.size()) + " events in " +
                                            std::to_string(wait.count()) + " ms (attempt " +
                                            std::to_string(batch->attempts) + " of " +
                                            std::to_string(core_.config.max_attempts) + " used); last: " +
                                            batch->last_error);
    } catch (...) {
    }
  }
  try {
    waiting_.push_back(batch);
  } catch (...) {
    fail(batch, FailureReason::retries_exhausted, batch->last_status, "out of memory scheduling a retry");
  }
}

// 415, or 400 to an encoding that never had a 2xx here: the server may not read it. Move every
// batch off it (prepare() re-encodes those already compressed), and resend this one.
bool Sender::fall_back(Batch* batch) noexcept {
  Compression const refused = batch->encoding;
  if (refused == Compression::none) return false;
  if (!refused_[by_encoding(refused)]) {
    refused_[by_encoding(refused)] = true;
    Compression next = next_encoding(refused);
    while (next != Compression::none && refused_[by_encoding(next)]) next = next_encoding(next);
    // Keep using what works from now on; the serializer reads this for each new batch.
    Compression expected = core_.encoding.load(std::memory_order_relaxed);
    while ((expected == refused || (expected != Compression::none && refused_[by_encoding(expected)])) &&
           !core_.encoding.compare_exchange_weak(expected, next, std::memory_order_relaxed)) {
    }
    core_.counters.compression_fallbacks.fetch_add(1, std::memory_order_relaxed);
    core_.logger.log(LogLevel::warn, refused == Compression::zstd
                                         ? "the server refused zstd request bodies; falling back to gzip"
                                         : "the server refused gzip request bodies; sending them uncompressed");
  }
  --batch->attempts;  // a refused encoding is not a failed try
  try {
    ready_.push_front(batch);  // prepare() re-encodes it
  } catch (...) {
    return false;
  }
  return true;
}

// 413, or 400 to a proven encoding: resend the two halves. A pool batch that is split stays out
// of the pool, holding its serial for flush(), until every piece has settled; the pieces are
// heap batches (this path is rare, and the pool must stay free for the serializer: taking pool
// buffers here could deadlock with it). A piece that is split again is replaced by its halves,
// so the live pieces of a batch always hold each of its messages once: memory stays within
// about twice the batch. The batch's split budget bounds the extra requests.
bool Sender::split(Batch* batch) noexcept {
  std::size_t const n = batch->messages.size();
  if (n < 2) return false;
  Batch* root = batch->root != nullptr ? batch->root : batch;
  if (root == batch && root->pieces_left == 0 && root->split_budget == 0) root->split_budget = split_budget(n);
  if (root->split_budget < 2) return false;
  std::unique_ptr<Batch> first, second;
  try {
    first = make_piece(*batch, 0, n / 2);
    second = make_piece(*batch, n / 2, n);
    ready_.push_front(second.get());
    try {
      ready_.push_front(first.get());
    } catch (...) {
      ready_.pop_front();
      throw;
    }
  } catch (...) {
    return false;  // out of memory: the batch fails whole
  }
  first.release();
  second.release();
  root->split_budget -= 2;
  core_.counters.split_requests.fetch_add(2, std::memory_order_relaxed);
  if (batch == root) {
    root->pieces_left = 2;
    core_.counters.batches_split.fetch_add(1, std::memory_order_relaxed);
  } else {
    root->pieces_left += 1;  // two pieces in, this one out
    delete batch;
  }
  if (core_.logger.enabled(LogLevel::debug)) {
    try {
      core_.logger.log(LogLevel::debug, "splitting a batch of " + std::to_string(n) + " events after " + root->last_error);
    } catch (...) {
    }
  }
  return true;
}

std::unique_ptr<Batch> Sender::make_piece(Batch& from, std::size_t first, std::size_t end) {
  std::size_t bytes = envelope_.max_bytes();
  for (std::size_t i = first; i < end; ++i) bytes += from.messages[i].length + 1;
  auto piece = std::make_unique<Batch>(bytes, end - first);
  piece->root = from.root != nullptr ? from.root : &from;
  piece->serial = from.serial;
  piece->last_status = from.last_status;
  piece->last_error = from.last_error;
  Envelope::open(*piece);
  for (std::size_t i = first; i < end; ++i) Envelope::append(*piece, from.message(i));
  uuid_.write(piece->id.data());  // a new batch: its own messageId
  envelope_.close(*piece, std::chrono::system_clock::now());
  piece->sent_at_written = std::chrono::steady_clock::now();
  Compression encoding = from.encoding;
  while (encoding != Compression::none && refused_[by_encoding(encoding)]) encoding = next_encoding(encoding);
  encode(*piece, encoding);
  return piece;
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
  Batch* root = batch->root;
  if (root == nullptr) {
    finish_pooled(batch);
    return;
  }
  delete batch;
  if (--root->pieces_left == 0) finish_pooled(root);
}

void Sender::finish_pooled(Batch* batch) noexcept {
  std::uint64_t const serial = batch->serial;
  core_.batches.give_back(batch);
  core_.serializer_wakeup.signal();  // a batch buffer is free again
  core_.progress.finished(serial);
}

void Sender::fail_at_deadline(Batch* batch) noexcept {
  std::string detail = "close() deadline passed before the batch was delivered";
  try {
    std::string const last = batch->last_error.empty() ? last_error() : batch->last_error;
    if (!last.empty()) detail += "; last error: " + last;
  } catch (...) {
  }
  fail(batch, FailureReason::deadline, batch->last_status, detail);
}

void Sender::fail_all_at_deadline() noexcept {
  for (Slot& slot : slots_) {
    if (slot.batch == nullptr) continue;
    curl_multi_remove_handle(multi_, slot.easy);
    --in_flight_;
    Batch* batch = slot.batch;
    slot.batch = nullptr;
    idle_slots_.push_back(&slot);
    fail_at_deadline(batch);
  }
  intake();
  // fail() may finish a split root, never add to these queues: iterate, then clear.
  for (Batch* batch : ready_) fail_at_deadline(batch);
  ready_.clear();
  for (Batch* batch : waiting_) fail_at_deadline(batch);
  waiting_.clear();
}

bool Sender::idle() const noexcept { return ready_.empty() && waiting_.empty() && in_flight_ == 0; }

// How long curl_multi_poll may sleep: until the next retry is due, the pause ends, the close
// deadline, or the next stats callback; never 0 for something already past (that would spin:
// a past deadline has been acted on, a due retry is in ready_ waiting for a slot, which only
// socket activity or a wake-up can free).
int Sender::poll_timeout_ms(std::chrono::steady_clock::time_point now) const noexcept {
  using std::chrono::milliseconds;
  auto timeout = std::chrono::duration_cast<milliseconds>(stop_poll);
  auto until = [&](std::chrono::steady_clock::time_point t) {
    if (t > now) timeout = std::min(timeout, std::chrono::duration_cast<milliseconds>(t - now) + milliseconds(1));
  };
  for (Batch const* batch : waiting_) until(batch->not_before);
  if (!ready_.empty()) until(paused_until_);
  if (std::int64_t const deadline = core_.deadline_ns.load(std::memory_order_relaxed); deadline != 0) {
    until(std::chrono::steady_clock::time_point(std::chrono::nanoseconds(deadline)));
  }
  if (core_.config.stats_interval.count() > 0) until(next_stats_);
  return static_cast<int>(std::max<std::int64_t>(timeout.count(), 1));
}

void Sender::run() noexcept {
  next_stats_ = std::chrono::steady_clock::now() + core_.config.stats_interval;
  for (;;) {
    // Read before intake: a batch submitted before serializer_finished() is then taken below.
    bool const serializer_done = serializer_done_.load(std::memory_order_acquire);
    intake();
    auto now = std::chrono::steady_clock::now();
    std::int64_t const deadline = core_.deadline_ns.load(std::memory_order_relaxed);
    if (deadline != 0 && to_ns(now) >= deadline) {
      // Past the deadline, whatever is here fails. The serializer may still hand over a batch
      // (it wakes us): keep looping until it is done, asleep in curl_multi_poll meanwhile.
      fail_all_at_deadline();
      if (serializer_done) break;
    }
    while (!ready_.empty() && !idle_slots_.empty() && now >= paused_until_) {
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
    core_.failure_log.tick(core_.logger, now);
    if (serializer_done && idle()) break;
    if (settled) continue;  // free slots may take ready batches at once
    now = std::chrono::steady_clock::now();
    curl_multi_poll(multi_, nullptr, 0, poll_timeout_ms(now), nullptr);
  }
  core_.failure_log.flush(core_.logger);
}

}  // namespace htevents::inline v0::detail
