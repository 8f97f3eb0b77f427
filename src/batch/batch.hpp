#pragma once
// A request body and everything the sender needs to send, retry and account for it. Batches
// come from a fixed pool and are reused: their buffers keep their capacity.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "htevents/config.hpp"

namespace htevents::inline v0::detail {

// A byte buffer that keeps its capacity and never zero-fills: untouched pages of a large,
// rarely-full buffer cost no resident memory.
class ByteBuffer {
 public:
  explicit ByteBuffer(std::size_t capacity) : data_(new char[capacity]), capacity_(capacity) {}
  char* data() noexcept { return data_.get(); }
  char const* data() const noexcept { return data_.get(); }
  std::size_t capacity() const noexcept { return capacity_; }
  std::size_t size() const noexcept { return size_; }
  void resize(std::size_t n) noexcept { size_ = n; }
  std::string_view view() const noexcept { return {data_.get(), size_}; }
  // Grows (dropping the contents) when `n` exceeds the capacity.
  void reserve_discard(std::size_t n) {
    if (n <= capacity_) return;
    data_.reset(new char[n]);
    capacity_ = n;
  }

 private:
  std::unique_ptr<char[]> data_;
  std::size_t capacity_;
  std::size_t size_ = 0;
};

struct MessageSpan {
  std::uint32_t offset;
  std::uint32_t length;
};

struct Batch {
  Batch(std::size_t max_body_bytes, std::size_t max_messages) : body(max_body_bytes) {
    messages.reserve(max_messages);
  }

  std::uint64_t serial = 0;
  ByteBuffer body;                    // uncompressed JSON request body
  std::vector<MessageSpan> messages;  // each message's bytes inside `body`, for on_failure
  ByteBuffer wire{0};                 // compressed body (unused for Compression::none)
  Compression encoding = Compression::none;  // what `wire_view()` holds
  int attempts = 0;
  std::chrono::steady_clock::time_point not_before{};  // next attempt no earlier than this

  std::string_view wire_view() const noexcept {
    return encoding == Compression::none ? body.view() : wire.view();
  }
  std::string_view message(std::size_t i) const noexcept {
    return body.view().substr(messages[i].offset, messages[i].length);
  }
  void clear() noexcept {
    body.resize(0);
    wire.resize(0);
    messages.clear();
    attempts = 0;
    not_before = {};
  }
};

}  // namespace htevents::inline v0::detail
