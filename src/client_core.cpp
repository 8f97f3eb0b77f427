#include "client_core.hpp"

#include <algorithm>
#include <thread>

#include "batch/serializer.hpp"
#include "common/callback_scope.hpp"
#include "common/config_validation.hpp"
#include "common/deadline.hpp"
#include "common/process_barrier.hpp"
#include "common/thread_name.hpp"
#include "htevents_version.hpp"
#include "message/encoder.hpp"
#include "message/message_arena.hpp"
#include "transport/curl_transport.hpp"
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

// The user's transport (Config::transport), or libcurl's.
std::unique_ptr<HttpTransport> make_transport(Config const& config, TransportOptions const& options) {
  if (!config.transport) return std::make_unique<CurlTransport>(CurlTransportOptions::from(options));
  std::unique_ptr<HttpTransport> transport = config.transport(options);
  if (transport == nullptr) throw ConfigError("htevents: Config::transport returned no transport (nullptr)");
  // The sender sizes its in-flight bookkeeping by it, once; zero would never send.
  if (transport->max_in_flight() == 0) throw ConfigError("htevents: Config::transport's max_in_flight() is 0");
  return transport;
}

std::unique_ptr<Spool> open_spool(Config const& config, Logger const& logger) {
  if (config.spool_dir.empty()) return nullptr;
  IntakeOptions const intake = IntakeOptions::from(config);
  return std::make_unique<Spool>(SpoolOptions::from(config, intake.block_capacity, intake.max_blocks), logger);
}

IntakeOptions intake_options(Config const& config, Spool const* spool) {
  IntakeOptions o = IntakeOptions::from(config);
  if (spool != nullptr) {
    o.arena = spool->arena();
    o.record_frame = spool::record_frame_bytes;
    o.checksum_records = spool->producers_checksum();
  }
  return o;
}

}  // namespace

ClientCore::ClientCore(std::string write_key, Config cfg)
    : config_(validated(write_key, cfg)),
      logger_(config_.logger, config_.log_level),
      callbacks_(config_, logger_, counters_, [this] { return stats(); }),
      spool_(open_spool(config_, logger_)),
      intake_(next_client_id.fetch_add(1, std::memory_order_relaxed), intake_options(config_, spool_.get())),
      consumer_(intake_),
      // Enough buffers for max_in_flight requests, as many waiting for a retry or being built.
      batches_(2 * config_.max_in_flight + 2, config_.max_batch_bytes + 64, config_.batch_size, config_.compression,
               progress_) {
  TransportOptions http;
  http.url = batch_url(config_.endpoint);
  http.authorization = "Basic " + base64(write_key + ":");
  http.user_agent = "events-sdk-cpp (version: " HTEVENTS_VERSION ")";
  http.max_in_flight = config_.max_in_flight;
  http.request_timeout = config_.request_timeout;
  http.tls_verify = config_.tls_verify;
  http.ca_bundle = config_.ca_bundle;
  sender_ = std::make_unique<Sender>(SenderOptions::from(config_),
                                     SenderLinks{batches_, callbacks_, counters_, logger_, last_error_, spool_.get()},
                                     make_transport(config_, http));
  serializer_ = std::make_unique<Serializer>(
      SerializerOptions::from(config_),
      SerializerLinks{consumer_, batches_, progress_, callbacks_, counters_, logger_, last_error_, spool_.get()});
  batches_.connect([sender = sender_.get()] { sender->wake(); },
                   [serializer = serializer_.get()] { serializer->wake(); });
  if (spool_ != nullptr) {
    batches_.connect_records([consumer = &consumer_](HeldRecords& held) { consumer->settle(held); });
    spool_->connect([sender = sender_.get(), serializer = serializer_.get()] {
      serializer->wake();
      sender->wake();
    });
    spool_->start();  // first: if it cannot start, no other thread runs yet
  }
  register_process_barrier();  // once per process, with the first client: no syscall at load
  watch_fork(this);
  // Threads last: everything they touch exists now. std::thread throws std::system_error when
  // the system refuses a thread; the sender must then be stopped and joined, or destroying its
  // std::thread would call std::terminate.
  sender_thread_ = std::thread([this] {
    set_this_thread_name("htev-send");
    sender_->run();
  });
  try {
    serializer_thread_ = std::thread([this] {
      set_this_thread_name("htev-serialize");
      serializer_->run();
    });
  } catch (...) {
    batches_.close();  // no serializer will ever say so; nothing was enqueued
    stop_threads(std::chrono::steady_clock::now());
    throw;
  }
}

