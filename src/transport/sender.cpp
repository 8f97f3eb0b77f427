#include "transport/sender.hpp"

#include <algorithm>

#include "common/deadline.hpp"
#include "spool/batch_reader.hpp"

namespace htevents::inline v0::detail {
namespace {

constexpr auto stop_poll = std::chrono::milliseconds(1000);
// A first attempt whose sentAt is older than this gets a fresh one (and is recompressed):
// batches that queued behind a Retry-After pause or a full set of slots. Younger ones go as
// the serializer wrote them, so the common case compresses once.
constexpr auto stale_sent_at = std::chrono::milliseconds(250);
// Consecutive failed attempts that make a warn line: the first time at 3, then at 30, 300...
constexpr std::uint64_t failing_run_warn = 3;

Compression next_encoding(Compression c) noexcept {
  return c == Compression::zstd ? Compression::gzip : Compression::none;
}

int by_encoding(Compression c) noexcept { return static_cast<int>(c); }

bool warn_worthy(std::uint64_t run) noexcept {
  for (std::uint64_t at = failing_run_warn; at <= run; at *= 10) {
    if (at == run) return true;
  }
  return false;
}

}  // namespace

SenderOptions SenderOptions::from(Config const& config) {
  SenderOptions o;
  o.max_attempts = config.max_attempts;
  o.retry_base = config.retry_base;
  o.retry_max = config.retry_max;
  o.stats_interval = config.stats_interval;
  o.compression_level = config.compression_level;
  o.default_context = config.default_context;
  return o;
}

Sender::Sender(SenderOptions options, SenderLinks links, std::unique_ptr<HttpTransport> transport)
    : options_(std::move(options)),
      links_(links),
      transport_(std::move(transport)),
      compressor_(options_.compression_level),
      envelope_(options_.default_context),
      rng_(std::random_device{}()) {
  // Room for every batch of the pool, reserved before any thread runs: intake() and schedule()
  // then never reallocate.
  in_flight_.reserve(transport_->max_in_flight());
  intake_.reserve(links_.batches.capacity());
  waiting_.reserve(links_.batches.capacity());
}

void Sender::wake() noexcept { transport_->wake(); }

void Sender::set_deadline(std::chrono::steady_clock::time_point deadline) noexcept {
  deadline_ns_.store(to_ns(deadline), std::memory_order_relaxed);
}

void Sender::intake() noexcept {
  links_.batches.take_handed(intake_);
  auto const now = std::chrono::steady_clock::now();
  for (Batch* batch : intake_) {
    // In an outage, and while the backlog it left drains (oldest first), a new batch waits on
    // disk behind the others, without a request of its own: its buffer and its arena blocks go
    // straight back, so producers never wait for the backlog.
    if ((now < hold_until_ || !parked_.empty()) && can_park(*batch)) {
      park(batch, hold_until_);
    } else {
      ready_.push_back(batch);
    }
  }
  intake_.clear();
  if (links_.spool != nullptr && links_.spool->adopted_waiting()) {
    try {
      links_.spool->take_adopted(parked_);
    } catch (...) {
    }
  }
  // Due retries go first: they are the oldest messages.
  auto due = std::partition(waiting_.begin(), waiting_.end(), [&](Batch* b) { return b->not_before > now; });
  for (auto it = due; it != waiting_.end(); ++it) ready_.push_front(*it);
  waiting_.erase(due, waiting_.end());
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
    std::uint64_t const before = batch.body.size();
    envelope_.close(batch, std::chrono::system_clock::now());
    batch.sent_at_written = now;
    // sentAt is not fixed-width (trailing zeros of the fraction are dropped): keep
    // bytes_uncompressed equal to the bodies as delivered (Delivery::bytes_uncompressed). The
    // difference may be negative; unsigned addition wraps to the subtraction.
    links_.counters.bytes_uncompressed.fetch_add(std::uint64_t{batch.body.size()} - before, std::memory_order_relaxed);
  }
  Compression encoding = batch.encoding;
  while (encoding != Compression::none && refused_[by_encoding(encoding)]) encoding = next_encoding(encoding);
  encode(batch, encoding);
}

void Sender::start(Batch* batch) noexcept {
  prepare(*batch, std::chrono::steady_clock::now());
  std::string_view const body = batch->wire_view();
  ++batch->attempts;
  links_.counters.requests.fetch_add(1, std::memory_order_relaxed);
  links_.counters.bytes_sent.fetch_add(body.size(), std::memory_order_relaxed);
  if (!transport_->start(batch, body, batch->encoding)) {
    retry_later(batch, std::nullopt);
    return;
  }
  in_flight_.push_back(batch);  // fewer than max_in_flight: within the reserved capacity
}

