#include "client_core.hpp"

#include <algorithm>
#include <thread>

#include "batch/serializer.hpp"
#include "common/process_barrier.hpp"
#include "message/encoder.hpp"
#include "message/message_arena.hpp"
#include "transport/sender.hpp"

namespace htevents::inline v0::detail {
namespace {

thread_local bool tl_in_callback = false;

struct CallbackScope {
  CallbackScope() noexcept { tl_in_callback = true; }
  ~CallbackScope() { tl_in_callback = false; }
};

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

// Room in a block for the largest message plus the slack of number reservations.
std::size_t block_capacity_for(Config const& c) noexcept {
  std::size_t const needed = c.max_message_bytes + 4096;
  std::size_t const rounded = (needed + 4095) / 4096 * 4096;
  return std::max<std::size_t>(rounded, 64 * 1024);
}

std::string batch_url(std::string endpoint) {
  if (!endpoint.empty() && endpoint.back() == '/') endpoint.pop_back();
  return endpoint + "/v1/batch";
}

void require(bool ok, char const* message) {
  if (!ok) throw ConfigError(message);
}

Config const& validated(std::string const& write_key, Config const& c) {
  require(!write_key.empty(), "htevents: write_key must not be empty");
  require(c.endpoint.starts_with("http://") || c.endpoint.starts_with("https://"),
          "htevents: Config::endpoint must start with http:// or https://");
  require(c.endpoint.find_first_of(" \r\n\t") == std::string::npos, "htevents: Config::endpoint contains white space");
  require(c.batch_size > 0, "htevents: Config::batch_size must be at least 1");
  require(c.interval.count() > 0, "htevents: Config::interval must be positive");
  require(c.max_message_bytes >= 256, "htevents: Config::max_message_bytes must be at least 256");
  require(c.max_batch_bytes >= c.max_message_bytes + 4096,
          "htevents: Config::max_batch_bytes must hold one message of max_message_bytes plus 4096 bytes of envelope");
  require(c.max_queue_bytes >= 4 * block_capacity_for(c),
          "htevents: Config::max_queue_bytes must be at least 4 arena blocks: 4 * max(64 KiB, max_message_bytes + 4 KiB)");
  require(c.enqueue_timeout.count() >= 0, "htevents: Config::enqueue_timeout must not be negative");
  require(c.max_in_flight >= 1 && c.max_in_flight <= 1024, "htevents: Config::max_in_flight must be 1..1024");
  require(c.max_attempts >= 1, "htevents: Config::max_attempts must be at least 1");
  require(c.retry_base.count() >= 0, "htevents: Config::retry_base must not be negative");
  require(c.retry_max >= c.retry_base, "htevents: Config::retry_max must be at least retry_base");
  require(c.request_timeout.count() > 0, "htevents: Config::request_timeout must be positive");
  require(c.stats_interval.count() >= 0, "htevents: Config::stats_interval must not be negative");
  if (c.compression == Compression::zstd) {
    require(c.compression_level >= -7 && c.compression_level <= 22, "htevents: Config::compression_level must be -7..22 for zstd");
  } else if (c.compression == Compression::gzip) {
    require(c.compression_level >= 1 && c.compression_level <= 9, "htevents: Config::compression_level must be 1..9 for gzip");
  }
  return c;
}

}  // namespace

bool in_callback() noexcept { return tl_in_callback; }

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
  if (serializer_->envelope_bytes() + config.max_message_bytes > config.max_batch_bytes) {
    throw ConfigError("htevents: Config::default_context is too large: max_batch_bytes must hold the batch "
                      "envelope (with default_context) plus one message of max_message_bytes");
  }
  // Threads last: everything they touch exists now.
  sender_thread_ = std::thread([this] { sender_->run(); });
  serializer_thread_ = std::thread([this] { serializer_->run(); });
  pthread_setname_np(sender_thread_.native_handle(), "htev-send");
  pthread_setname_np(serializer_thread_.native_handle(), "htev-serialize");
}

ClientCore::~ClientCore() { close(config.request_timeout); }

