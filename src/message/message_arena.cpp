#include "message/message_arena.hpp"

#include <cstring>
#include <memory>
#include <new>

#include "message/json_time.hpp"
#include "message/uuid.hpp"
#include "message/value_encoding.hpp"

namespace htevents::inline v0::detail {

char* MessageArena::grow(std::size_t n) noexcept {
  if (status_ != Status::ok) return nullptr;
  std::size_t const used = size();
  // Reservations are exact for anything large (see encode_string), so a message that cannot fit its
  // limit plus a small slack for number reservations is too large already.
  constexpr std::size_t slack = 64;
  if (used + n > intake_.options().max_message_bytes + slack) {
    fail(Status::message_too_large);
    return nullptr;
  }
  std::uint32_t const first = intake_.first_record_offset();
  if (Block* fresh = intake_.try_next_block(producer_)) {
    // Copy the draft before the old block is retired: once retired it may be reused at once.
    if (used > 0) std::memcpy(fresh->data() + first, begin_, used);
    intake_.retire_block(producer_);
    return move_to(fresh, used);
  }
  if (!intake_.may_wait_for_block()) {
    fail(intake_.no_room_status());
    return nullptr;
  }
  // About to wait for room: the draft waits on the heap and the block goes back first. A block
  // its owner keeps while it waits cannot come back however much of it the serializer has
  // consumed; with every block held by a waiting thread, none would come back before
  // enqueue_timeout (docs/lifecycle.md, "Thread counts"). A rare path: one copy out, one in.
  std::unique_ptr<char[]> parked;
  if (used > 0) {
    parked.reset(new (std::nothrow) char[used]);
    if (parked != nullptr) std::memcpy(parked.get(), begin_, used);
  }
  bool const gave_up_block = used == 0 || parked != nullptr;  // no memory: wait with the block
  if (gave_up_block) {
    intake_.retire_block(producer_);
    begin_ = cur_ = end_ = nullptr;  // the block is no longer ours: nothing may write to it
  }
  Block* fresh = intake_.wait_for_block(producer_);
  if (fresh == nullptr) {
    fail(intake_.no_room_status());
    return nullptr;
  }
  if (used > 0) std::memcpy(fresh->data() + first, gave_up_block ? parked.get() : begin_, used);
  if (!gave_up_block) intake_.retire_block(producer_);
  return move_to(fresh, used);
}

char* MessageArena::move_to(Block* fresh, std::size_t used) noexcept {
  std::uint32_t const first = intake_.first_record_offset();
  producer_.block.store(fresh, std::memory_order_relaxed);
  producer_.pos = first;
  begin_ = fresh->data() + first;
  cur_ = begin_ + used;
  end_ = fresh->data() + fresh->capacity;  // the block's end: the record starts `first` bytes in
  return cur_;
}

void MessageArena::close_message(bool close_fields, bool add_message_id, bool add_timestamp) noexcept {
  if (char* p = reserve(max_message_tail)) {
    cur_ = write_message_tail(p, producer_.uuid, producer_.now, close_fields, add_message_id, add_timestamp);
  }
}

void MessageArena::uuid() noexcept {
  if (char* p = reserve(UuidGenerator::size + 2)) {
    *p++ = '"';
    p = producer_.uuid.write(p);
    *p++ = '"';
    cur_ = p;
  }
}

void MessageArena::discard() noexcept {
  producer_.draft = 0;
  cur_ = begin_;
}

Status MessageArena::finish() noexcept {
  if (status_ == Status::ok && size() > intake_.options().max_message_bytes) fail(Status::message_too_large);
  if (status_ == Status::ok) status_ = intake_.push(producer_, static_cast<std::uint32_t>(size()));
  if (status_ != Status::ok) discard();
  return status_;
}

}  // namespace htevents::inline v0::detail
