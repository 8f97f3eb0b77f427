#pragma once
// The fixed pool of batch buffers between serializer and sender: allocated once, reused.

#include <cstddef>
#include <memory>
#include <mutex>
#include <vector>

#include "batch/batch.hpp"

namespace htevents::inline v0::detail {

class BatchPool {
 public:
  // Allocates every buffer now: throws std::bad_alloc.
  BatchPool(std::size_t count, std::size_t max_body_bytes, std::size_t max_messages);
  // A free batch (its contents stale: clear() it), or nullptr when all are in use.
  Batch* try_take() noexcept;
  // A batch of this pool is free again. Never allocates.
  void give_back(Batch* batch) noexcept;
  std::size_t size() const noexcept { return all_.size(); }
  std::size_t free_count() const noexcept;

 private:
  mutable std::mutex mutex_;
  std::vector<std::unique_ptr<Batch>> all_;
  std::vector<Batch*> free_;  // guarded by mutex_; capacity for every batch
};

}  // namespace htevents::inline v0::detail
