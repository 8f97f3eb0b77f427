#pragma once
// Flush tracking: the batches handed to the sender and not finished yet (by serial), and the
// flush() calls waiting on them. The client registers a ticket and waits; the serializer marks
// tickets batched once their records are in handed batches; the batch channel reports each
// batch handed and finished.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <set>
#include <utility>
#include <vector>

namespace htevents::inline v0::detail {

struct Producer;

// One flush(): waits for the records accepted before it to be batched, then for those batches.
// Lives on the flushing thread's stack, registered with Progress for the length of the wait.
struct FlushTicket {
  std::vector<std::pair<Producer const*, std::uint64_t>> targets;  // producer, accepted at flush
  bool batched = false;           // every target record is in a batch handed to the sender
  std::uint64_t last_serial = 0;  // ...whose serial is at most this
};

class Progress {
 public:
  // --- batch channel ---
  void handed(std::uint64_t serial);  // may throw std::bad_alloc (the set's node)
  void finished(std::uint64_t serial) noexcept;
  // Batches handed and not finished.
  std::size_t outstanding() const noexcept;

  // --- flush() ---
  // Registers `ticket` (marked batched at once if the serializer has exited already). Throws
  // std::bad_alloc, and then the ticket is not registered.
  void add(FlushTicket& ticket);
  // Waits until `ticket` is batched and every batch up to its serial finished, or `deadline`;
  // then unregisters it. True when it was done.
  bool wait(FlushTicket& ticket, std::chrono::steady_clock::time_point deadline) noexcept;
  // Some flush is registered (the serializer's cheap check, and its reason not to sleep).
  bool any_waiting() const noexcept { return ticket_count_.load(std::memory_order_acquire) > 0; }

  // --- serializer ---
  // True when a ticket not yet batched satisfies `ready` (its records are all consumed).
  template <class Ready>
  bool any_ready(Ready&& ready) const {
    std::lock_guard lock(mutex_);
    for (FlushTicket const* ticket : tickets_) {
      if (!ticket->batched && ready(*ticket)) return true;
    }
    return false;
  }
  // Marks the tickets that satisfy `ready` batched through the last handed serial; wakes flushes.
  template <class Ready>
  void mark_batched(Ready&& ready) {
    {
      std::lock_guard lock(mutex_);
      for (FlushTicket* ticket : tickets_) {
        if (ticket->batched || !ready(*ticket)) continue;
        ticket->batched = true;
        ticket->last_serial = last_handed_;
      }
    }
    changed_.notify_all();
  }
  // The serializer has exited: every record is in a handed batch or failed. Every ticket, and
  // any registered later, only waits for the batches handed so far.
  void serializer_exited() noexcept;

  // fork(): held across fork() so that the child gets it unlocked and consistent.
  void lock_for_fork() noexcept { mutex_.lock(); }
  void unlock_after_fork() noexcept { mutex_.unlock(); }

 private:
  // True when every batch with serial <= `serial` has finished. Caller holds mutex_.
  bool done_through(std::uint64_t serial) const noexcept;

  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<FlushTicket*> tickets_;  // guarded by mutex_
  std::atomic<std::size_t> ticket_count_{0};
  std::uint64_t last_handed_ = 0;        // guarded by mutex_
  bool serializer_exited_ = false;       // guarded by mutex_
  std::set<std::uint64_t> outstanding_;  // guarded by mutex_
};

}  // namespace htevents::inline v0::detail
