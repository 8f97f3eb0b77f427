#pragma once
// A request body and everything the sender needs to send, retry and account for it. Batches
// come from a fixed pool and are reused: their buffers keep their capacity.

#include <array>
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

struct SpoolSegment;
struct Block;

// With a spool, the arena records a batch was built from stay in their blocks until the batch
// settles (delivered, failed, or written to a segment to wait there): a crash before that finds
// them in the arena file. Then each record is marked settled and its blocks let go.
struct HeldRecords {
  struct Run {
    Block* block;
    std::int64_t count;
  };
  std::vector<char*> frames;  // each record's frame in its block
  std::vector<Run> runs;      // consecutive records of one block, for the block's references
  bool empty() const noexcept { return frames.empty() && runs.empty(); }
};

// Where a batch sits in the spool (src/spool/spool.hpp): its record in a segment file.
struct SpoolLocation {
  SpoolSegment* segment = nullptr;
  std::uint64_t offset = 0;        // of the batch record in the segment
  std::uint32_t record_bytes = 0;  // header and body
  std::uint32_t messages = 0;
  explicit operator bool() const noexcept { return segment != nullptr; }
};

struct MessageSpan {
  // Left uninitialised by a resize: the serializer grows a batch's spans and then writes them
  // (Serializer::place_while_room), without zeroing them first.
  MessageSpan() noexcept {}  // NOLINT(modernize-use-equals-default): `= default` would zero them
  MessageSpan(std::uint32_t at, std::uint32_t size) noexcept : offset(at), length(size) {}
  std::uint32_t offset;
  std::uint32_t length;
};

struct Batch {
  Batch(std::size_t max_body_bytes, std::size_t max_messages) : body(max_body_bytes) {
    messages.reserve(max_messages);
    held.frames.reserve(max_messages);  // the serializer swaps its own (reserved) in and out
  }

  std::uint64_t serial = 0;
  std::array<char, 36> id{};                 // the batch messageId: kept across attempts (Envelope)
  std::size_t envelope_at = 0;               // where `],"sentAt":` starts in `body`; 0 = not closed
  ByteBuffer body;                           // uncompressed JSON request body
  std::vector<MessageSpan> messages;         // each message's bytes inside `body`, for on_failure
  ByteBuffer wire{0};                        // compressed body (unused for Compression::none)
  Compression encoding = Compression::none;  // what `wire_view()` holds
  int attempts = 0;
  std::chrono::steady_clock::time_point not_before{};       // next attempt no earlier than this
  std::chrono::steady_clock::time_point sent_at_written{};  // when the envelope's sentAt was set

  // Splitting (400, 413): a batch of the pool that was split stays out of the pool until every
  // piece has settled; the pieces are heap batches that point at it. See Sender::split.
  Batch* root = nullptr;        // for a piece: the pool batch it came from
  std::size_t pieces_left = 0;  // for a split root: pieces not settled yet
  int split_budget = 0;         // for a root: extra requests its splits may still make
  bool any_failed = false;      // for a root: some piece failed (the root is not "sent")

  // With a spool: where this batch is on disk (empty when it is in memory only).
  SpoolLocation spooled{};
  // Read back from the spool (parked or adopted): a heap batch, not one of the pool.
  bool from_spool = false;
  HeldRecords held;                 // spool: arena records not yet settled
  std::int64_t opened_unix_ms = 0;  // spool: when the batch opened (segment header, inspect)

  // The last answer or transport error this batch had, for a later failure's detail.
  long last_status = 0;
  std::string last_error;

  std::string_view wire_view() const noexcept { return encoding == Compression::none ? body.view() : wire.view(); }
  std::string_view message(std::size_t i) const noexcept {
    return body.view().substr(messages[i].offset, messages[i].length);
  }
  void clear() noexcept {
    body.resize(0);
    wire.resize(0);
    messages.clear();
    attempts = 0;
    not_before = {};
    envelope_at = 0;
    root = nullptr;
    pieces_left = 0;
    split_budget = 0;
    any_failed = false;
    last_status = 0;
    last_error.clear();
    spooled = {};
    held.frames.clear();  // a pool batch is cleared only after its records were settled
    held.runs.clear();
  }
};

}  // namespace htevents::inline v0::detail
