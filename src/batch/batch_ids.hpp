#pragma once
// Batch messageIds (a random UUID per batch, kept across its attempts): one generator per
// thread that makes batches (the serializer; the sender, for the pieces of split batches).
// The generator itself lives in message/ (UuidGenerator); this keeps it out of the headers
// the sender includes.

#include <memory>

#include "batch/batch.hpp"

namespace htevents::inline v0::detail {

class BatchIds {
 public:
  BatchIds();  // throws std::bad_alloc
  ~BatchIds();
  BatchIds(BatchIds const&) = delete;
  BatchIds& operator=(BatchIds const&) = delete;

  // A fresh messageId into `batch.id`. Not thread-safe: one generator per thread.
  void assign(Batch& batch) noexcept;

 private:
  struct Generator;
  std::unique_ptr<Generator> generator_;
};

}  // namespace htevents::inline v0::detail
