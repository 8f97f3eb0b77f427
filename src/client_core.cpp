#include "client_core.hpp"

#include <algorithm>
#include <thread>

#include "batch/serializer.hpp"
#include "common/config_validation.hpp"
#include "common/process_barrier.hpp"
#include "message/encoder.hpp"
#include "message/message_arena.hpp"
#include "transport/sender.hpp"

namespace htevents::inline v0::detail {
namespace {

std::atomic<std::uint64_t> next_client_id{1};

std::string base64(std::string_view in) {
  static constexpr char table[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    auto const n = (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8) |
                   static_cast<unsigned char>(in[i + 2]);
    out += {table[(n >> 18) & 63], table[(n >> 12) & 63], table[(n >> 6) & 63], table[n & 63]};
  }
  if (i + 1 == in.size()) {
    auto const n = static_cast<unsigned char>(in[i]) << 16;
    out += {table[(n >> 18) & 63], table[(n >> 12) & 63], '=', '='};
  } else if (i + 2 == in.size()) {
    auto const n = (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8);
    out += {table[(n >> 18) & 63], table[(n >> 12) & 63], table[(n >> 6) & 63], '='};
  }
  return out;
}

std::string batch_url(std::string endpoint) {
  if (!endpoint.empty() && endpoint.back() == '/') endpoint.pop_back();
  return endpoint + "/v1/batch";
}

// Throws ConfigError naming the field: every size and sum below is then known not to wrap.
Config const& validated(std::string const& write_key, Config const& c) {
  htevents::validate(write_key, c);
  return c;
}

}  // namespace

// ---- Progress ----

void Progress::handed(std::uint64_t serial) {
  std::lock_guard lock(mutex);
  outstanding_.insert(serial);
  last_handed = serial;
}

void Progress::finished(std::uint64_t serial) {
  {
    std::lock_guard lock(mutex);
    outstanding_.erase(serial);
  }
  changed.notify_all();
}

bool Progress::done_through(std::uint64_t serial) const {
  return outstanding_.empty() || *outstanding_.begin() > serial;
}

std::size_t Progress::outstanding() const {
  std::lock_guard lock(mutex);
  return outstanding_.size();
}

// ---- BatchPool ----

BatchPool::BatchPool(std::size_t count, std::size_t max_body_bytes, std::size_t max_messages) {
  all_.reserve(count);
  free_.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    all_.push_back(std::make_unique<Batch>(max_body_bytes, max_messages));
    free_.push_back(all_.back().get());
  }
}

Batch* BatchPool::try_take() noexcept {
  std::lock_guard lock(mutex_);
  if (free_.empty()) return nullptr;
  Batch* batch = free_.back();
  free_.pop_back();
  return batch;
}

void BatchPool::give_back(Batch* batch) noexcept {
  std::lock_guard lock(mutex_);
  free_.push_back(batch);  // capacity reserved for every batch: never allocates
}

// ---- ClientCore ----

ClientCore::ClientCore(std::string write_key, Config cfg)
    : config(validated(write_key, cfg)),
      id(next_client_id.fetch_add(1, std::memory_order_relaxed)),
      url(batch_url(config.endpoint)),
      authorization("Authorization: Basic " + base64(write_key + ":")),
      logger(config.logger, config.log_level),
      ring(64 * RingTraits::BLOCK_SIZE),
      blocks(block_capacity_for(config), config.max_queue_bytes / block_capacity_for(config)),
      producers_(ring, blocks),
      // Enough buffers for max_in_flight requests, as many waiting for a retry or being built.
      batches(2 * config.max_in_flight + 2, config.max_batch_bytes + 64, config.batch_size),
      encoding(config.compression) {
  sender_ = std::make_unique<Sender>(*this);
  serializer_ = std::make_unique<Serializer>(*this, *sender_);
  register_process_barrier();  // once per process, with the first client: no syscall at load
  watch_fork(this);
  // Threads last: everything they touch exists now. std::thread throws std::system_error when
  // the system refuses a thread; the sender must then be stopped and joined, or destroying its
  // std::thread would call std::terminate.
  sender_thread_ = std::thread([this] { sender_->run(); });
  try {
    serializer_thread_ = std::thread([this] { serializer_->run(); });
  } catch (...) {
    sender_->serializer_finished();  // no serializer will ever say so; nothing was enqueued
    stop_threads(std::chrono::steady_clock::now());
    throw;
  }
  pthread_setname_np(sender_thread_.native_handle(), "htev-send");
  pthread_setname_np(serializer_thread_.native_handle(), "htev-serialize");
}

