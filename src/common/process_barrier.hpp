#pragma once
// An asymmetric store-load barrier: the cheap side (every enqueue) pays only a compiler
// barrier; the expensive side (close, block reclaim, the serializer going to sleep; all rare)
// makes every thread of the process execute a full memory barrier through Linux's
// membarrier(2). Where membarrier is unavailable both sides use seq_cst fences.

#include <atomic>

namespace htevents::inline v0::detail {

// True once the process is registered for expedited membarriers (the first Client does it; a
// process that never creates one makes no syscall). Goes false again for good if membarrier
// stops working (a seccomp filter installed later, say): both sides then use fences. A light
// side that saw false used a full fence, which pairs with either kind of heavy side.
extern std::atomic<bool> process_barrier_registered;

// Registers the process once; later calls do nothing. Thread-safe.
void register_process_barrier() noexcept;

// The hot side: orders this thread's earlier stores before its later loads, as seen by a
// thread that calls heavy_barrier(). A compiler barrier when membarrier is available.
inline void light_barrier() noexcept {
  if (process_barrier_registered.load(std::memory_order_relaxed)) {
    std::atomic_signal_fence(std::memory_order_seq_cst);
  } else {
    std::atomic_thread_fence(std::memory_order_seq_cst);
  }
}

// The cold side: after it returns, every store any thread made before its light_barrier() is
// visible here, and every load it makes after sees what this thread stored before the call.
void heavy_barrier() noexcept;

}  // namespace htevents::inline v0::detail
