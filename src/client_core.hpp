#pragma once
// The client's shared state: what the producer threads, the serializer thread and the sender
// thread all reach. Client (client.cpp) is a thin facade over it.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "batch/batch.hpp"
#include "common/callback_scope.hpp"
#include "common/deadline.hpp"
#include "common/failure_log.hpp"
#include "common/fork_guard.hpp"
#include "common/logger.hpp"
#include "common/process_barrier.hpp"
#include "htevents/config.hpp"
#include "htevents/message.hpp"
#include "htevents/stats.hpp"
#include "queue/block_pool.hpp"
#include "queue/producer.hpp"
#include "queue/ring.hpp"
// After ring.hpp: the semaphore header relies on concurrentqueue.h's macros.
#include <cassert>
#include <concurrentqueue/lightweightsemaphore.h>

namespace htevents::inline v0::detail {

class Serializer;
class Sender;

// Counters written by one pipeline thread each (serializer or sender) and read by stats().
struct PipelineCounters {
  std::atomic<std::uint64_t> consumed{0};       // records taken out of the ring (serializer)
  std::atomic<std::uint64_t> delivered{0};
  std::atomic<std::uint64_t> failed{0};
  std::atomic<std::uint64_t> dropped_oldest{0};
  std::atomic<std::uint64_t> batches_sent{0};
  std::atomic<std::uint64_t> batches_failed{0};
  std::atomic<std::uint64_t> requests{0};
  std::atomic<std::uint64_t> retries{0};
  std::atomic<std::uint64_t> compression_fallbacks{0};
  std::atomic<std::uint64_t> bytes_uncompressed{0};
  std::atomic<std::uint64_t> bytes_sent{0};
  std::atomic<std::uint64_t> serializer_stalls{0};
  std::atomic<std::uint64_t> in_flight{0};
  std::atomic<std::uint64_t> deadline_failures{0};
  std::atomic<std::uint64_t> batches_split{0};   // batches split after a 400 or 413 (sender)
  std::atomic<std::uint64_t> split_requests{0};  // requests for the pieces of split batches
};

// A flush() waiting for the records pushed before it to be batched, then for those batches.
struct FlushTicket {
  std::vector<std::pair<Producer const*, std::uint64_t>> targets;  // producer, accepted at flush
  bool batched = false;        // every target record is in a batch handed to the sender
  std::uint64_t last_serial = 0;  // ...whose serial is at most this
};

// Batches handed to the sender and not finished yet, and the flushes waiting on them.
class Progress {
 public:
  void handed(std::uint64_t serial);
  void finished(std::uint64_t serial);
  // True when every batch with serial <= `serial` has finished.
  bool done_through(std::uint64_t serial) const;  // caller holds `mutex`
  std::size_t outstanding() const;                 // takes `mutex`

  mutable std::mutex mutex;
  std::condition_variable changed;
  std::vector<FlushTicket*> tickets;     // guarded by mutex
  std::atomic<std::size_t> ticket_count{0};
  std::uint64_t last_handed = 0;         // guarded by mutex
  // The serializer has exited: every record is in a handed batch or failed. A flush that
  // registers after this only waits for those batches (guarded by mutex).
  bool serializer_exited = false;

 private:
  std::set<std::uint64_t> outstanding_;  // guarded by mutex
};

// The fixed pool of batch buffers between serializer and sender.
class BatchPool {
 public:
  BatchPool(std::size_t count, std::size_t max_body_bytes, std::size_t max_messages);
  Batch* try_take() noexcept;
  void give_back(Batch* batch) noexcept;
  std::size_t size() const noexcept { return all_.size(); }

 private:
  std::mutex mutex_;
  std::vector<std::unique_ptr<Batch>> all_;
  std::vector<Batch*> free_;
};

class ClientCore final : ForkAware {
 public:
  ClientCore(std::string write_key, Config config);  // throws ConfigError
  ~ClientCore();
  ClientCore(ClientCore const&) = delete;
  ClientCore& operator=(ClientCore const&) = delete;

  template <class Message>
  Status enqueue(Message const& message) noexcept;
  bool flush(std::chrono::milliseconds timeout) noexcept;
  bool close(std::chrono::milliseconds timeout) noexcept;
  Stats stats() const noexcept;

