#include "batch/serializer.hpp"

#include <cstring>

#include "client_core.hpp"
#include "transport/sender.hpp"

namespace htevents::inline v0::detail {
namespace {

// The longest wait with nothing to do: bounds the latency of a wake-up lost in the sleeping
// flag's race with a producer (see wait()).
constexpr auto idle_wait = std::chrono::milliseconds(20);
// The nap while a batch is open: the most a record waits in the ring under load.
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
    if (next_ == pending_size_ || stalled) wait(stalled);
  }
  if (current_ != nullptr) {
    core_.batches.give_back(current_);
    current_ = nullptr;
  }
  // Every record is in a handed batch or failed now: flushes still waiting only need those
  // batches to finish.
  {
    std::lock_guard lock(core_.progress.mutex);
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

void Serializer::wait(bool stalled) noexcept {
  using std::chrono::microseconds;
  bool const batch_open = current_ != nullptr && !current_->messages.empty();
  // Busy (a batch is open) or stalled: nap briefly without asking producers to wake us. Under
  // load that turns one futex wake per drained ring (a syscall on a producer's enqueue) into
  // at most one timed wake-up per `busy_nap`. Idle: sleep until the first record arrives.
  auto timeout = std::chrono::duration_cast<microseconds>(batch_open || stalled ? busy_nap : idle_wait);
  if (batch_open) {
    auto const left = core_.config.interval - (std::chrono::steady_clock::now() - batch_started_);
    timeout = std::min(timeout, std::chrono::duration_cast<microseconds>(left));
  }
  if (timeout.count() <= 0) return;
  bool const ask_producers = !batch_open && !stalled;
  if (ask_producers) {
    // Tell producers to signal us, then look once more: a record pushed before the flag was
    // visible is caught here or, at worst, after `idle_wait`.
    core_.serializer_sleeping.store(true, std::memory_order_seq_cst);
    if (core_.ring.size_approx() > 0) {
      core_.serializer_sleeping.store(false, std::memory_order_relaxed);
      return;
    }
  }
  core_.serializer_wakeup.wait(timeout.count());
  if (ask_producers) core_.serializer_sleeping.store(false, std::memory_order_relaxed);
}

}  // namespace htevents::inline v0::detail
