#include "batch/serializer.hpp"

#include <algorithm>
#include <cstring>

#include "batch/envelope.hpp"
#include "common/deadline.hpp"

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

SerializerOptions SerializerOptions::from(Config const& config) {
  SerializerOptions o;
  o.batch_size = config.batch_size;
  o.max_batch_bytes = config.max_batch_bytes;
  o.interval = config.interval;
  o.compression_level = config.compression_level;
  o.drop_oldest = config.backpressure == Backpressure::drop_oldest;
  o.default_context = config.default_context;
  return o;
}

Serializer::Serializer(SerializerOptions options, SerializerLinks links)
    : options_(std::move(options)),
      links_(links),
      compressor_(options_.compression_level),
      envelope_(options_.default_context),
      envelope_bytes_(envelope_.max_bytes()) {
  if (links_.spool != nullptr) {
    held_.frames.reserve(options_.batch_size + records_per_take);
    held_.runs.reserve(options_.batch_size + records_per_take);
    recovered_frames_.reserve(options_.batch_size);
  }
}

void Serializer::wake() noexcept { links_.intake.wake(); }

void Serializer::drain(std::chrono::steady_clock::time_point deadline) noexcept {
  deadline_ns_.store(to_ns(deadline), std::memory_order_relaxed);
  draining_.store(true, std::memory_order_release);
  wake();
}

void Serializer::run() noexcept {
  for (;;) {
    bool const draining = draining_.load(std::memory_order_acquire);
    if (next_ == pending_size_) take_records();
    bool stalled = false;
    while (next_ < pending_size_) {
      place_while_room();
      if (next_ == pending_size_) break;
      if (!place(pending_[next_])) {
        stalled = true;
        break;
      }
      ++next_;
    }
    if (links_.spool != nullptr && !stalled && next_ == pending_size_) stalled = !place_recovered();
    flush_releases();
    if (current_ != nullptr && !current_->messages.empty() &&
        (std::chrono::steady_clock::now() - batch_started_ >= options_.interval ||
         // With a spool a block is let go only when its records' batch settles: producers
         // waiting for room need the open batch closed, not its interval out, once the ring is
         // drained (the last take was short). Before that, the records still queued fill the
         // batch, and closing it early only sends more, smaller requests (1,117 rather than 800
         // for 200,000 events from 8 threads; Spool.BatchesStayFullWhileProducersWaitForRoom).
         (links_.spool != nullptr && !held_.empty() && next_ == pending_size_ && pending_size_ < records_per_take &&
          links_.intake.producers_waiting()))) {
      close_batch();
    }
    serve_flushes();
    if (links_.intake.starved()) evict_oldest();
    links_.intake.reclaim_for_waiters();
    links_.intake.keep_spare(spare_blocks);

    if (draining) {
      std::int64_t const deadline = deadline_ns_.load(std::memory_order_relaxed);
      if (drained()) {
        close_batch();
        if (current_ == nullptr || current_->messages.empty()) break;
      } else if (deadline != 0 && to_ns(std::chrono::steady_clock::now()) >= deadline) {
        if (links_.spool != nullptr) {
          leave_everything_left();
        } else {
          fail_everything_left();
        }
        break;
      }
    }
    bool const recovering = links_.spool != nullptr && (recovering_ != nullptr || links_.spool->recovery_pending());
    if ((next_ == pending_size_ && !recovering) || stalled) wait(stalled, draining);
  }
  if (current_ != nullptr) {
    links_.batches.put_back(current_);
    current_ = nullptr;
  }
  // Every record is in a handed batch or failed now: flushes still waiting only need those
  // batches to finish.
  links_.progress.serializer_exited();
  links_.batches.close();
}

void Serializer::take_records() noexcept {
  pending_size_ = links_.intake.take(pending_.begin(), records_per_take);
  next_ = 0;
  if (pending_size_ > 0) quiet_nap_taken_ = false;
}