bool Sender::reap() noexcept {
  bool any = false;
  HttpTransport::Completion done;
  while (transport_->next_completion(done)) {
    auto* batch = static_cast<Batch*>(done.tag);
    std::erase(in_flight_, batch);
    settle(batch, done.response);
    any = true;
  }
  return any;
}

void Sender::settle(Batch* batch, HttpResponse const& response) noexcept {
  long const status = response.transport_ok ? response.status : 0;
  Compression const encoding = batch->encoding;
  bool const unproven = encoding != Compression::none && !proven_[by_encoding(encoding)];
  Outcome const outcome = classify(status, response.transport_ok, response.transport_permanent, unproven);
  if (outcome == Outcome::delivered) {
    proven_[by_encoding(encoding)] = true;
    note_success();
    deliver(batch, status);
    return;
  }
  std::string detail;
  try {
    detail = describe(response);
  } catch (...) {
  }
  note_error(*batch, status, detail);

  FailureReason reason = FailureReason::rejected;
  switch (outcome) {
    case Outcome::delivered: return;  // handled above
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
      if (links_.spool != nullptr) {
        // An outage: hold every parked batch back, probing with backoff (one request per
        // interval, not one per batch).
        hold_until_ =
            std::chrono::steady_clock::now() + backoff(static_cast<int>(std::min<std::uint64_t>(failing_run_, 30)),
                                                       options_.retry_base, options_.retry_max, std::nullopt, rng_);
      }
      if (response.retry_after && honours_retry_after(status) && response.retry_after->count() > 0) {
        pause_for(batch, *response.retry_after);
        return;
      }
      // With a spool, an outage loses nothing: a batch waits (on disk, or in memory once the
      // spool is full) for as long as it lasts, and only the backpressure policy refuses new
      // events (durability.md, promise 3). max_attempts bounds retries without a spool.
      if (batch->attempts < options_.max_attempts || links_.spool != nullptr) {
        retry_later(batch, response.retry_after);
        return;
      }
      reason = FailureReason::retries_exhausted;
      break;
    case Outcome::rejected: break;
  }
  fail(batch, reason, status, detail);
}

void Sender::note_error(Batch& batch, long http_status, std::string detail) noexcept {
  batch.last_status = http_status;
  try {
    batch.last_error = detail;
    links_.last_error.set(std::move(detail));
  } catch (...) {
  }
}

void Sender::note_failed_attempt(Batch const& batch) noexcept {
  ++failing_run_;
  if (!warn_worthy(failing_run_) || !links_.logger.enabled(LogLevel::warn)) return;
  try {
    links_.logger.log(LogLevel::warn, std::to_string(failing_run_) +
                                          " attempts in a row failed and are being retried; last: " + batch.last_error);
  } catch (...) {
  }
}

void Sender::note_success() noexcept {
  hold_until_ = {};  // the endpoint answers: parked batches may go
  if (failing_run_ >= failing_run_warn && links_.logger.enabled(LogLevel::warn)) {
    try {
      links_.logger.log(LogLevel::warn, "delivering again after " + std::to_string(failing_run_) + " failed attempts");
    } catch (...) {
    }
  }
  failing_run_ = 0;
}

void Sender::retry_later(Batch* batch, std::optional<std::chrono::milliseconds> retry_after) noexcept {
  schedule(batch, backoff(batch->attempts, options_.retry_base, options_.retry_max, retry_after, rng_));
}

// 429/503 with Retry-After: the server says when to come back. Nothing is sent before then (the
// requests in flight go on), and the wait is not a failed try: the attempt is given back.
void Sender::pause_for(Batch* batch, std::chrono::milliseconds retry_after) noexcept {
  auto const until = std::chrono::steady_clock::now() + std::min(retry_after, retry_after_cap);
  paused_until_ = std::max(paused_until_, until);
  --batch->attempts;
  schedule(batch,
           std::chrono::duration_cast<std::chrono::milliseconds>(paused_until_ - std::chrono::steady_clock::now()));
}