ClientCore::~ClientCore() {
  close(config_.request_timeout);
  unwatch_fork(this);
}

template <class Message>
Status ClientCore::enqueue(Message const& message) noexcept {
  Producer* producer = intake_.this_thread_producer();
  if (producer == nullptr) return intake_.no_room_status();
  Status status = producer->writer_open ? Status::invalid_usage : validate(message);
  if (status != Status::ok) {
    bump(producer->rejected[static_cast<std::size_t>(status)]);
    return status;
  }
  if (!intake_.begin_struct_enqueue(*producer)) {
    status = intake_.refusal();
    intake_.end_struct_enqueue(*producer, status);
    return status;
  }
  MessageArena out(intake_, *producer);
  encode(out, message);
  status = out.finish();
  intake_.end_struct_enqueue(*producer, status);
  return status;
}

template Status ClientCore::enqueue(Identify const&) noexcept;
template Status ClientCore::enqueue(Track const&) noexcept;
template Status ClientCore::enqueue(Page const&) noexcept;
template Status ClientCore::enqueue(Screen const&) noexcept;
template Status ClientCore::enqueue(Group const&) noexcept;
template Status ClientCore::enqueue(Alias const&) noexcept;

bool ClientCore::flush(std::chrono::milliseconds timeout) noexcept {
  if (in_callback() || intake_.closed_acquire()) return false;
  auto const deadline = deadline_after(timeout);
  // flush() answers true only if everything it waited for was delivered: any failure while it
  // waits (of its messages or, conservatively, of others) makes it false.
  std::uint64_t const failed_before = counters_.failed.load(std::memory_order_acquire);
  FlushTicket ticket;
  try {
    intake_.for_each_producer(
        [&](Producer const& p) { ticket.targets.emplace_back(&p, p.accepted.load(std::memory_order_acquire)); });
    progress_.add(ticket);
  } catch (...) {
    return false;
  }
  serializer_->wake();
  bool const done = progress_.wait(ticket, deadline);
  return done && counters_.failed.load(std::memory_order_acquire) == failed_before;
}