ClientCore::~ClientCore() {
  close(config.request_timeout);
  unwatch_fork(this);
}

template <class Message>
Status ClientCore::enqueue(Message const& message) noexcept {
  Producer* producer = this_thread_producer();
  if (producer == nullptr) return closed.load(std::memory_order_relaxed) ? refusal() : Status::queue_full;
  Status status = producer->writer_open ? Status::invalid_usage : validate(message);
  if (status != Status::ok) {
    bump(producer->rejected[static_cast<std::size_t>(status)]);
    return status;
  }
  if (!begin_struct_enqueue(*producer)) {
    status = refusal();
    end_struct_enqueue(*producer, status);
    return status;
  }
  MessageArena out(*this, *producer);
  encode(out, message);
  status = out.finish();
  end_struct_enqueue(*producer, status);
  return status;
}

template Status ClientCore::enqueue(Identify const&) noexcept;
template Status ClientCore::enqueue(Track const&) noexcept;
template Status ClientCore::enqueue(Page const&) noexcept;
template Status ClientCore::enqueue(Screen const&) noexcept;
template Status ClientCore::enqueue(Group const&) noexcept;
template Status ClientCore::enqueue(Alias const&) noexcept;

namespace {
// How often a producer waiting for room under Backpressure::block looks for idle threads'
// blocks again (only ever on this slow path).
constexpr auto reclaim_slice = std::chrono::milliseconds(10);
}  // namespace

Block* ClientCore::next_block(Producer& producer) noexcept {
  // A block's worth of records arrived: a serializer napping with a batch open may close it.
  if (serializer_napping.load(std::memory_order_relaxed)) serializer_wakeup.signal();
  Block* block = blocks.try_acquire();
  if (block == nullptr) {
    // Records may be waiting for the serializer; idle threads may sit on blocks (more live
    // threads than blocks): take those, they come back once their records are copied.
    serializer_wakeup.signal();
    if (producers_.reclaim_idle_blocks(producer) > 0) block = blocks.try_acquire();
  }
  if (block == nullptr && !in_callback() && !closed.load(std::memory_order_relaxed)) {
    auto const deadline = deadline_after(config.enqueue_timeout);
    switch (config.backpressure) {
      case Backpressure::block:
        // close() interrupts the wait. Between slices, reclaim again: blocks that idle threads
        // took after the last reclaim pass would otherwise wait out every waiter's timeout.
        while (block == nullptr && !blocks.interrupted()) {
          auto const now = std::chrono::steady_clock::now();
          if (now >= deadline) break;
          block = blocks.acquire_until(std::min(deadline, now + reclaim_slice));
          if (block == nullptr && producers_.reclaim_idle_blocks(producer) > 0) block = blocks.try_acquire();
        }
        break;
      case Backpressure::drop_oldest:
        // Ask the serializer to evict, and look again every millisecond until the deadline.
        while (block == nullptr && !blocks.interrupted() && std::chrono::steady_clock::now() < deadline) {
          blocks.starved.store(true, std::memory_order_release);
          serializer_wakeup.signal();
          block = blocks.acquire_until(std::min(deadline, std::chrono::steady_clock::now() + std::chrono::milliseconds(1)));
          if (block == nullptr && producers_.reclaim_idle_blocks(producer) > 0) block = blocks.try_acquire();
        }
        break;
      case Backpressure::drop_newest:
      case Backpressure::fail:
        break;
    }
  }
  if (block != nullptr) block->owner = &producer;
  return block;
}

