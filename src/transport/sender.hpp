#pragma once
// The sender thread: takes finished batches from the batch channel and sends them through an
// HttpTransport, up to its max_in_flight at once. It applies wire-format.md's response table to
// each answer: delivered, retried with backoff (or after the server's Retry-After, pausing
// every send), split in halves (413, and 400 to isolate refused messages), resent with the next
// encoding, or failed; and it tells the user (callbacks, logs) and stats what happened to each
// batch. Settled pool batches go back to the channel.
//
// It knows no queue, no message code and no curl: it is handed the channel, the callbacks, the
// counters, the logger, the last-error slot it writes, its transport and its own options.

#include <atomic>
#include <chrono>
#include <deque>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "batch/batch.hpp"
#include "batch/batch_channel.hpp"
#include "batch/batch_ids.hpp"
#include "batch/compressor.hpp"
#include "batch/envelope.hpp"
#include "common/callbacks.hpp"
#include "common/counters.hpp"
#include "common/last_error.hpp"
#include "common/logger.hpp"
#include "htevents/config.hpp"
#include "htevents/value.hpp"
#include "spool/spool.hpp"
#include "transport/http_transport.hpp"
#include "transport/retry.hpp"

namespace htevents::inline v0::detail {

// What the sender takes from Config, once.
struct SenderOptions {
  int max_attempts = 1;
  std::chrono::milliseconds retry_base{0};
  std::chrono::milliseconds retry_max{0};
  std::chrono::milliseconds stats_interval{0};  // 0: no on_stats calls
  int compression_level = 0;
  Object default_context;  // the envelope's context, for pieces of split batches

  static SenderOptions from(Config const& config);
};

// Everything the sender reports to or reads from other stages.
struct SenderLinks {
  BatchChannel& batches;
  Callbacks& callbacks;
  PipelineCounters& counters;
  Logger const& logger;
  LastError& last_error;   // written on every failed attempt
  Spool* spool = nullptr;  // with Config::spool_dir: batches wait for retries on disk, not in memory
};

class Sender {
 public:
  // Throws std::bad_alloc (the envelope's context, the compressor's state, reservations).
  Sender(SenderOptions options, SenderLinks links, std::unique_ptr<HttpTransport> transport);
  Sender(Sender const&) = delete;
  Sender& operator=(Sender const&) = delete;

  // Any thread: wakes the loop (a batch handed, the channel closed, close()).
  void wake() noexcept;
  // Any thread: whatever is not delivered by `deadline` fails (FailureReason::deadline).
  void set_deadline(std::chrono::steady_clock::time_point deadline) noexcept;
  // The thread body; returns when the channel is closed and every batch is settled.
  void run() noexcept;

 private:
  void intake() noexcept;
  void prepare(Batch& batch, std::chrono::steady_clock::time_point now) noexcept;
  void encode(Batch& batch, Compression encoding) noexcept;
  void start(Batch* batch) noexcept;
  bool reap() noexcept;
  void settle(Batch* batch, HttpResponse const& response) noexcept;
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
  void fail_all_at_deadline() noexcept;
  void fail_at_deadline(Batch* batch) noexcept;
  bool idle() const noexcept;
  // Spool: a batch that must wait leaves memory (its buffer goes back to the serializer) and
  // waits as a ticket; an outage holds every ticket back until a probe gets through.
  bool can_park(Batch const& batch) const noexcept;
  void park(Batch* batch, std::chrono::steady_clock::time_point not_before) noexcept;
  bool start_parked(std::chrono::steady_clock::time_point now) noexcept;
  void drop_from_memory(Batch* batch) noexcept;  // close()'s deadline: it stays on disk
  void settled_root(Batch* root) noexcept;
  int poll_timeout_ms(std::chrono::steady_clock::time_point now) const noexcept;

  SenderOptions const options_;
  SenderLinks const links_;
  std::unique_ptr<HttpTransport> const transport_;
  std::vector<Batch*> in_flight_;             // started and not completed; capacity max_in_flight
  std::vector<Batch*> intake_;                // swapped with the channel's handed batches
  std::atomic<std::int64_t> deadline_ns_{0};  // steady_clock, 0 = none

  std::deque<Batch*> ready_;     // to send as soon as a slot is free
  std::vector<Batch*> waiting_;  // waiting for their retry time
  Compressor compressor_;        // re-encodes a batch (fresh sentAt, refused encoding, pieces)
  Envelope envelope_;            // rewrites sentAt, builds the pieces of split batches
  BatchIds ids_;                 // batch messageIds of the pieces
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
  std::deque<SpoolTicket> parked_;                      // spool: batches waiting on disk, oldest first
  std::chrono::steady_clock::time_point hold_until_{};  // spool: no parked batch starts before this
  std::string record_;                                  // spool: a record read back
};

}  // namespace htevents::inline v0::detail