  // --- producer side (hot path) ---
  Producer* this_thread_producer() noexcept { return producers_.for_this_thread(id); }
  // Marks `producer` busy and checks `closed`: false means closed. Store-load handshake with
  // close(): either close() sees `active` and waits for this enqueue, or this load sees
  // `closed`. The store-load order comes from an asymmetric barrier: a compiler barrier here,
  // membarrier(2) in close(), instead of a locked instruction per message.
  bool begin_enqueue(Producer& producer) noexcept {
    producer.active.store(true, std::memory_order_relaxed);
    light_barrier();
    return !closed.load(std::memory_order_relaxed);
  }
  void end_enqueue(Producer& producer, Status status) noexcept {
    // Publishes the pushed record to close(); pairs with its acquire load of `active`.
    producer.active.store(false, std::memory_order_release);
    if (status != Status::ok) bump(producer.rejected[static_cast<std::size_t>(status)]);
  }
  // The struct API holds the block and passes the close handshake under one barrier.
  bool begin_struct_enqueue(Producer& producer) noexcept {
    producer.holding.store(true, std::memory_order_relaxed);
    producer.active.store(true, std::memory_order_relaxed);
    light_barrier();
    settle_reclaim(producer);
    return !closed.load(std::memory_order_relaxed);
  }
  void end_struct_enqueue(Producer& producer, Status status) noexcept {
    end_enqueue(producer, status);
    unhold_block(producer);
  }
  // What a refused enqueue says once `closed` is set: closed, or forked in a fork child.
  Status refusal() const noexcept {
    return forked_.load(std::memory_order_relaxed) ? Status::forked : Status::closed;
  }
  // True in a child process forked while this client existed: nothing of it runs there.
  bool forked() const noexcept { return forked_.load(std::memory_order_relaxed); }
  // A new arena block for `producer` after retiring its current one, under the backpressure
  // policy: may wait (block, drop_oldest), never longer than enqueue_timeout.
  Block* next_block(Producer& producer) noexcept;
  // Queues the producer's draft message (`length` bytes at block + pos). Returns ok or queue_full.
  Status push(Producer& producer, std::uint32_t length) noexcept;
  void wake_serializer() noexcept;

  // --- pipeline side ---
  // Calls on_failure for one message; counts it failed. Callbacks never run concurrently.
  void fail_message(FailureReason reason, int http_status, std::string_view detail,
                    std::string_view message_json) noexcept;
  void notify_success(Delivery const& delivery) noexcept;
  void notify_stats() noexcept;
  // Total accepted over all producers (takes the registry lock).
  std::uint64_t total_accepted() const noexcept;

  Config const config;
  std::uint64_t const id;
  std::string const url;           // {endpoint}/v1/batch
  std::string const authorization; // "Authorization: Basic ..."; never logged
  Logger const logger;
  FailureLog failure_log;  // failed events, when no on_failure is set

  Ring ring;
  BlockPool blocks;
  ProducerRegistry producers_;
  BatchPool batches;
  Progress progress;
  PipelineCounters counters;

  std::atomic<bool> closed{false};
  // The body encoding in use; the sender moves it down (zstd -> gzip -> none) when the server
  // refuses one, and the serializer reads it for each new batch.
  std::atomic<Compression> encoding;
  std::atomic<bool> fallback_logged{false};
  // The serializer sleeps until a producer wakes it (nothing queued): producers signal after a
  // push. Store-load handshake with the ring: light_barrier() in push, heavy_barrier() there.
  std::atomic<bool> serializer_sleeping{false};
  // The serializer sleeps longer than a millisecond with a batch open: a producer that moves to
  // a new block (a block's worth of records arrived) wakes it. Never waited on by producers.
  std::atomic<bool> serializer_napping{false};
  moodycamel::LightweightSemaphore serializer_wakeup;
  // Set by close(): the serializer drains and exits; then the sender finishes by the deadline.
  std::atomic<bool> draining{false};
  std::atomic<std::int64_t> deadline_ns{0};  // steady_clock, 0 = none

 private:
  // fork(): the child keeps none of the client's threads (ForkAware, see fork_guard.hpp).
  void before_fork() noexcept override;
  void after_fork_in_parent() noexcept override;
  void after_fork_in_child() noexcept override;

  // close(): the first caller runs it; the others wait for it, each until its own deadline.
  bool run_close(std::chrono::steady_clock::time_point deadline) noexcept;
  void stop_intake() noexcept;
  void wait_for_enqueues_in_progress() noexcept;
  void stop_threads(std::chrono::steady_clock::time_point deadline) noexcept;

  std::mutex callback_mutex_;
  enum class CloseState : std::uint8_t { open, closing, closed };
  std::mutex close_mutex_;
  std::condition_variable close_finished_;
  CloseState close_state_ = CloseState::open;  // guarded by close_mutex_
  bool close_result_ = false;                  // guarded by close_mutex_
  std::atomic<bool> forked_{false};

  std::unique_ptr<Serializer> serializer_;
  std::unique_ptr<Sender> sender_;
  // Started last in the constructor, joined first in close(): everything they touch exists.
  std::thread serializer_thread_;
  std::thread sender_thread_;
};


}  // namespace htevents::inline v0::detail