// The serializer's per-record loop: what make_room, append and consumed do for each record, for
// the pending records that fit the open batch and come from the block of the current release run,
// with its state in registers rather than re-read through current_ and this after every copy
// (memcpy may write anywhere as far as the compiler knows): 115 -> ~80 instructions per event,
// copy included (docs/benchmarks.md). Stops at a record the batch has no room for or from another
// block, and does nothing without an open, non-empty batch: place() handles those records.
void Serializer::place_while_room() noexcept {
  if (current_ == nullptr || current_->messages.empty() || options_.max_batch_bytes < envelope_bytes_ + 1) return;
  Batch& batch = *current_;
  std::size_t const spans_before = batch.messages.size();
  std::size_t const room = options_.batch_size - std::min(options_.batch_size, spans_before);
  Record const* const first = pending_.data() + next_;
  Record const* const last = first + std::min(room, pending_size_ - next_);
  Block const* const block = release_block_;

  // `,` and the message, and its span. The spans are within the capacity reserved for
  // batch_size (no allocation), left uninitialised by the resize.
  batch.messages.resize(spans_before + static_cast<std::size_t>(last - first));
  MessageSpan* span = batch.messages.data() + spans_before;
  char* const body = batch.body.data();
  std::size_t const max_size = options_.max_batch_bytes - envelope_bytes_ - 1;  // the comma's byte
  std::size_t size = batch.body.size();
  Record const* end = first;
  for (; end != last; ++end, ++span) {
    if (end->block != block || size + end->length > max_size) break;
    body[size] = ',';
    std::memcpy(body + size + 1, end->block->data() + end->offset, end->length);
    *span = MessageSpan(static_cast<std::uint32_t>(size + 1), end->length);
    size += 1 + end->length;
  }
  batch.body.resize(size);
  auto const placed = static_cast<std::size_t>(end - first);
  batch.messages.resize(spans_before + placed);
  if (links_.spool != nullptr) {
    for (Record const* record = first; record != end; ++record) hold_frame(*record);
  }
  consumed_ += placed;
  release_count_ += static_cast<std::int64_t>(placed);
  next_ += placed;
}

bool Serializer::place(Record const& record) noexcept {
  if (!make_room(record.length)) return false;
  append(record);
  return true;
}

// Per record: one test of the open batch's count and bytes, nothing else.
bool Serializer::make_room(std::size_t length) noexcept {
  if (current_ != nullptr) {
    std::size_t const count = current_->messages.size();
    if (count == 0) return true;  // the first message always goes in (it was checked to fit)
    if (count < options_.batch_size &&
        current_->body.size() + 1 + length + envelope_bytes_ <= options_.max_batch_bytes) {
      return true;
    }
  }
  return make_room_slow(length);
}

bool Serializer::make_room_slow(std::size_t length) noexcept {
  if (current_ == nullptr) {
    current_ = links_.batches.try_take();
    if (current_ == nullptr) {
      links_.counters.serializer_stalls.fetch_add(1, std::memory_order_relaxed);
      return false;
    }
    current_->clear();
    Envelope::open(*current_);
    batch_started_ = std::chrono::steady_clock::now();
    if (links_.spool != nullptr) {
      batch_opened_ms_ =
          std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
              .count();
    }
  }
  bool const first = current_->messages.empty();
  std::size_t const after = current_->body.size() + (first ? 0 : 1) + length + envelope_bytes();
  if (!first && (current_->messages.size() >= options_.batch_size || after > options_.max_batch_bytes)) {
    close_batch();
    return make_room(length);
  }
  return true;
}

bool Serializer::place_recovered() noexcept {
  for (std::size_t budget = records_per_take; budget > 0; --budget) {
    if (recovering_ == nullptr) {
      recovering_ = links_.spool->next_recovered();
      if (recovering_ == nullptr) return true;
    }
    RecoveredArena& arena = *recovering_;
    if (arena.next == arena.records.size()) {
      // Its last record is in the open batch (or there were none): done once that is on disk.
      if (current_ != nullptr && !current_->messages.empty()) {
        finished_arena_ = recovering_;
        close_batch();
      } else {
        links_.spool->recovered_done(recovering_);
      }
      recovering_ = nullptr;
      continue;
    }
    std::string_view const json = arena.records[arena.next];
    if (json.size() + envelope_bytes() > options_.max_batch_bytes) {
      links_.spool->count_corrupt(1);  // cannot be sent in any batch of this client
      ++arena.next;
      continue;
    }
    if (!make_room(json.size())) return false;
    Envelope::append(*current_, json);
    try {
      recovered_frames_.push_back(const_cast<char*>(json.data()) - spool::record_frame_bytes);
    } catch (...) {
      // Without its mark the record is sent again after a crash: a duplicate, never a loss.
    }
    ++arena.next;
  }
  return true;
}

void Serializer::settle_now() noexcept {
  links_.intake.settle(held_);
  held_.frames.clear();
  held_.runs.clear();
  for (char* frame : recovered_frames_) spool::settle_record_frame(frame);
  recovered_frames_.clear();
  if (finished_arena_ != nullptr) {
    links_.spool->recovered_done(finished_arena_);
    finished_arena_ = nullptr;
  }
}

