#pragma once
// The sender thread: a libcurl multi loop running up to max_in_flight requests over kept-alive
// connections. It applies wire-format.md's response table to each answer: delivered, retried
// with backoff (or after the server's Retry-After, pausing every send), split in halves (413,
// and 400 to isolate refused messages), resent with the next encoding, or failed; and it tells
// the user (callbacks, logs) and stats what happened to each batch.

#include <atomic>
#include <chrono>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include <curl/curl.h>

#include "batch/batch.hpp"
#include "batch/compressor.hpp"
#include "batch/envelope.hpp"
#include "message/json_primitives.hpp"
#include "transport/retry.hpp"

namespace htevents::inline v0::detail {

class ClientCore;

class Sender {
 public:
  explicit Sender(ClientCore& core);  // throws std::runtime_error when curl cannot start
  ~Sender();
  Sender(Sender const&) = delete;
  Sender& operator=(Sender const&) = delete;

  // Serializer thread: a finished batch to send. Wakes the loop.
  void submit(Batch* batch) noexcept;
  // Serializer thread: no more batches will come.
  void serializer_finished() noexcept;
  // Any thread: wakes curl_multi_poll (close, flush).
  void wake() noexcept;
  // The thread body; returns when the serializer has finished and every batch is settled.
  void run() noexcept;
  // Any thread: the last answer or transport error any batch had ("" before the first), for
  // the detail of failures that never reached the sender (the serializer's deadline).
  std::string last_error() const;

 private:
  struct Slot {
    CURL* easy = nullptr;
    Batch* batch = nullptr;
    std::string response;  // first bytes of the answer, for failure details
    std::optional<std::chrono::milliseconds> retry_after;
    char error[CURL_ERROR_SIZE] = {};
  };

  static std::size_t on_body(char* data, std::size_t size, std::size_t count, void* slot) noexcept;
  static std::size_t on_header(char* data, std::size_t size, std::size_t count, void* slot) noexcept;

  void intake() noexcept;
  void prepare(Batch& batch, std::chrono::steady_clock::time_point now) noexcept;
  void encode(Batch& batch, Compression encoding) noexcept;
  void start(Slot& slot, Batch* batch) noexcept;
  bool reap() noexcept;
  void settle(Slot& slot, CURLcode result) noexcept;
  void note_error(Batch& batch, long http_status, std::string detail) noexcept;
  void note_failed_attempt(Batch const& batch) noexcept;
  void note_success() noexcept;
  void retry_later(Batch* batch, std::optional<std::chrono::milliseconds> retry_after) noexcept;
  void pause_for(Batch* batch, std::chrono::milliseconds retry_after) noexcept;
  void schedule(Batch* batch, std::chrono::milliseconds wait) noexcept;
  bool fall_back(Batch* batch) noexcept;
  bool split(Batch* batch) noexcept;
  std::unique_ptr<Batch> make_piece(Batch& from, std::size_t first, std::size_t end);
  void deliver(Batch* batch, long http_status) noexcept;
  void fail(Batch* batch, FailureReason reason, long http_status, std::string_view detail) noexcept;
  void finish(Batch* batch) noexcept;
  void finish_pooled(Batch* batch) noexcept;
  void fail_all_at_deadline() noexcept;
  void fail_at_deadline(Batch* batch) noexcept;
  bool idle() const noexcept;
  int poll_timeout_ms(std::chrono::steady_clock::time_point now) const noexcept;

  ClientCore& core_;
  CURLM* multi_ = nullptr;
  curl_slist* headers_[3] = {};  // by Compression value
  std::vector<Slot> slots_;
  std::vector<Slot*> idle_slots_;
  std::size_t in_flight_ = 0;

  std::mutex submit_mutex_;
  std::vector<Batch*> submitted_;  // guarded by submit_mutex_
  std::vector<Batch*> intake_;     // swapped with submitted_
  std::atomic<bool> serializer_done_{false};

  std::deque<Batch*> ready_;     // to send as soon as a slot is free
  std::vector<Batch*> waiting_;  // waiting for their retry time
  Compressor compressor_;        // re-encodes a batch (fresh sentAt, refused encoding, pieces)
  Envelope envelope_;            // rewrites sentAt, builds the pieces of split batches
  UuidGenerator uuid_;           // batch messageIds of the pieces
  // By Compression value. proven_: has had a 2xx from this endpoint, so a 400 to it is about
  // the messages. refused_: answered 415 (or 400 before any 2xx): every batch still holding it
  // is re-encoded before it is sent.
  bool proven_[3] = {false, false, false};
  bool refused_[3] = {false, false, false};
  // Retry-After (429/503): no request starts before this; requests in flight go on.
  std::chrono::steady_clock::time_point paused_until_{};
  std::uint64_t failing_run_ = 0;  // failed attempts since the last 2xx, for the warn line
  std::mt19937_64 rng_;
  std::chrono::steady_clock::time_point next_stats_{};
  mutable std::mutex last_error_mutex_;
  std::string last_error_;  // guarded by last_error_mutex_
};

}  // namespace htevents::inline v0::detail