bool ClientCore::close(std::chrono::milliseconds timeout) noexcept {
  if (forked()) return false;  // the child has none of the threads; the parent delivers
  if (in_callback()) {
    // The pipeline threads cannot be joined from themselves: stop accepting, let the owner close.
    intake_.stop();
    return false;
  }
  auto const deadline = deadline_after(timeout);
  std::unique_lock lock(close_mutex_);
  if (close_state_ == CloseState::closing) {
    // Another thread is closing: wait for it, but only until this caller's own deadline.
    bool const finished =
        close_finished_.wait_until(lock, deadline, [&] { return close_state_ == CloseState::closed; });
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
  intake_.stop();
  // Not bounded by the deadline: an enqueue that passed its `closed` check will push, and its
  // record must be in the ring before draining starts, or it would be neither sent nor failed.
  // These waits are short: enqueue never waits on the network, and stop_intake() cut short
  // those waiting for room.
  intake_.wait_for_enqueues_in_progress();
  stop_threads(deadline);
  // Every accepted message must be delivered or failed by now; anything else is a bug worth
  // saying out loud rather than a true from close().
  std::uint64_t const accepted = intake_.total_accepted();
  std::uint64_t const delivered = counters_.delivered.load(std::memory_order_acquire);
  std::uint64_t const settled = delivered + counters_.failed.load(std::memory_order_acquire);
  if (spool_ != nullptr) {
    Stats spooled;
    spool_->fill(spooled);
    std::uint64_t const expected = accepted + spooled.recovered;
    bool const all_settled = settled == expected;
    if (!all_settled) {
      logger_.log(LogLevel::warn, "close(): " + std::to_string(expected - std::min(expected, settled)) +
                                      " events stay in the spool (" + spool_->own_dir() +
                                      ") for the next client with this spool_dir");
    }
    // The arena is clean when the serializer took every accepted record (into a segment, or
    // failed it): then nothing of this client's own is left in it.
    spool_->stop(counters_.consumed.load(std::memory_order_acquire) >= accepted);
    return delivered == expected;
  }
  if (settled != accepted)
    logger_.log(LogLevel::error, "close(): some accepted messages were neither delivered nor failed");
  // true only when every accepted message was delivered (docs/lifecycle.md).
  return delivered == accepted;
}

void ClientCore::stop_threads(std::chrono::steady_clock::time_point deadline) noexcept {
  sender_->set_deadline(deadline);
  serializer_->drain(deadline);
  if (serializer_thread_.joinable()) serializer_thread_.join();
  sender_->wake();
  if (sender_thread_.joinable()) sender_thread_.join();
}

void ClientCore::before_fork() noexcept {
  intake_.lock_for_fork();
  progress_.lock_for_fork();
}

void ClientCore::after_fork_in_parent() noexcept {
  progress_.unlock_after_fork();
  intake_.unlock_after_fork();
}

void ClientCore::after_fork_in_child() noexcept {
  // The child has this client's memory but none of its threads: refuse everything (Status::
  // forked), never wait for or join the threads, never touch the parent's connections.
  intake_.refuse_in_fork_child();
  // The parent's spool locks must not outlive the parent in us (a dead parent's spool is then
  // adopted by the next client, not held by an inert child).
  if (spool_ != nullptr) spool_->close_lock_in_child();
  progress_.unlock_after_fork();
  intake_.unlock_after_fork();
}

Stats ClientCore::stats() const noexcept {
  Stats s;
  // Pipeline counters first, producers' after: whatever was delivered or failed was accepted
  // before, so the snapshot never shows delivered + failed > enqueued.
  s.delivered = counters_.delivered.load(std::memory_order_acquire);
  s.failed = counters_.failed.load(std::memory_order_acquire);
  std::uint64_t const consumed = counters_.consumed.load(std::memory_order_acquire);
  s.dropped_oldest = counters_.dropped_oldest.load(std::memory_order_relaxed);
  s.batches_sent = counters_.batches_sent.load(std::memory_order_relaxed);
  s.batches_failed = counters_.batches_failed.load(std::memory_order_relaxed);
  s.requests = counters_.requests.load(std::memory_order_relaxed);
  s.retries = counters_.retries.load(std::memory_order_relaxed);
  s.compression_fallbacks = counters_.compression_fallbacks.load(std::memory_order_relaxed);
  s.bytes_uncompressed = counters_.bytes_uncompressed.load(std::memory_order_relaxed);
  s.bytes_sent = counters_.bytes_sent.load(std::memory_order_relaxed);
  s.serializer_stalls = counters_.serializer_stalls.load(std::memory_order_relaxed);
  s.batches_split = counters_.batches_split.load(std::memory_order_relaxed);
  s.split_requests = counters_.split_requests.load(std::memory_order_relaxed);
  intake_.for_each_producer([&](Producer const& p) {
    s.enqueued += p.accepted.load(std::memory_order_acquire);
    for (std::size_t i = 0; i < status_count; ++i) {
      s.rejected_by_status[i] += p.rejected[i].load(std::memory_order_relaxed);
    }
  });
  for (auto n : s.rejected_by_status) s.rejected += n;
  s.dropped_newest = s.rejected_by_status[static_cast<std::size_t>(Status::queue_full)];
  s.dropped = s.dropped_newest + s.dropped_oldest;
  s.queued_events = s.enqueued - std::min(s.enqueued, consumed);
  s.queued_bytes = intake_.queued_bytes();
  s.in_flight = progress_.outstanding();
  if (spool_ != nullptr) spool_->fill(s);
  return s;
}

}  // namespace htevents::inline v0::detail