void Serializer::leave_everything_left() noexcept {
  // close()'s deadline with a spool: what is not in a segment stays in the arena file, not
  // failed: the next client with this spool_dir adopts and delivers it.
  if (current_ != nullptr) {
    links_.batches.put_back(current_);
    current_ = nullptr;
  }
  held_.frames.clear();  // not settled: those records stay in the arena for the next client
  held_.runs.clear();
  recovered_frames_.clear();
  finished_arena_ = nullptr;
  std::uint64_t const left = links_.intake.total_accepted() - std::min(links_.intake.total_accepted(), consumed_);
  if (links_.logger.enabled(LogLevel::warn)) {
    links_.logger.log(LogLevel::warn, "close() deadline: events not yet batched stay in the spool (" +
                                          links_.spool->own_dir() + ") for the next client; about " +
                                          std::to_string(left) + " not counted consumed");
  }
}

void Serializer::append(Record const& record) noexcept {
  Envelope::append(*current_, std::string_view(record.block->data() + record.offset, record.length));
  consumed(record);
}

// Per record too: the rare parts (a new block's run, the spool's frame) are calls, so that this
// stays a few instructions inline in the loop rather than a call that saves six registers.
void Serializer::consumed(Record const& record) noexcept {
  ++consumed_;
  release(record.block);
  if (links_.spool != nullptr) hold_frame(record);
}

void Serializer::hold_frame(Record const& record) noexcept {
  char* const frame = record.block->data() + record.offset - spool::record_frame_bytes;
  std::vector<char*>& frames = held_.frames;
  // Reserved for a batch's worth plus a round of evictions, so never full here; the test keeps
  // the vector's growth path (and the registers it saves) out of the serializer's loop.
  if (frames.size() == frames.capacity()) [[unlikely]] {
    hold_frame_growing(frame);
    return;
  }
  frames.push_back(frame);
}

void Serializer::hold_frame_growing(char* frame) noexcept {
  try {
    held_.frames.push_back(frame);
  } catch (...) {
    // Not reached (reserved); without its mark the record is sent again after a crash: a
    // duplicate, never a loss.
  }
}

void Serializer::release(Block* block) noexcept {
  if (block != release_block_) start_release_run(block);
  ++release_count_;
}

void Serializer::start_release_run(Block* block) noexcept {
  flush_releases();
  release_block_ = block;
}

void Serializer::flush_releases() noexcept {
  if (release_block_ == nullptr) return;
  // Counted once per run of records from one block rather than per record: the stats gauge,
  // and the producer's total (flush tickets read it after this) with the block's references.
  links_.counters.consumed.store(consumed_, std::memory_order_release);
  if (links_.spool != nullptr) {
    links_.intake.count_consumed(release_block_, release_count_);
    held_.runs.push_back(HeldRecords::Run{release_block_, release_count_});  // reserved
  } else {
    links_.intake.release(release_block_, release_count_);
  }
  release_block_ = nullptr;
  release_count_ = 0;
}

void Serializer::close_batch() noexcept {
  if (current_ == nullptr || current_->messages.empty()) return;
  ByteBuffer& body = current_->body;
  ids_.assign(*current_);
  envelope_.close(*current_, std::chrono::system_clock::now());
  current_->sent_at_written = std::chrono::steady_clock::now();
  links_.counters.bytes_uncompressed.fetch_add(body.size(), std::memory_order_relaxed);

  current_->encoding = links_.batches.encoding();
  if (current_->encoding != Compression::none &&
      !compressor_.compress(current_->encoding, body.view(), current_->wire)) {
    links_.logger.log(LogLevel::error, "compression failed; sending this batch uncompressed");
    current_->encoding = Compression::none;
  }
  current_->serial = ++serial_;
  if (links_.spool != nullptr) {
    flush_releases();
    current_->opened_unix_ms = batch_opened_ms_;
    if (!recovered_frames_.empty()) {
      // Records of a dead client's arena: into a segment of ours before they are marked
      // settled there (a failed write keeps them in memory only, counted in spool_errors).
      links_.spool->append(*current_, batch_opened_ms_);
      settle_now();
    } else {
      // Live records stay in the arena until the batch settles: no disk write on the healthy
      // path; the sender writes the batch to a segment only if it has to wait.
      std::swap(current_->held, held_);
    }
  }
  links_.batches.hand(current_);
  current_ = nullptr;
}

void Serializer::serve_flushes() noexcept {
  if (!links_.progress.any_waiting()) return;
  auto satisfied = [](FlushTicket const& ticket) {
    for (auto const& [producer, target] : ticket.targets) {
      if (producer->consumed < target) return false;
    }
    return true;
  };
  if (!links_.progress.any_ready(satisfied)) return;
  close_batch();
  links_.progress.mark_batched(satisfied);
}

