#include "batch/batch_channel.hpp"

namespace htevents::inline v0::detail {

BatchChannel::BatchChannel(std::size_t count, std::size_t max_body_bytes, std::size_t max_messages,
                           Compression encoding, Progress& progress)
    : pool_(count, max_body_bytes, max_messages), progress_(progress), encoding_(encoding) {
  // Room for every batch of the pool, reserved before any thread runs: hand() never reallocates.
  handed_.reserve(count);
}

void BatchChannel::connect(std::function<void()> wake_sender, std::function<void()> wake_serializer) {
  wake_sender_ = std::move(wake_sender);
  wake_serializer_ = std::move(wake_serializer);
}

void BatchChannel::hand(Batch* batch) noexcept {
  progress_.handed(batch->serial);
  {
    std::lock_guard lock(mutex_);
    handed_.push_back(batch);  // capacity reserved for the whole pool: never allocates
  }
  if (wake_sender_) wake_sender_();
}

void BatchChannel::close() noexcept {
  closed_.store(true, std::memory_order_release);
  if (wake_sender_) wake_sender_();
}

void BatchChannel::take_handed(std::vector<Batch*>& out) noexcept {
  std::lock_guard lock(mutex_);
  out.swap(handed_);
}

void BatchChannel::give_back(Batch* batch) noexcept {
  std::uint64_t const serial = batch->serial;
  pool_.give_back(batch);
  if (wake_serializer_) wake_serializer_();  // a batch buffer is free again
  progress_.finished(serial);
}

void BatchChannel::recycle(Batch* batch) noexcept {
  pool_.give_back(batch);
  if (wake_serializer_) wake_serializer_();
}

}  // namespace htevents::inline v0::detail
