// The fast path: a message written call by call into the producer's draft. Top-level keys come
// first, then the properties/traits object; send() closes it and adds the defaults
// (messageId, timestamp). Key order differs from the struct encoder's; JSON does not care.

#include "htevents/writer.hpp"

#include <algorithm>
#include <cstring>

#include "client_core.hpp"
#include "message/message_arena.hpp"
#include "message/message_id.hpp"

namespace htevents::inline v0::detail {
namespace {

// What the head argument of track/group/alias must not be without.
Status head_status(MessageType type, bool has_head) noexcept {
  if (has_head) return Status::ok;
  switch (type) {
    case MessageType::track: return Status::missing_event;
    case MessageType::group: return Status::missing_group_id;
    case MessageType::alias: return Status::missing_previous_id;
    default: return Status::ok;
  }
}

// The writer keeps the draft's cursor itself (the inline members advance it); the arena reads
// the draft from the producer. Hand the cursor over before an out-of-line step and take it
// back after it (the step may have moved the draft to a new block).
MessageArena resume(Intake& intake, Producer& producer, char const* cur) noexcept {
  if (Block* block = producer.block.load(std::memory_order_relaxed); cur != nullptr && block != nullptr) {
    producer.draft = static_cast<std::uint32_t>(cur - (block->data() + producer.pos));
  }
  return MessageArena(intake, producer);
}

}  // namespace

void WriterCore::keep(MessageArena& out) noexcept {
  out.save();
  cur_ = out.cursor();
  end_ = out.limit();
  status_ = out.status();
}

WriterCore::WriterCore(ClientCore* client, MessageType type, std::string_view head) noexcept
    : client_(client), type_(type) {
  bool const has_head = !head.empty();
  if (open(has_head, wire::max_head_prefix + max_json_string_size(head.size()))) {
    // identify has no head; page and screen write their optional name only when given.
    char* const p = write_head_prefix(cur_, type, has_head);
    cur_ = has_head ? write_json_string_inline(p, head) : p;  // identify passes no head
  } else if (owner_) {
    open_slow(head);
  }
}

// The usual case without a call in it, so that it saves no registers: this thread's producer
// is the cached one, the client open, no writer open on it, a head given, no reclaim request
// and room in the block. Anything else is open_general's, which checks it all again; a reclaim
// request seen after the hold is settled by open_held.
bool WriterCore::open(bool has_head, std::size_t room) noexcept {
  if (client_ == nullptr) return false;  // status_ stays closed
  Intake& intake = client_->intake();
  Producer* const producer = intake.cached_producer();
  if (producer == nullptr || intake.closed() || producer->writer_open || !has_head) [[unlikely]] {
    return open_general(has_head, room);
  }
  producer_ = producer;
  status_ = Status::ok;
  owner_ = true;
  producer->writer_open = true;
  raise_hold(*producer);  // hold_block(), its settle_reclaim() below
  if (producer->reclaim.load(std::memory_order_relaxed) != Producer::reclaim_none) [[unlikely]] {
    return open_held(room);
  }
  return take_room(*producer, room);  // not producer_, which the barrier in raise_hold() makes a reload
}
[[gnu::noinline]] bool WriterCore::open_held(std::size_t room) noexcept {
  answer_reclaim(*producer_);
  return take_room(*producer_, room);
}
// The draft's cursor and the block's end, when the producer's block has `room` bytes left.
inline bool WriterCore::take_room(Producer const& producer, std::size_t room) noexcept {
  Block* const block = producer.block.load(std::memory_order_relaxed);
  if (block == nullptr) return false;
  char* const p = block->data() + producer.pos + producer.draft;
  char* const end = block->data() + block->capacity;
  if (static_cast<std::size_t>(end - p) < room) return false;
  cur_ = p;
  end_ = end;
  return true;
}
[[gnu::noinline]] bool WriterCore::open_general(bool has_head, std::size_t room) noexcept {
  Intake& intake = client_->intake();
  producer_ = intake.this_thread_producer();
  if (producer_ == nullptr) {
    stop(intake.closed() ? intake.refusal() : Status::queue_full);
    return false;
  }
  // An early answer only: send() checks `closed` again under the close handshake.
  if (intake.closed()) {
    stop(intake.refusal());
    return false;
  }
  if (producer_->writer_open) {
    stop(Status::invalid_usage);
    return false;
  }
  if (Status const status = head_status(type_, has_head); status != Status::ok) {
    stop(status);
    return false;
  }
  status_ = Status::ok;
  owner_ = true;
  producer_->writer_open = true;
  hold_block(*producer_);  // the draft lives in the block until send(): no reclaimer may take it
  return take_room(*producer_, room);
}

void WriterCore::open_slow(std::string_view head) noexcept {
  MessageArena out(client_->intake(), *producer_);
  bool const has_head = !head.empty();
  if (char* p = out.reserve(wire::max_head_prefix)) out.advance(write_head_prefix(p, type_, has_head));
  // identify passes no head; page and screen write their optional name only when given;
  // track, group and alias never get here without one (head_status).
  if (has_head) out.string(head);
  keep(out);
}

WriterCore::WriterCore(WriterCore&& other) noexcept
    : client_(other.client_),
      producer_(other.producer_),
      cur_(other.cur_),
      end_(other.end_),
      status_(other.status_),
      type_(other.type_),
      owner_(other.owner_),
      fields_open_(other.fields_open_),
      has_user_(other.has_user_),
      has_anonymous_(other.has_anonymous_),
      has_message_id_(other.has_message_id_),
      has_timestamp_(other.has_timestamp_) {
  other.owner_ = false;
  other.producer_ = nullptr;
}

void WriterCore::discard_unsent() noexcept {
  MessageArena(client_->intake(), *producer_).discard();  // never sent: nothing was accepted
  release();
}

inline void WriterCore::release_owned(Producer& producer) noexcept {
  producer.writer_open = false;
  unhold_block(producer);
  owner_ = false;
}
void WriterCore::release() noexcept {
  if (owner_) release_owned(*producer_);
  owner_ = false;
}

bool WriterCore::top_level_allowed() noexcept {
  if (status_ != Status::ok) return false;
  if (fields_open_) {
    stop(Status::invalid_usage);
    return false;
  }
  return true;
}

void WriterCore::top_string(std::string_view key, std::string_view value) noexcept {
  if (!top_level_allowed()) return;
  MessageArena out = resume(client_->intake(), *producer_, cur_);
  out.key(key, true);
  out.string(value);
  keep(out);
}

void WriterCore::top_fragment(std::string_view key_and_colon, std::string_view value) noexcept {
  if (!top_level_allowed()) return;
  MessageArena out = resume(client_->intake(), *producer_, cur_);
  out.raw(key_and_colon);
  out.string(value);
  keep(out);
}

void WriterCore::top_object(std::string_view key, Object const& value) noexcept {
  if (!top_level_allowed() || value.empty()) return;
  MessageArena out = resume(client_->intake(), *producer_, cur_);
  out.key(key, true);
  out.object(value);
  keep(out);
}

void WriterCore::user_id_slow(std::string_view id) noexcept {
  if (id.empty()) return;
  top_fragment(wire::user_id_key, id);
  has_user_ = true;
}

void WriterCore::anonymous_id_slow(std::string_view id) noexcept {
  if (id.empty()) return;
  top_fragment(wire::anonymous_id_key, id);
  has_anonymous_ = true;
}

void WriterCore::message_id(std::string_view id) noexcept {
  if (id.empty()) return;
  if (message_id_too_long(id)) {
    if (status_ == Status::ok) stop(Status::invalid_message_id);  // send() reports it
    return;
  }
  top_fragment(wire::message_id_key, id);
  has_message_id_ = true;
}

void WriterCore::timestamp(Timestamp t) noexcept {
  if (!top_level_allowed()) return;
  MessageArena out = resume(client_->intake(), *producer_, cur_);
  out.raw(wire::timestamp_key);
  out.timestamp(t);
  keep(out);
  has_timestamp_ = true;
}

// Opens the fields object on first use and writes `"key":`; the caller writes the value.
template <class WriteValue>
void WriterCore::slow_member(std::string_view key, WriteValue&& write_value) noexcept {
  if (status_ != Status::ok) return;
  MessageArena out = resume(client_->intake(), *producer_, cur_);
  bool const comma = fields_open_;
  if (!fields_open_) {
    out.raw(wire::fields_open(type_));
    fields_open_ = true;
  }
  out.key(key, comma);
  write_value(out);
  keep(out);
}

#define HTEVENTS_MEMBER(ParamType, WRITE)                                        \
  void WriterCore::member_slow(std::string_view key, ParamType value) noexcept { \
    slow_member(key, [&](MessageArena& out) noexcept { WRITE; });                \
  }

HTEVENTS_MEMBER(std::string_view, out.string(value))
HTEVENTS_MEMBER(bool, out.raw(value ? std::string_view("true") : std::string_view("false")))
HTEVENTS_MEMBER(std::int64_t, out.integer(value))
HTEVENTS_MEMBER(std::uint64_t, out.integer(value))
HTEVENTS_MEMBER(double, out.number(value))
HTEVENTS_MEMBER(Timestamp, out.timestamp(value))
HTEVENTS_MEMBER(Value const&, out.value(value))
#undef HTEVENTS_MEMBER

void WriterCore::member_slow(std::string_view key, std::nullptr_t) noexcept {
  slow_member(key, [](MessageArena& out) noexcept { out.raw("null"); });
}

// send() when the block has room for the message's ending (the usual case): the ending is
// written at the cursor and the record pushed, without a MessageArena and its reservation.
// The same steps and checks as send()'s general path below: close handshake, size limit, push.
// Inlined into send(): its own prologue and epilogue were a third of its cost.
[[gnu::always_inline]] inline Status WriterCore::send_in_place() noexcept {
  Intake& intake = client_->intake();
  Producer& producer = *producer_;
  char const* const begin = producer.block.load(std::memory_order_relaxed)->data() + producer.pos;
  char const* const end =
      write_message_tail(cur_, producer.uuid, producer.now, fields_open_, !has_message_id_, !has_timestamp_);
  auto const size = static_cast<std::size_t>(end - begin);
  Status status = Status::ok;
  if (!intake.begin_enqueue(producer)) {
    status = intake.refusal();
  } else if (size > intake.options().max_message_bytes) {
    status = Status::message_too_large;
  } else {
    status = intake.push(producer, static_cast<std::uint32_t>(size));
  }
  if (status != Status::ok) producer.draft = 0;  // discarded: nothing was accepted
  intake.end_enqueue(producer, status);
  // send() found this writer holding the draft: no second test of owner_, and the producer from
  // its register (the tail's char stores and the barriers above would make producer_ a reload).
  release_owned(producer);
  stop(status == Status::ok ? Status::invalid_usage : status);  // a second send() is misuse
  return status;
}

Status WriterCore::send() noexcept {
  // The usual message first, in as few tests as it takes: nothing failed, this writer holds the
  // draft (so producer_ is set), it has the user its type requires, and the tail fits.
  if (status_ == Status::ok && owner_ && has_required_user() &&
      static_cast<std::size_t>(end_ - cur_) >= max_message_tail) {
    return send_in_place();
  }
  return send_general();
}

// Every other case, in order: no producer, a failed or incomplete message, a second send(), no
// room for the tail in the block (the message is finished through a MessageArena).
[[gnu::noinline]] Status WriterCore::send_general() noexcept {
  if (producer_ == nullptr) return status_;  // no client, or no memory for a producer
  Status status = status_;
  if (status == Status::ok) {
    if (!has_required_user()) status = Status::missing_user_id;
  }
  if (!owner_) {
    if (status == Status::ok) status = Status::invalid_usage;  // already sent
    bump(producer_->rejected[static_cast<std::size_t>(status)]);
    return status;
  }
  MessageArena out = resume(client_->intake(), *producer_, cur_);
  if (status == Status::ok) {
    out.close_message(fields_open_, !has_message_id_, !has_timestamp_);
    if (!client_->intake().begin_enqueue(*producer_)) {
      status = client_->intake().refusal();
      out.fail(status);
      out.discard();
      client_->intake().end_enqueue(*producer_, status);
    } else {
      status = out.finish();
      client_->intake().end_enqueue(*producer_, status);
    }
  } else {
    out.discard();
    bump(producer_->rejected[static_cast<std::size_t>(status)]);
  }
  release();
  stop(status == Status::ok ? Status::invalid_usage : status);  // a second send() is misuse
  return status;
}

}  // namespace htevents::inline v0::detail
