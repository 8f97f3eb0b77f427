#pragma once
// An asymmetric store-load barrier: the cheap side (every enqueue) pays only a compiler
// barrier; the expensive side (close, rare) makes every thread of the process execute a full
// memory barrier through Linux's membarrier(2). Where membarrier is unavailable both sides
// fall back to seq_cst fences.

namespace htevents::inline v0::detail {

// Registers the process for expedited membarriers once; true if they are available.
bool process_barrier_available() noexcept;

// The hot side: orders this thread's earlier stores before its later loads, as seen by a
// thread that calls heavy_barrier(). A compiler barrier when membarrier is available.
void light_barrier() noexcept;

// The cold side: after it returns, every store any thread made before its light_barrier() is
// visible here, and every load it makes after sees what this thread stored before the call.
void heavy_barrier() noexcept;

}  // namespace htevents::inline v0::detail