void Serializer::evict_oldest() noexcept {
  links_.intake.clear_starved();
  if (!options_.drop_oldest) return;
  // With a spool, records are let go in order: the open batch's go to disk first.
  if (links_.spool != nullptr) close_batch();
  // Oldest first: what was dequeued but not placed, then the ring. Enough to free a block or two.
  std::size_t budget = records_per_take;
  auto evict = [&](Record const& record) {
    links_.counters.dropped_oldest.fetch_add(1, std::memory_order_relaxed);
    links_.callbacks.fail_message(FailureReason::evicted, 0, "evicted by Backpressure::drop_oldest",
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
  if (links_.spool != nullptr) settle_now();
}

void Serializer::fail_everything_left() noexcept {
  std::string why = "close() deadline passed before the message was sent";
  try {
    // The sender's last error says why it had not got this far (an outage, a wrong port).
    if (std::string const last = links_.last_error.get(); !last.empty()) why += "; last error: " + last;
  } catch (...) {
  }
  if (current_ != nullptr) {
    for (std::size_t i = 0; i < current_->messages.size(); ++i) {
      links_.callbacks.fail_message(FailureReason::deadline, 0, why, current_->message(i));
    }
    links_.counters.deadline_failures.fetch_add(current_->messages.size(), std::memory_order_relaxed);
    current_->clear();
  }
  for (;;) {
    for (; next_ < pending_size_; ++next_) {
      Record const& record = pending_[next_];
      links_.callbacks.fail_message(FailureReason::deadline, 0, why,
                                    std::string_view(record.block->data() + record.offset, record.length));
      links_.counters.deadline_failures.fetch_add(1, std::memory_order_relaxed);
      consumed(record);
    }
    take_records();
    if (pending_size_ == 0) break;
  }
  flush_releases();
}

bool Serializer::drained() const noexcept {
  bool const recovery_done = links_.spool == nullptr || (recovering_ == nullptr && !links_.spool->recovery_pending());
  return next_ == pending_size_ && consumed_ == links_.intake.total_accepted() && recovery_done;
}

std::chrono::microseconds Serializer::time_until_batch_can_close(
    std::chrono::steady_clock::time_point now) const noexcept {
  using std::chrono::microseconds;
  auto const elapsed = std::chrono::duration_cast<microseconds>(now - batch_started_);
  auto const left = std::chrono::duration_cast<microseconds>(options_.interval) - elapsed;
  if (left <= microseconds::zero()) return microseconds::zero();
  // Sleep until the rate seen since the batch opened would fill it (by count or by bytes), but
  // no longer than its interval: under load that is the 1 ms nap, at a trickle a handful of
  // wake-ups per batch instead of one per millisecond. A sudden burst also wakes us: every
  // producer that moves to a fresh block signals while we nap (Intake::next_block).
  std::size_t const count = current_->messages.size();
  std::size_t const bytes = current_->body.size();
  auto fill = left;
  if (count >= 1 && elapsed > microseconds::zero()) {
    double const per_us = static_cast<double>(count) / static_cast<double>(elapsed.count());
    double const bytes_per_us = static_cast<double>(bytes) / static_cast<double>(elapsed.count());
    double const by_count = static_cast<double>(options_.batch_size - std::min(count, options_.batch_size)) / per_us;
    std::size_t const byte_room =
        options_.max_batch_bytes - std::min(options_.max_batch_bytes, bytes + envelope_bytes());
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
  bool const waiters = links_.intake.producers_waiting();
  if (stalled || draining || waiters) {
    // Waiting for a batch buffer (the sender signals), for close()'s last records, or
    // producers wait for room: look again (and reclaim for them) after a short nap.
    timeout = std::chrono::duration_cast<microseconds>(busy_nap);
  } else if (batch_open) {
    timeout = std::min(timeout, time_until_batch_can_close(now));
    if (timeout.count() <= 0) return;
  }
  bool ask_producers = !batch_open && !stalled && !draining && !waiters;
  if (ask_producers && !quiet_nap_taken_) {
    // Nothing queued: nap once without asking producers first. Under load the ring is rarely
    // empty for a whole nap, so the heavy_barrier() below (a membarrier IPI to every CPU
    // running our threads) is paid when the client goes quiet, not between busy batches.
    quiet_nap_taken_ = true;
    ask_producers = false;
    timeout = std::chrono::duration_cast<microseconds>(busy_nap);
  }
  if (ask_producers) {
    // Tell producers to signal us, then look once more (IntakeConsumer::announce_sleep).
    if (!links_.intake.announce_sleep([&] { return links_.progress.any_waiting(); })) return;
  }
  bool const long_nap = batch_open && timeout > busy_nap;
  links_.intake.wait(timeout, long_nap);
  if (ask_producers) links_.intake.end_sleep();
}

}  // namespace htevents::inline v0::detail