Status ClientCore::push(Producer& producer, std::uint32_t length) noexcept {
  Record const record{producer.block.load(std::memory_order_relaxed), producer.pos, length};
  // Counted before the record is visible: the serializer may consume (and fail) it at once,
  // and stats() must never show failed > enqueued.
  std::uint64_t const accepted = producer.accepted.load(std::memory_order_relaxed);
  producer.accepted.store(accepted + 1, std::memory_order_release);
  if (!ring.enqueue(*producer.token, record)) {
    producer.accepted.store(accepted, std::memory_order_release);
    return Status::queue_full;
  }
  producer.pos += length;
  producer.draft = 0;
  producer.block_records.store(producer.block_records.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  // Pairs with the serializer's heavy_barrier() before it sleeps: either it sees this record
  // or we see the flag.
  light_barrier();
  if (serializer_sleeping.load(std::memory_order_relaxed)) wake_serializer();
  return Status::ok;
}

void ClientCore::wake_serializer() noexcept {
  if (serializer_sleeping.exchange(false, std::memory_order_acq_rel)) serializer_wakeup.signal();
}

void ClientCore::fail_message(FailureReason reason, int http_status, std::string_view detail,
                              std::string_view message_json) noexcept {
  counters.failed.fetch_add(1, std::memory_order_relaxed);
  if (!config.on_failure) {
    failure_log.failed(logger, reason, http_status, detail);
    return;
  }
  std::lock_guard lock(callback_mutex_);
  CallbackScope scope;
  try {
    config.on_failure(Failure{reason, http_status, detail, message_json});
  } catch (...) {
    logger.log(LogLevel::error, "on_failure threw an exception; ignored");
  }
}

void ClientCore::notify_success(Delivery const& delivery) noexcept {
  if (!config.on_success) return;
  std::lock_guard lock(callback_mutex_);
  CallbackScope scope;
  try {
    config.on_success(delivery);
  } catch (...) {
    logger.log(LogLevel::error, "on_success threw an exception; ignored");
  }
}

void ClientCore::notify_stats() noexcept {
  if (!config.on_stats) return;
  Stats const snapshot = stats();
  std::lock_guard lock(callback_mutex_);
  CallbackScope scope;
  try {
    config.on_stats(snapshot);
  } catch (...) {
    logger.log(LogLevel::error, "on_stats threw an exception; ignored");
  }
}

std::uint64_t ClientCore::total_accepted() const noexcept {
  std::uint64_t total = 0;
  producers_.for_each([&](Producer const& p) { total += p.accepted.load(std::memory_order_acquire); });
  return total;
}

bool ClientCore::flush(std::chrono::milliseconds timeout) noexcept {
  if (in_callback() || closed.load(std::memory_order_acquire)) return false;
  auto const deadline = deadline_after(timeout);
  // flush() answers true only if everything it waited for was delivered: any failure while it
  // waits (of its messages or, conservatively, of others) makes it false.
  std::uint64_t const failed_before = counters.failed.load(std::memory_order_acquire);
  FlushTicket ticket;
  try {
    producers_.for_each([&](Producer const& p) {
      ticket.targets.emplace_back(&p, p.accepted.load(std::memory_order_acquire));
    });
    std::lock_guard lock(progress.mutex);
    if (progress.serializer_exited) {
      // close() got there first: every record is in a handed batch or failed already.
      ticket.batched = true;
      ticket.last_serial = progress.last_handed;
    }
    progress.tickets.push_back(&ticket);
  } catch (...) {
    return false;
  }
  progress.ticket_count.fetch_add(1, std::memory_order_release);
  serializer_wakeup.signal();
  std::unique_lock lock(progress.mutex);
  bool const done = progress.changed.wait_until(lock, deadline, [&] {
    return ticket.batched && progress.done_through(ticket.last_serial);
  });
  std::erase(progress.tickets, &ticket);
  progress.ticket_count.fetch_sub(1, std::memory_order_release);
  return done && counters.failed.load(std::memory_order_acquire) == failed_before;
}

bool ClientCore::close(std::chrono::milliseconds timeout) noexcept {
  if (forked()) return false;  // the child has none of the threads; the parent delivers
  if (in_callback()) {
    // The pipeline threads cannot be joined from themselves: stop accepting, let the owner close.
    stop_intake();
    return false;
  }
  auto const deadline = deadline_after(timeout);
  std::unique_lock lock(close_mutex_);
  if (close_state_ == CloseState::closing) {
    // Another thread is closing: wait for it, but only until this caller's own deadline.
    bool const finished = close_finished_.wait_until(lock, deadline, [&] { return close_state_ == CloseState::closed; });
    return finished && close_result_;
  }
  if (close_state_ == CloseState::closed) return close_result_;
  close_state_ = CloseState::closing;
  lock.unlock();
  bool const result = run_close(deadline);
  lock.lock();
  close_state_ = CloseState::closed;
  close_result_ = result;
  lock.unlock();
  close_finished_.notify_all();
  return result;
}

bool ClientCore::run_close(std::chrono::steady_clock::time_point deadline) noexcept {
  stop_intake();
  // Not bounded by the deadline: an enqueue that passed its `closed` check will push, and its
  // record must be in the ring before draining starts, or it would be neither sent nor failed.
  // These waits are short: enqueue never waits on the network, and stop_intake() cut short
  // those waiting for room.
  wait_for_enqueues_in_progress();
  stop_threads(deadline);
  // Every accepted message must be delivered or failed by now; anything else is a bug worth
  // saying out loud rather than a true from close().
  std::uint64_t const accepted = total_accepted();
  std::uint64_t const delivered = counters.delivered.load(std::memory_order_acquire);
  std::uint64_t const settled = delivered + counters.failed.load(std::memory_order_acquire);
  if (settled != accepted) logger.log(LogLevel::error, "close(): some accepted messages were neither delivered nor failed");
  // true only when every accepted message was delivered (docs/lifecycle.md).
  return delivered == accepted;
}

void ClientCore::stop_intake() noexcept {
  closed.store(true, std::memory_order_seq_cst);
  heavy_barrier();    // pairs with light_barrier() in begin_enqueue
  blocks.interrupt();  // producers waiting for room give up now (with `closed`)
}

void ClientCore::wait_for_enqueues_in_progress() noexcept {
  // Producers are never removed from the registry before the client's destruction, so the
  // pointers stay valid outside its lock; waiting under it would block stats() meanwhile.
  std::vector<Producer const*> producers;
  try {
    producers_.for_each([&](Producer const& p) { producers.push_back(&p); });
  } catch (...) {
    // No memory for the list: wait under the registry lock instead.
    producers_.for_each([&](Producer const& p) {
      while (p.active.load(std::memory_order_acquire)) std::this_thread::yield();
    });
    return;
  }
  for (Producer const* p : producers) {
    while (p->active.load(std::memory_order_acquire)) std::this_thread::yield();
  }
}

void ClientCore::stop_threads(std::chrono::steady_clock::time_point deadline) noexcept {
  deadline_ns.store(to_ns(deadline), std::memory_order_relaxed);
  draining.store(true, std::memory_order_release);
  serializer_wakeup.signal();
  if (serializer_thread_.joinable()) serializer_thread_.join();
  sender_->wake();
  if (sender_thread_.joinable()) sender_thread_.join();
}

void ClientCore::before_fork() noexcept {
  producers_.lock_for_fork();
  progress.mutex.lock();
}

void ClientCore::after_fork_in_parent() noexcept {
  progress.mutex.unlock();
  producers_.unlock_after_fork();
}

void ClientCore::after_fork_in_child() noexcept {
  // The child has this client's memory but none of its threads: refuse everything (Status::
  // forked), never wait for or join the threads, never touch the parent's connections.
  forked_.store(true, std::memory_order_relaxed);
  closed.store(true, std::memory_order_relaxed);
  producers_.refuse_new_producers();
  progress.mutex.unlock();
  producers_.unlock_after_fork();
}

Stats ClientCore::stats() const noexcept {
  Stats s;
  // Pipeline counters first, producers' after: whatever was delivered or failed was accepted
  // before, so the snapshot never shows delivered + failed > enqueued.
  s.delivered = counters.delivered.load(std::memory_order_acquire);
  s.failed = counters.failed.load(std::memory_order_acquire);
  std::uint64_t const consumed = counters.consumed.load(std::memory_order_acquire);
  s.dropped_oldest = counters.dropped_oldest.load(std::memory_order_relaxed);
  s.batches_sent = counters.batches_sent.load(std::memory_order_relaxed);
  s.batches_failed = counters.batches_failed.load(std::memory_order_relaxed);
  s.requests = counters.requests.load(std::memory_order_relaxed);
  s.retries = counters.retries.load(std::memory_order_relaxed);
  s.compression_fallbacks = counters.compression_fallbacks.load(std::memory_order_relaxed);
  s.bytes_uncompressed = counters.bytes_uncompressed.load(std::memory_order_relaxed);
  s.bytes_sent = counters.bytes_sent.load(std::memory_order_relaxed);
  s.serializer_stalls = counters.serializer_stalls.load(std::memory_order_relaxed);
  s.batches_split = counters.batches_split.load(std::memory_order_relaxed);
  s.split_requests = counters.split_requests.load(std::memory_order_relaxed);
  producers_.for_each([&](Producer const& p) {
    s.enqueued += p.accepted.load(std::memory_order_acquire);
    for (std::size_t i = 0; i < status_count; ++i) {
      s.rejected_by_status[i] += p.rejected[i].load(std::memory_order_relaxed);
    }
  });
  for (auto n : s.rejected_by_status) s.rejected += n;
  s.dropped_newest = s.rejected_by_status[static_cast<std::size_t>(Status::queue_full)];
  s.dropped = s.dropped_newest + s.dropped_oldest;
  s.queued_events = s.enqueued - std::min(s.enqueued, consumed);
  s.queued_bytes = blocks.blocks_in_use() * blocks.block_capacity();
  s.in_flight = progress.outstanding();
  return s;
}

}  // namespace htevents::inline v0::detail