void Sender::schedule(Batch* batch, std::chrono::milliseconds wait) noexcept {
  links_.counters.retries.fetch_add(1, std::memory_order_relaxed);
  batch->not_before = std::chrono::steady_clock::now() + wait;
  if (can_park(*batch)) {
    park(batch, std::max(batch->not_before, hold_until_));
    return;
  }
  if (links_.logger.enabled(LogLevel::debug)) {
    try {
      links_.logger.log(LogLevel::debug,
                        "retrying a batch of " + std::to_string(batch->messages.size()) + " events in " +
                            std::to_string(wait.count()) + " ms (attempt " + std::to_string(batch->attempts) + " of " +
                            std::to_string(options_.max_attempts) + " used); last: " + batch->last_error);
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
    links_.batches.move_encoding_off(next, [&](Compression current) {
      return current == refused || (current != Compression::none && refused_[by_encoding(current)]);
    });
    links_.counters.compression_fallbacks.fetch_add(1, std::memory_order_relaxed);
    links_.logger.log(LogLevel::warn, refused == Compression::zstd
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
  links_.counters.split_requests.fetch_add(2, std::memory_order_relaxed);
  if (batch == root) {
    root->pieces_left = 2;
    links_.counters.batches_split.fetch_add(1, std::memory_order_relaxed);
  } else {
    root->pieces_left += 1;  // two pieces in, this one out
    delete batch;
  }
  if (links_.logger.enabled(LogLevel::debug)) {
    try {
      links_.logger.log(LogLevel::debug,
                        "splitting a batch of " + std::to_string(n) + " events after " + root->last_error);
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
  ids_.assign(*piece);  // a new batch: its own messageId
  envelope_.close(*piece, std::chrono::system_clock::now());
  piece->sent_at_written = std::chrono::steady_clock::now();
  Compression encoding = from.encoding;
  while (encoding != Compression::none && refused_[by_encoding(encoding)]) encoding = next_encoding(encoding);
  encode(*piece, encoding);
  return piece;
}

void Sender::deliver(Batch* batch, long http_status) noexcept {
  links_.counters.delivered.fetch_add(batch->messages.size(), std::memory_order_relaxed);
  links_.counters.batches_sent.fetch_add(1, std::memory_order_relaxed);
  links_.callbacks.notify_success(Delivery{batch->messages.size(), batch->body.size(), batch->wire_view().size(),
                                           static_cast<int>(http_status), batch->attempts});
  finish(batch);
}

void Sender::fail(Batch* batch, FailureReason reason, long http_status, std::string_view detail) noexcept {
  for (std::size_t i = 0; i < batch->messages.size(); ++i) {
    links_.callbacks.fail_message(reason, static_cast<int>(http_status), detail, batch->message(i));
  }
  if (reason == FailureReason::deadline) {
    links_.counters.deadline_failures.fetch_add(batch->messages.size(), std::memory_order_relaxed);
  }
  links_.counters.batches_failed.fetch_add(1, std::memory_order_relaxed);
  finish(batch);
}

void Sender::finish(Batch* batch) noexcept {
  Batch* root = batch->root;
  if (root == nullptr) {
    settled_root(batch);
    return;
  }
  delete batch;
  if (--root->pieces_left == 0) settled_root(root);
}

void Sender::settled_root(Batch* root) noexcept {
  if (links_.spool != nullptr) {
    links_.spool->settle(root->spooled);
    links_.batches.settle_records(*root);
  }
  if (root->from_spool) {
    if (root->serial != 0) links_.batches.finished(root->serial);
    delete root;
    return;
  }
  links_.batches.give_back(root);
}

bool Sender::can_park(Batch const& batch) const noexcept {
  // Pieces of a split batch and split roots stay in memory (rare; their halves are not on disk).
  return links_.spool != nullptr && batch.root == nullptr && batch.pieces_left == 0;
}

void Sender::park(Batch* batch, std::chrono::steady_clock::time_point not_before) noexcept {
  if (!batch->spooled) {
    // To disk first (one write), then its arena records are settled: it waits there now.
    // Spool full or failing: it waits in memory, holding its records (counted there).
    if (links_.spool->append(*batch, batch->opened_unix_ms) != Spool::Append::spooled) {
      batch->not_before = not_before;
      try {
        waiting_.push_back(batch);
        return;
      } catch (...) {
      }
      fail(batch, FailureReason::retries_exhausted, batch->last_status, "out of memory scheduling a retry");
      return;
    }
    links_.batches.settle_records(*batch);
  }
  try {
    SpoolTicket ticket;
    ticket.where = batch->spooled;
    ticket.serial = batch->serial;
    ticket.attempts = batch->attempts;
    ticket.not_before = not_before;
    ticket.last_status = batch->last_status;
    parked_.push_back(ticket);
  } catch (...) {
    // No memory for the ticket: keep the batch in memory instead.
    batch->not_before = not_before;
    try {
      waiting_.push_back(batch);
      return;
    } catch (...) {
    }
    fail(batch, FailureReason::retries_exhausted, batch->last_status, "out of memory scheduling a retry");
    return;
  }
  if (batch->from_spool) {
    delete batch;
  } else {
    links_.batches.recycle(batch);  // still unsettled: flush() keeps waiting for its serial
  }
}

// Starts the oldest parked batch when it is due: read back, decoded, re-encoded with a fresh
// sentAt by start(). False when none was due (or none could be read).
bool Sender::start_parked(std::chrono::steady_clock::time_point now) noexcept {
  if (parked_.empty() || now < hold_until_ || parked_.front().not_before > now) return false;
  SpoolTicket ticket = parked_.front();
  parked_.pop_front();
  std::unique_ptr<Batch> batch;
  if (links_.spool->read(ticket.where, record_)) batch = spool::read_batch(record_, envelope_.max_bytes());
  if (batch == nullptr) {
    // Damaged on disk since it was written (read() counted a record that does not verify; one
    // that verifies but does not decode is counted here): nothing to send.
    if (!record_.empty() && spool::verify_batch_record(record_)) links_.spool->count_corrupt(1);
    links_.spool->settle(ticket.where);
    if (ticket.serial != 0) links_.batches.finished(ticket.serial);
    return true;
  }
  batch->spooled = ticket.where;
  batch->serial = ticket.serial;
  batch->attempts = ticket.attempts;
  batch->last_status = ticket.last_status;
  batch->encoding = links_.batches.encoding();
  start(batch.release());
  return true;
}

void Sender::drop_from_memory(Batch* batch) noexcept {
  Batch* root = batch->root != nullptr ? batch->root : batch;
  if (batch != root) {
    delete batch;
    if (--root->pieces_left > 0) return;
  }
  if (root->from_spool) {
    delete root;
  } else {
    links_.batches.give_back(root);  // progress: close() is over; the batch stays on disk
  }
}

void Sender::fail_at_deadline(Batch* batch) noexcept {
  std::string detail = "close() deadline passed before the batch was delivered";
  try {
    std::string const last = batch->last_error.empty() ? links_.last_error.get() : batch->last_error;
    if (!last.empty()) detail += "; last error: " + last;
  } catch (...) {
  }
  fail(batch, FailureReason::deadline, batch->last_status, detail);
}

void Sender::fail_all_at_deadline() noexcept {
  transport_->cancel_all();
  // With a spool nothing is failed at the deadline: every batch is on disk (in a segment, or
  // its records in the arena file) and stays there for the next client.
  auto settle_at_deadline = [&](Batch* batch) {
    if (links_.spool != nullptr) {
      drop_from_memory(batch);
    } else {
      fail_at_deadline(batch);
    }
  };
  // fail() never starts a request: iterate, then clear.
  for (Batch* batch : in_flight_) settle_at_deadline(batch);
  in_flight_.clear();
  hold_until_ = {};  // intake() below must not park: everything is settled here
  intake();
  // fail() may finish a split root, never add to these queues: iterate, then clear.
  for (Batch* batch : ready_) settle_at_deadline(batch);
  ready_.clear();
  for (Batch* batch : waiting_) settle_at_deadline(batch);
  waiting_.clear();
  parked_.clear();
}

bool Sender::idle() const noexcept {
  return ready_.empty() && waiting_.empty() && in_flight_.empty() && parked_.empty();
}

// How long the transport may wait: until the next retry is due, the pause ends, the close
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
  if (!parked_.empty()) until(std::max(hold_until_, parked_.front().not_before));
  if (std::int64_t const deadline = deadline_ns_.load(std::memory_order_relaxed); deadline != 0) {
    until(std::chrono::steady_clock::time_point(std::chrono::nanoseconds(deadline)));
  }
  if (options_.stats_interval.count() > 0) until(next_stats_);
  return static_cast<int>(std::max<std::int64_t>(timeout.count(), 1));
}

void Sender::run() noexcept {
  next_stats_ = std::chrono::steady_clock::now() + options_.stats_interval;
  for (;;) {
    // Read before intake: a batch handed before the channel closed is then taken below.
    bool const serializer_done = links_.batches.closed();
    intake();
    auto now = std::chrono::steady_clock::now();
    std::int64_t const deadline = deadline_ns_.load(std::memory_order_relaxed);
    if (deadline != 0 && to_ns(now) >= deadline) {
      // Past the deadline, whatever is here fails. The serializer may still hand over a batch
      // (it wakes us): keep looping until it is done, asleep in the transport's wait meanwhile.
      fail_all_at_deadline();
      if (serializer_done) break;
    }
    while (in_flight_.size() < transport_->max_in_flight() && now >= paused_until_) {
      // The oldest first: parked batches (when the outage hold-off allows), then new ones.
      if (links_.spool != nullptr && start_parked(now)) continue;
      if (ready_.empty()) break;
      Batch* batch = ready_.front();
      ready_.pop_front();
      start(batch);
    }
    transport_->perform();
    bool const settled = reap();
    if (options_.stats_interval.count() > 0 && now >= next_stats_) {
      links_.callbacks.notify_stats();
      next_stats_ = now + options_.stats_interval;
    }
    links_.callbacks.tick(now);
    if (serializer_done && idle()) break;
    if (settled) continue;  // free slots may take ready batches at once
    now = std::chrono::steady_clock::now();
    transport_->wait(std::chrono::milliseconds(poll_timeout_ms(now)));
  }
  links_.callbacks.flush_log();
}

}  // namespace htevents::inline v0::detail
