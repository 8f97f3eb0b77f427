#include "queue/block_pool.hpp"

#include <new>
#include <thread>

#include "spool/format.hpp"

namespace htevents::inline v0::detail {

BlockPool::BlockPool(std::size_t block_capacity, std::size_t max_blocks, BlockArena arena)
    : capacity_(block_capacity), max_blocks_(max_blocks), arena_(arena) {
  // Every arena slot's header is constructed here, before any thread runs: the spool's sync
  // thread reads slots' generations at any time.
  for (std::size_t i = 0; i < arena_.slots; ++i) {
    Block* block = new (arena_.base + i * arena_.stride) Block{};
    block->capacity = static_cast<std::uint32_t>(capacity_);
  }
}

BlockPool::~BlockPool() {
  // Every block, free or not: a block whose records a close() deadline cut off, or one a
  // producer still held, is freed here all the same (the pool owns what it allocated).
  while (all_ != nullptr) {
    Block* next = all_->next_all;
    all_->~Block();
    if (arena_.base == nullptr) ::operator delete (all_, std::align_val_t{cache_line});
    all_ = next;
  }
}

Block* BlockPool::allocate_unlinked() noexcept {
  void* memory = nullptr;
  if (arena_.base != nullptr) {
    std::size_t const slot = next_slot_.fetch_add(1, std::memory_order_relaxed);
    if (slot >= arena_.slots) return nullptr;
    return reinterpret_cast<Block*>(arena_.base + slot * arena_.stride);  // constructed already
  } else {
    memory = ::operator new (sizeof(Block) + capacity_, std::align_val_t{cache_line}, std::nothrow);
  }
  if (memory == nullptr) return nullptr;
  Block* block = new (memory) Block{};
  block->capacity = static_cast<std::uint32_t>(capacity_);
  return block;
}

Block* BlockPool::allocate() noexcept {
  Block* block = allocate_unlinked();
  if (block == nullptr) return nullptr;
  block->next_all = all_;
  all_ = block;
  return block;
}

Block* BlockPool::pop_locked() noexcept {
  Block* block = free_;
  if (block != nullptr) {
    free_ = block->next_free;
    --free_count_;
  } else if (allocated_ < max_blocks_) {
    block = allocate();
    if (block == nullptr) return nullptr;
    ++allocated_;
  } else {
    return nullptr;
  }
  block->next_free = nullptr;
  block->refs.store(0, std::memory_order_relaxed);
  if (arena_.base != nullptr) {
    // Retire the old generation, reset the mark and the seed, then publish the new generation:
    // a crash at any step leaves a slot recovery reads as unused (generation 0) or as the new,
    // still empty generation, never a false "damaged" slot or the old records again. The
    // fences keep the compiler from reordering the stores; a process crash keeps all of them
    // that executed (the page cache is this memory), in program order.
    block->generation.store(0, std::memory_order_relaxed);
    std::atomic_signal_fence(std::memory_order_seq_cst);
    block->consumed_end.store(0, std::memory_order_relaxed);
    block->seed = spool::record_seed(generation_ + 1);
    std::atomic_signal_fence(std::memory_order_seq_cst);
    block->generation.store(++generation_, std::memory_order_release);  // the sync reads the seed after it
  }
  in_use_.fetch_add(1, std::memory_order_relaxed);
  return block;
}

Block* BlockPool::try_acquire() noexcept {
  std::lock_guard lock(mutex_);
  // No barging: while anyone waits, free blocks are theirs (and serve_waiters_locked has handed
  // them over already).
  if (first_waiter_ != nullptr) return nullptr;
  return pop_locked();
}

void BlockPool::join_line(Waiter& waiter) noexcept {
  waiter.prev = last_waiter_;
  if (last_waiter_ != nullptr) {
    last_waiter_->next = &waiter;
  } else {
    first_waiter_ = &waiter;
  }
  last_waiter_ = &waiter;
  waiting_.store(waiting_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
}

void BlockPool::leave_line(Waiter& waiter) noexcept {
  (waiter.prev != nullptr ? waiter.prev->next : first_waiter_) = waiter.next;
  (waiter.next != nullptr ? waiter.next->prev : last_waiter_) = waiter.prev;
  waiter.prev = waiter.next = nullptr;
  waiting_.store(waiting_.load(std::memory_order_relaxed) - 1, std::memory_order_relaxed);
}

void BlockPool::serve_waiters_locked() noexcept {
  while (first_waiter_ != nullptr) {
    Block* block = pop_locked();
    if (block == nullptr) return;
    Waiter& waiter = *first_waiter_;
    leave_line(waiter);
    waiter.block = block;
    // Under the lock: the waiter cannot see its block, return and take its condition variable
    // with it before this notify is done.
    waiter.woken.notify_one();
  }
}

Block* BlockPool::acquire_until(std::chrono::steady_clock::time_point deadline) noexcept {
  std::unique_lock lock(mutex_);
  if (first_waiter_ == nullptr) {
    if (Block* block = pop_locked()) return block;
  }
  if (interrupted_.load(std::memory_order_relaxed)) return nullptr;
  Waiter waiter;
  join_line(waiter);
  for (;;) {
    bool const timed_out = waiter.woken.wait_until(lock, deadline) == std::cv_status::timeout;
    if (waiter.block != nullptr) return waiter.block;  // handed over, even at the deadline
    if (timed_out || interrupted_.load(std::memory_order_relaxed)) break;
    // Spurious: still in line.
  }
  leave_line(waiter);
  // While anyone is in line no block stays free (release hands each over), but the budget can
  // have come within reach since (an allocation that failed before): those still in line go
  // first, then one last look for ourselves if no one is left.
  serve_waiters_locked();
  return first_waiter_ == nullptr ? pop_locked() : nullptr;
}

void BlockPool::release(Block* block) noexcept {
  if (arena_.base != nullptr) {
    block->generation.store(0, std::memory_order_seq_cst);  // free: nothing to recover
    // Store-load handshake with the sync (ArenaFile::sync: it stores `walking`, then loads the
    // generation again): either it sees 0 and leaves the block, or we see it reading and wait
    // (the records of one block: microseconds, at most once per sync interval). Before the
    // lock, not under it: the block is no one else's until it is on the free list, and a sync
    // thread preempted mid-walk must not hold up every thread that returns or wants a block.
    if (arena_.walking != nullptr) {
      while (arena_.walking->load(std::memory_order_seq_cst) == reinterpret_cast<char const*>(block))
        std::this_thread::yield();
    }
  }
  std::lock_guard lock(mutex_);
  block->owner = nullptr;
  block->next_free = free_;
  free_ = block;
  ++free_count_;
  in_use_.fetch_sub(1, std::memory_order_relaxed);
  // One block back, one waiter woken (the longest waiting): with thousands of threads waiting
  // for room, waking all of them for every block would make each release a thundering herd on
  // the pool mutex, and a thread that only tries would take the block first.
  serve_waiters_locked();
}

void BlockPool::interrupt() noexcept {
  std::lock_guard lock(mutex_);
  interrupted_.store(true, std::memory_order_release);
  for (Waiter* waiter = first_waiter_; waiter != nullptr; waiter = waiter->next) waiter->woken.notify_one();
}

void BlockPool::keep_spare(std::size_t spare) noexcept {
  // Called every serializer loop: the common answer needs no lock.
  if (free_count_.load(std::memory_order_relaxed) >= spare) return;
  for (;;) {
    {
      std::lock_guard lock(mutex_);
      if (free_count_ >= spare || allocated_ >= max_blocks_) return;
      ++allocated_;  // reserve the budget before allocating outside the lock
    }
    Block* block = allocate_unlinked();
    if (block == nullptr) {
      std::lock_guard lock(mutex_);
      --allocated_;
      return;
    }
    constexpr std::size_t page = 4096;
    for (std::size_t offset = 0; offset < capacity_; offset += page) block->data()[offset] = 0;
    std::lock_guard lock(mutex_);
    block->next_all = all_;
    all_ = block;
    block->next_free = free_;
    free_ = block;
    ++free_count_;
    serve_waiters_locked();
  }
}

}  // namespace htevents::inline v0::detail
