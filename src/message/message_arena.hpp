#pragma once
// MessageArena: a cursor that encodes one message into its producer's arena block. When the
// block runs out, the draft moves to a fresh block (the backpressure policy decides whether one
// can be had). Errors are sticky: after the first one every write is a no-op and finish()
// reports it.

#include <cmath>
#include <cstring>
#include <string_view>

#include "htevents/status.hpp"
#include "htevents/value.hpp"
#include "message/copy_short.hpp"
#include "message/json_primitives.hpp"
#include "message/json_time.hpp"
#include "message/value_encoding.hpp"
#include "queue/intake.hpp"
#include "queue/producer.hpp"

namespace htevents::inline v0::detail {

// The fast path's message ending: `}` of the fields object when it is open, the generated
// messageId and timestamp where the caller set none, and the message's own `}`, written at `p`
// (which has room for max_message_tail bytes). Returns the end. Inline: in the fast path's
// send() its five arguments are mostly constants and registers already.
[[gnu::always_inline]] inline char* write_message_tail(char* p, UuidGenerator& uuid, NowText& now, bool close_fields,
                                                       bool add_message_id, bool add_timestamp) noexcept {
  constexpr std::string_view id_key = R"(,"messageId":")";
  constexpr std::string_view time_key = R"(,"timestamp":)";
  if (close_fields) *p++ = '}';
  if (add_message_id) {
    std::memcpy(p, id_key.data(), id_key.size());
    p = uuid.write(p + id_key.size());
    *p++ = '"';
  }
  if (add_timestamp) {
    std::memcpy(p, time_key.data(), time_key.size());
    p = now.write(p + time_key.size());
  }
  *p++ = '}';
  return p;
}
inline constexpr std::size_t max_message_tail = 2 + std::string_view(R"(,"messageId":")").size() + UuidGenerator::size +
                                                1 + std::string_view(R"(,"timestamp":)").size() + max_timestamp_size;

class MessageArena {
 public:
  // Resumes the producer's draft (empty for a new message).
  MessageArena(Intake& intake, Producer& producer) noexcept : intake_(intake), producer_(producer) {
    if (Block* block = producer.block.load(std::memory_order_relaxed); block != nullptr) {
      begin_ = block->data() + producer.pos;
      cur_ = begin_ + producer.draft;
      end_ = block->data() + block->capacity;
    }
  }

  // At least `n` (> 0) writable bytes at the cursor, or nullptr once an error is set: fail()
  // takes the room away, so the one test here also stands for the status (grow checks it).
  char* reserve(std::size_t n) noexcept {
    if (static_cast<std::size_t>(end_ - cur_) >= n) return cur_;
    return grow(n);
  }
  void advance(char* new_cursor) noexcept { cur_ = new_cursor; }

  void raw(std::string_view bytes) noexcept {
    if (char* p = reserve(bytes.size())) {
      copy_short(p, bytes.data(), bytes.size());
      cur_ = p + bytes.size();
    }
  }
  std::size_t room() const noexcept { return static_cast<std::size_t>(end_ - cur_); }
  void raw(char c) noexcept {
    if (char* p = reserve(1)) {
      *p = c;
      cur_ = p + 1;
    }
  }
  // Inline (bodies below): the fast path's per-call work is mostly these.
  void string(std::string_view s) noexcept;
  // `,"key":` (or `"key":` after `{`): the caller tracks whether a comma is needed.
  void key(std::string_view key, bool comma) noexcept;
  void integer(std::int64_t v) noexcept;
  void integer(std::uint64_t v) noexcept;
  void number(double v) noexcept;
  // value, object, timestamp and now: defined in encoder.cpp, whose encoders inline them.
  void value(Value const& v) noexcept;
  void object(Object const& o, std::string_view skip_key = {}) noexcept;
  void timestamp(Timestamp t) noexcept;
  // The time of the call, to the millisecond (wire-format.md allows millisecond precision).
  void now() noexcept;
  // The fast path's ending, with one reservation: `}` of the fields object, the generated
  // messageId and timestamp where the caller set none, and the message's own `}`.
  void close_message(bool close_fields, bool add_message_id, bool add_timestamp) noexcept;
  void uuid() noexcept;
  // The producer's generator, for writers that fill a reservation themselves.
  UuidGenerator& uuids() noexcept { return producer_.uuid; }
  NowText& now_text() noexcept { return producer_.now; }

  // The first error stays; no room is left after it (reserve), so nothing more is written.
  void fail(Status status) noexcept {
    if (status_ == Status::ok) status_ = status;
    end_ = cur_;
  }
  Status status() const noexcept { return status_; }
  std::size_t size() const noexcept { return static_cast<std::size_t>(cur_ - begin_); }
  char* cursor() const noexcept { return cur_; }
  char* limit() const noexcept { return end_; }
  // Last byte written, or 0 when nothing is.
  char back() const noexcept { return cur_ == begin_ ? '\0' : cur_[-1]; }

  // Keeps the draft for the next call (fast-path writers).
  void save() noexcept { producer_.draft = static_cast<std::uint32_t>(size()); }
  // Checks the size and queues the message; on error the draft is discarded.
  Status finish() noexcept;
  // Drops the draft.
  void discard() noexcept;

 private:
  char* grow(std::size_t n) noexcept;
  // The draft's first `used` bytes are at the fresh block's first record: it becomes the
  // producer's block, and the cursor's.
  char* move_to(Block* fresh, std::size_t used) noexcept;

  Intake& intake_;
  Producer& producer_;
  char* begin_ = nullptr;
  char* cur_ = nullptr;
  char* end_ = nullptr;
  Status status_ = Status::ok;
};

inline void MessageArena::string(std::string_view s) noexcept { encode_string(*this, s); }
inline void MessageArena::key(std::string_view k, bool comma) noexcept { encode_key(*this, k, comma); }
inline void MessageArena::integer(std::int64_t v) noexcept {
  if (char* p = reserve(max_integer_size)) cur_ = write_integer(p, v);
}
inline void MessageArena::integer(std::uint64_t v) noexcept {
  if (char* p = reserve(max_integer_size)) cur_ = write_integer(p, v);
}
inline void MessageArena::number(double v) noexcept {
  if (!std::isfinite(v)) return fail(Status::invalid_number);
  if (char* p = reserve(max_double_size)) cur_ = write_double(p, v);
}

}  // namespace htevents::inline v0::detail
