#pragma once
// An asymmetric store-load barrier: the cheap side (every enqueue) pays only a compiler
// barrier; the expensive side (close, rare) makes every thread of the process execute a full
// memory barrier through Linux's membarrier(2). Where membarrier is unavailable both sides
// fall back to seq_cst fences.

#include <atomic>

namespace htevents::inline v0::detail {

// Set once at load time (dynamic initialization); false until then, and false for good where
// membarrier is missing. Only ever goes from false to true, so a light side that saw false
// used a full fence, which pairs with either heavy side.
extern bool const process_barrier_registered;

// The hot side: orders this thread's earlier stores before its later loads, as seen by a
// thread that calls heavy_barrier(). A compiler barrier when membarrier is available.
inline void light_barrier() noexcept {
  if (process_barrier_registered) {
    std::atomic_signal_fence(std::memory_order_seq_cst);
  } else {
    std::atomic_thread_fence(std::memory_order_seq_cst);
  }
}

// The cold side: after it returns, every store any thread made before its light_barrier() is
// visible here, and every load it makes after sees what this thread stored before the call.
void heavy_barrier() noexcept;

}  // namespace htevents::inline v0::detail