template <class Message>
Status ClientCore::enqueue(Message const& message) noexcept {
  Producer* producer = this_thread_producer();
  if (producer == nullptr) return Status::queue_full;
  Status status = producer->writer_open ? Status::invalid_usage : validate(message);
  if (status != Status::ok) {
    bump(producer->rejected[static_cast<std::size_t>(status)]);
    return status;
  }
  if (!begin_enqueue(*producer)) {
    end_enqueue(*producer, Status::closed);
    return Status::closed;
  }
  MessageArena out(*this, *producer);
  encode(out, message);
  status = out.finish();
  end_enqueue(*producer, status);
  return status;
}

template Status ClientCore::enqueue(Identify const&) noexcept;
template Status ClientCore::enqueue(Track const&) noexcept;
template Status ClientCore::enqueue(Page const&) noexcept;
template Status ClientCore::enqueue(Screen const&) noexcept;
template Status ClientCore::enqueue(Group const&) noexcept;
template Status ClientCore::enqueue(Alias const&) noexcept;

Block* ClientCore::next_block(Producer& producer) noexcept {
  Block* block = blocks.try_acquire();
  if (block == nullptr && !in_callback()) {
    auto const deadline = std::chrono::steady_clock::now() + config.enqueue_timeout;
    switch (config.backpressure) {
      case Backpressure::block:
        block = blocks.acquire_until(deadline);
        break;
      case Backpressure::drop_oldest:
        // Ask the serializer to evict, and look again every millisecond until the deadline.
        while (block == nullptr && std::chrono::steady_clock::now() < deadline) {
          blocks.starved.store(true, std::memory_order_release);
          serializer_wakeup.signal();
          block = blocks.acquire_until(std::min(deadline, std::chrono::steady_clock::now() + std::chrono::milliseconds(1)));
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
  Record const record{producer.block, producer.pos, length};
  if (!ring.enqueue(*producer.token, record)) return Status::queue_full;
  producer.pos += length;
  producer.draft = 0;
  ++producer.block_records;
  bump(producer.accepted);
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
  auto const deadline = std::chrono::steady_clock::now() + timeout;
  FlushTicket ticket;
  try {
    producers_.for_each([&](Producer const& p) {
      ticket.targets.emplace_back(&p, p.accepted.load(std::memory_order_acquire));
    });
    std::lock_guard lock(progress.mutex);
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
  return done;
}

bool ClientCore::close(std::chrono::milliseconds timeout) noexcept {
  if (in_callback()) {
    // The pipeline threads cannot be joined from themselves: stop accepting, let the owner close.
    closed.store(true, std::memory_order_seq_cst);
    return false;
  }
  std::lock_guard lock(close_mutex_);
  if (close_done_) return close_result_;
  auto const deadline = std::chrono::steady_clock::now() + timeout;
  closed.store(true, std::memory_order_seq_cst);
  heavy_barrier();  // pairs with light_barrier() in begin_enqueue
  // Wait out enqueues that passed their `closed` check before the store (begin_enqueue).
  producers_.for_each([&](Producer const& p) {
    while (p.active.load(std::memory_order_acquire) && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::yield();
    }
  });
  stop_threads(deadline);
  close_done_ = true;
  // Every accepted message must be delivered or failed by now; anything else is a bug worth
  // saying out loud rather than a true from close().
  std::uint64_t const settled = counters.delivered.load() + counters.failed.load();
  bool const accounted = settled == total_accepted();
  if (!accounted) logger.log(LogLevel::error, "close(): some accepted messages were neither delivered nor failed");
  close_result_ = accounted && counters.deadline_failures.load() == 0;
  return close_result_;
}

void ClientCore::stop_threads(std::chrono::steady_clock::time_point deadline) noexcept {
  deadline_ns.store(to_ns(deadline), std::memory_order_relaxed);
  draining.store(true, std::memory_order_release);
  serializer_wakeup.signal();
  if (serializer_thread_.joinable()) serializer_thread_.join();
  sender_->wake();
  if (sender_thread_.joinable()) sender_thread_.join();
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
