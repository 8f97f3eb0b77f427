#include "batch/batch_pool.hpp"

namespace htevents::inline v0::detail {

BatchPool::BatchPool(std::size_t count, std::size_t max_body_bytes, std::size_t max_messages) {
  all_.reserve(count);
  free_.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    all_.push_back(std::make_unique<Batch>(max_body_bytes, max_messages));
    free_.push_back(all_.back().get());
  }
}

Batch* BatchPool::try_take() noexcept {
  std::lock_guard lock(mutex_);
  if (free_.empty()) return nullptr;
  Batch* batch = free_.back();
  free_.pop_back();
  return batch;
}

void BatchPool::give_back(Batch* batch) noexcept {
  std::lock_guard lock(mutex_);
  free_.push_back(batch);  // capacity reserved for every batch: never allocates
}

std::size_t BatchPool::free_count() const noexcept {
  std::lock_guard lock(mutex_);
  return free_.size();
}

}  // namespace htevents::inline v0::detail
