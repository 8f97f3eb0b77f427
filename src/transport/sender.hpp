#pragma once
// The sender thread: a libcurl multi loop running up to max_in_flight requests over kept-alive
// connections, retrying with backoff, falling back to another encoding when one is refused,
// and telling the user (callbacks) and stats what happened to each batch.

#include <atomic>
#include <chrono>
#include <deque>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include <curl/curl.h>

#include "batch/batch.hpp"
#include "batch/compressor.hpp"
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
  void start(Slot& slot, Batch* batch) noexcept;
  bool reap() noexcept;
  void settle(Slot& slot, CURLcode result) noexcept;
  void retry_later(Batch* batch, std::optional<std::chrono::milliseconds> retry_after) noexcept;
  bool fall_back(Batch* batch) noexcept;
  void deliver(Batch* batch, long http_status) noexcept;
  void fail(Batch* batch, FailureReason reason, long http_status, std::string_view detail) noexcept;
  void finish(Batch* batch) noexcept;
  void fail_all_at_deadline() noexcept;
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
  Compressor compressor_;        // re-encodes a batch after a refused encoding
  bool compressed_answered_ = false;  // a compressed request has had an answer
  std::mt19937_64 rng_;
  std::chrono::steady_clock::time_point next_stats_{};
};

}  // namespace htevents::inline v0::detail
