#include "batch/serializer.hpp"

#include <cstring>

#include "batch/envelope.hpp"
#include "client_core.hpp"
#include "transport/sender.hpp"

namespace htevents::inline v0::detail {
namespace {

// The longest wait with nothing to do. Producers wake the serializer (the sleeping flag's
// handshake has no lost wake-ups), so this is only a safety net.
constexpr auto idle_wait = std::chrono::seconds(1);
// The shortest nap while a batch is open: the most a record waits in the ring under load.
constexpr auto busy_nap = std::chrono::milliseconds(1);
// Pre-touched arena blocks kept ready for producers (see BlockPool::keep_spare).
constexpr std::size_t spare_blocks = 8;

}  // namespace

Serializer::Serializer(ClientCore& core, Sender& sender)
    : core_(core),
      sender_(sender),
      token_(core.ring),
      compressor_(core.config.compression_level),
      envelope_(core.config.default_context) {
}

std::size_t Serializer::envelope_bytes() const noexcept { return envelope_.max_bytes(); }

void Serializer::run() noexcept {
  for (;;) {
    bool const draining = core_.draining.load(std::memory_order_acquire);
    if (next_ == pending_size_) take_records();
    bool stalled = false;
    while (next_ < pending_size_) {
      if (!place(pending_[next_])) {
        stalled = true;
        break;
      }
      ++next_;
    }
    flush_releases();
    if (current_ != nullptr && !current_->messages.empty() &&
        std::chrono::steady_clock::now() - batch_started_ >= core_.config.interval) {
      close_batch();
    }
    serve_flushes();
    if (core_.blocks.starved.load(std::memory_order_acquire)) evict_oldest();
    core_.blocks.keep_spare(spare_blocks);

    if (draining) {
      std::int64_t const deadline = core_.deadline_ns.load(std::memory_order_relaxed);
      if (drained()) {
        close_batch();
        if (current_ == nullptr || current_->messages.empty()) break;
      } else if (deadline != 0 && to_ns(std::chrono::steady_clock::now()) >= deadline) {
        fail_everything_left();
        break;
      }
    }
    if (next_ == pending_size_ || stalled) wait(stalled, draining);
  }
  if (current_ != nullptr) {
    core_.batches.give_back(current_);
    current_ = nullptr;
  }
  // Every record is in a handed batch or failed now: flushes still waiting only need those
  // batches to finish.
  {
    std::lock_guard lock(core_.progress.mutex);
    core_.progress.serializer_exited = true;
    for (FlushTicket* ticket : core_.progress.tickets) {
      if (ticket->batched) continue;
      ticket->batched = true;
      ticket->last_serial = core_.progress.last_handed;
    }
  }
  core_.progress.changed.notify_all();
  sender_.serializer_finished();
}

void Serializer::take_records() noexcept {
  pending_size_ = core_.ring.try_dequeue_bulk(token_, pending_.begin(), records_per_take);
  next_ = 0;
  if (pending_size_ > 0) quiet_nap_taken_ = false;
}

bool Serializer::place(Record const& record) noexcept {
  if (current_ == nullptr) {
    current_ = core_.batches.try_take();
    if (current_ == nullptr) {
      core_.counters.serializer_stalls.fetch_add(1, std::memory_order_relaxed);
      return false;
    }
    current_->clear();
    Envelope::open(*current_);
    batch_started_ = std::chrono::steady_clock::now();
  }
  bool const first = current_->messages.empty();
  std::size_t const after = current_->body.size() + (first ? 0 : 1) + record.length + envelope_bytes();
  if (!first && (current_->messages.size() >= core_.config.batch_size || after > core_.config.max_batch_bytes)) {
    close_batch();
    return place(record);
  }
  append(record);
  return true;
}

void Serializer::append(Record const& record) noexcept {
  Envelope::append(*current_, std::string_view(record.block->data() + record.offset, record.length));
  consumed(record);
}

void Serializer::consumed(Record const& record) noexcept {
  ++consumed_;
  release(record.block);
}

void Serializer::release(Block* block) noexcept {
  if (block != release_block_) {
    flush_releases();
    release_block_ = block;
  }
  ++release_count_;
}

void Serializer::flush_releases() noexcept {
  if (release_block_ == nullptr) return;
  // Counted once per run of records from one block rather than per record: the producer's
  // total (flush tickets read it after this) and the stats gauge. The owner is stable until
  // the fetch_sub below lets the block go.
  release_block_->owner->consumed += static_cast<std::uint64_t>(release_count_);
  core_.counters.consumed.store(consumed_, std::memory_order_release);
  // Pairs with the producer's fetch_add in ProducerRegistry::retire_block: whoever reaches 0
  // owns the block and returns it to the pool.
  if (release_block_->refs.fetch_sub(release_count_, std::memory_order_acq_rel) == release_count_) {
    core_.blocks.release(release_block_);
  }
  release_block_ = nullptr;
  release_count_ = 0;
}

void Serializer::close_batch() noexcept {
  if (current_ == nullptr || current_->messages.empty()) return;
  ByteBuffer& body = current_->body;
  uuid_.write(current_->id.data());
  envelope_.close(*current_, std::chrono::system_clock::now());
  current_->sent_at_written = std::chrono::steady_clock::now();
  core_.counters.bytes_uncompressed.fetch_add(body.size(), std::memory_order_relaxed);

  current_->encoding = core_.encoding.load(std::memory_order_relaxed);
  if (current_->encoding != Compression::none &&
      !compressor_.compress(current_->encoding, body.view(), current_->wire)) {
    core_.logger.log(LogLevel::error, "compression failed; sending this batch uncompressed");
    current_->encoding = Compression::none;
  }
  current_->serial = ++serial_;
  core_.progress.handed(current_->serial);
  sender_.submit(current_);
  current_ = nullptr;
}

void Serializer::serve_flushes() noexcept {
  if (core_.progress.ticket_count.load(std::memory_order_acquire) == 0) return;
  auto satisfied = [](FlushTicket const& ticket) {
    for (auto const& [producer, target] : ticket.targets) {
      if (producer->consumed < target) return false;
    }
    return true;
  };
  bool any = false;
  {
    std::lock_guard lock(core_.progress.mutex);
    for (FlushTicket* ticket : core_.progress.tickets) any = any || (!ticket->batched && satisfied(*ticket));
  }
  if (!any) return;
  close_batch();
  {
    std::lock_guard lock(core_.progress.mutex);
    for (FlushTicket* ticket : core_.progress.tickets) {
      if (ticket->batched || !satisfied(*ticket)) continue;
      ticket->batched = true;
      ticket->last_serial = core_.progress.last_handed;
    }
  }
  core_.progress.changed.notify_all();
}

void Serializer::evict_oldest() noexcept {
  core_.blocks.starved.store(false, std::memory_order_relaxed);
  if (core_.config.backpressure != Backpressure::drop_oldest) return;
  // Oldest first: what was dequeued but not placed, then the ring. Enough to free a block or two.
  std::size_t budget = records_per_take;
  auto evict = [&](Record const& record) {
    core_.counters.dropped_oldest.fetch_add(1, std::memory_order_relaxed);
    core_.fail_message(FailureReason::evicted, 0, "evicted by Backpressure::drop_oldest",
                       std::string_view(record.block->data() + record.offset, record.length));
    consumed(record);
  };
  for (; next_ < pending_size_ && budget > 0; ++next_, --budget) evict(pending_[next_]);
  while (budget > 0) {
    take_records();
    if (pending_size_ == 0) break;
    for (; next_ < pending_size_ && budget > 0; ++next_, --budget) evict(pending_[next_]);
  }
  flush_releases();
}

void Serializer::fail_everything_left() noexcept {
  std::string why = "close() deadline passed before the message was sent";
  try {
    // The sender's last error says why it had not got this far (an outage, a wrong port).
    if (std::string const last = sender_.last_error(); !last.empty()) why += "; last error: " + last;
  } catch (...) {
  }
  if (current_ != nullptr) {
    for (std::size_t i = 0; i < current_->messages.size(); ++i) {
      core_.fail_message(FailureReason::deadline, 0, why, current_->message(i));
    }
    core_.counters.deadline_failures.fetch_add(current_->messages.size(), std::memory_order_relaxed);
    current_->clear();
  }
  for (;;) {
    for (; next_ < pending_size_; ++next_) {
      Record const& record = pending_[next_];
      core_.fail_message(FailureReason::deadline, 0, why,
                         std::string_view(record.block->data() + record.offset, record.length));
      core_.counters.deadline_failures.fetch_add(1, std::memory_order_relaxed);
      consumed(record);
    }
    take_records();
    if (pending_size_ == 0) break;
  }
  flush_releases();
}

bool Serializer::drained() const noexcept {
  return next_ == pending_size_ && consumed_ == core_.total_accepted();
}

std::chrono::microseconds Serializer::time_until_batch_can_close(std::chrono::steady_clock::time_point now) const noexcept {
  using std::chrono::microseconds;
  auto const elapsed = std::chrono::duration_cast<microseconds>(now - batch_started_);
  auto const left = std::chrono::duration_cast<microseconds>(core_.config.interval) - elapsed;
  if (left <= microseconds::zero()) return microseconds::zero();
  // Sleep until the rate seen since the batch opened would fill it (by count or by bytes), but
  // no longer than its interval: under load that is the 1 ms nap, at a trickle a handful of
  // wake-ups per batch instead of one per millisecond. A sudden burst also wakes us: every
  // producer that moves to a fresh block signals while we nap (ClientCore::next_block).
  std::size_t const count = current_->messages.size();
  std::size_t const bytes = current_->body.size();
  auto fill = left;
  if (count >= 1 && elapsed > microseconds::zero()) {
    double const per_us = static_cast<double>(count) / static_cast<double>(elapsed.count());
    double const bytes_per_us = static_cast<double>(bytes) / static_cast<double>(elapsed.count());
    double const by_count = static_cast<double>(core_.config.batch_size - std::min(count, core_.config.batch_size)) / per_us;
    std::size_t const byte_room = core_.config.max_batch_bytes - std::min(core_.config.max_batch_bytes, bytes + envelope_bytes());
    double const by_bytes = static_cast<double>(byte_room) / bytes_per_us;
    double const soonest = std::min(by_count, by_bytes);
    if (soonest < static_cast<double>(fill.count())) fill = microseconds(static_cast<std::int64_t>(soonest));
  } else {
    fill = std::min(fill, std::chrono::duration_cast<microseconds>(busy_nap));  // no rate seen yet
  }
  return std::max(fill, std::chrono::duration_cast<microseconds>(busy_nap));
}

void Serializer::wait(bool stalled, bool draining) noexcept {
  using std::chrono::microseconds;
  bool const batch_open = current_ != nullptr && !current_->messages.empty();
  auto const now = std::chrono::steady_clock::now();
  microseconds timeout = std::chrono::duration_cast<microseconds>(idle_wait);
  if (stalled || draining) {
    // Waiting for a batch buffer (the sender signals), or for close()'s last records.
    timeout = std::chrono::duration_cast<microseconds>(busy_nap);
  } else if (batch_open) {
    timeout = std::min(timeout, time_until_batch_can_close(now));
    if (timeout.count() <= 0) return;
  }
  bool ask_producers = !batch_open && !stalled && !draining;
  if (ask_producers && !quiet_nap_taken_) {
    // Nothing queued: nap once without asking producers first. Under load the ring is rarely
    // empty for a whole nap, so the heavy_barrier() below (a membarrier IPI to every CPU
    // running our threads) is paid when the client goes quiet, not between busy batches.
    quiet_nap_taken_ = true;
    ask_producers = false;
    timeout = std::chrono::duration_cast<microseconds>(busy_nap);
  }
  if (ask_producers) {
    // Tell producers to signal us, then look once more. Pairs with light_barrier() in
    // ClientCore::push: either that push is visible to this look, or its producer sees the flag.
    core_.serializer_sleeping.store(true, std::memory_order_relaxed);
    heavy_barrier();
    if (core_.ring.size_approx() > 0 || core_.progress.ticket_count.load(std::memory_order_acquire) > 0 ||
        core_.blocks.starved.load(std::memory_order_acquire)) {
      core_.serializer_sleeping.store(false, std::memory_order_relaxed);
      return;
    }
  }
  bool const long_nap = batch_open && timeout > busy_nap;
  if (long_nap) core_.serializer_napping.store(true, std::memory_order_relaxed);
  core_.serializer_wakeup.wait(timeout.count());
  if (long_nap) core_.serializer_napping.store(false, std::memory_order_relaxed);
  if (ask_producers) core_.serializer_sleeping.store(false, std::memory_order_relaxed);
}

}  // namespace htevents::inline v0::detail
