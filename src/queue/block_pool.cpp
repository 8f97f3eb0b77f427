#include "queue/block_pool.hpp"

#include <new>

namespace htevents::inline v0::detail {

BlockPool::BlockPool(std::size_t block_capacity, std::size_t max_blocks)
    : capacity_(block_capacity), max_blocks_(max_blocks) {}

BlockPool::~BlockPool() {
  // Blocks still out (held by producers at destruction) are freed by their owner's teardown,
  // which hands them back through release() first.
  while (free_ != nullptr) {
    Block* next = free_->next_free;
    free_->~Block();
    ::operator delete(free_, std::align_val_t{cache_line});
    free_ = next;
  }
}

Block* BlockPool::pop_locked() noexcept {
  Block* block = free_;
  if (block != nullptr) {
    free_ = block->next_free;
  } else if (allocated_ < max_blocks_) {
    void* memory = ::operator new(sizeof(Block) + capacity_, std::align_val_t{cache_line}, std::nothrow);
    if (memory == nullptr) return nullptr;
    block = new (memory) Block{};
    block->capacity = static_cast<std::uint32_t>(capacity_);
    ++allocated_;
  } else {
    return nullptr;
  }
  block->next_free = nullptr;
  block->refs.store(0, std::memory_order_relaxed);
  in_use_.fetch_add(1, std::memory_order_relaxed);
  return block;
}

Block* BlockPool::try_acquire() noexcept {
  std::lock_guard lock(mutex_);
  return pop_locked();
}

Block* BlockPool::acquire_until(std::chrono::steady_clock::time_point deadline) noexcept {
  std::unique_lock lock(mutex_);
  for (;;) {
    if (Block* block = pop_locked()) return block;
    ++waiters_;
    bool const timed_out = returned_.wait_until(lock, deadline) == std::cv_status::timeout;
    --waiters_;
    if (timed_out) return pop_locked();
  }
}

void BlockPool::release(Block* block) noexcept {
  bool wake = false;
  {
    std::lock_guard lock(mutex_);
    block->owner = nullptr;
    block->next_free = free_;
    free_ = block;
    in_use_.fetch_sub(1, std::memory_order_relaxed);
    wake = waiters_ > 0;
  }
  if (wake) returned_.notify_all();
}

}  // namespace htevents::inline v0::detail
