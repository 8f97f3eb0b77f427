#include "message/encoder.hpp"

#include <cmath>

#include "common/fast_clock.hpp"
#include "message/message_id.hpp"
#include "message/value_encoding.hpp"

namespace htevents::inline v0::detail {

// ---- MessageArena ----


char* MessageArena::grow(std::size_t n) noexcept {
  if (status_ != Status::ok) return nullptr;
  std::size_t const used = size();
  // Reservations are exact for anything large (see string()), so a message that cannot fit its
  // limit plus a small slack for number reservations is too large already.
  constexpr std::size_t slack = 64;
  if (used + n > intake_.options().max_message_bytes + slack) {
    fail(Status::message_too_large);
    return nullptr;
  }
  Block* fresh = intake_.next_block(producer_);
  if (fresh == nullptr) {
    fail(intake_.closed() ? intake_.refusal() : Status::queue_full);
    return nullptr;
  }
  // Copy the draft before the old block is retired: once retired it may be reused at once.
  if (used > 0) std::memcpy(fresh->data(), begin_, used);
  intake_.retire_block(producer_);
  producer_.block.store(fresh, std::memory_order_relaxed);
  producer_.pos = 0;
  begin_ = fresh->data();
  cur_ = begin_ + used;
  end_ = begin_ + fresh->capacity;
  return cur_;
}

void MessageArena::value(Value const& v) noexcept { encode_value(*this, v); }
void MessageArena::object(Object const& o, std::string_view skip_key) noexcept { encode_object(*this, o, skip_key); }
void MessageArena::timestamp(Timestamp t) noexcept {
  if (char* p = reserve(max_timestamp_size)) cur_ = write_timestamp(p, t);
}

namespace {
// The last millisecond this thread formatted: at high rates most messages share it, and a copy
// of 26 bytes replaces the formatting.
struct NowCache {
  std::int64_t millis = -1;
  std::size_t length = 0;
  char text[max_timestamp_size] = {};
};
thread_local NowCache now_cache;
}  // namespace

char* write_now_timestamp(char* out) noexcept {
  using namespace std::chrono;
  std::int64_t const millis = duration_cast<milliseconds>(fast_now().time_since_epoch()).count();
  NowCache& cache = now_cache;
  if (cache.millis != millis) {
    char* end = write_timestamp(cache.text, system_clock::time_point(milliseconds(millis)));
    cache.length = static_cast<std::size_t>(end - cache.text);
    cache.millis = millis;
  }
  copy_short(out, cache.text, cache.length);
  return out + cache.length;
}

void MessageArena::now() noexcept {
  if (char* p = reserve(max_timestamp_size)) cur_ = write_now_timestamp(p);
}

void MessageArena::close_message(bool close_fields, bool add_message_id, bool add_timestamp) noexcept {
  constexpr std::string_view id_key = R"(,"messageId":")";
  constexpr std::string_view time_key = R"(,"timestamp":)";
  char* p = reserve(2 + id_key.size() + UuidGenerator::size + 1 + time_key.size() + max_timestamp_size);
  if (p == nullptr) return;
  if (close_fields) *p++ = '}';
  if (add_message_id) {
    std::memcpy(p, id_key.data(), id_key.size());
    p = producer_.uuid.write(p + id_key.size());
    *p++ = '"';
  }
  if (add_timestamp) {
    std::memcpy(p, time_key.data(), time_key.size());
    p = write_now_timestamp(p + time_key.size());
  }
  *p++ = '}';
  cur_ = p;
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

// ---- validation ----

namespace {

bool has_user(std::string const& user_id, std::string const& anonymous_id) noexcept {
  return !user_id.empty() || !anonymous_id.empty();
}

// The rules every type shares, after the type's own.
template <class Message>
Status common_rules(Message const& m) noexcept {
  if constexpr (requires { m.anonymous_id; }) {
    if (!has_user(m.user_id, m.anonymous_id)) return Status::missing_user_id;
  }
  return message_id_too_long(m.message_id) ? Status::invalid_message_id : Status::ok;
}

}  // namespace

Status validate(Identify const& m) noexcept { return common_rules(m); }
Status validate(Track const& m) noexcept {
  if (m.event.empty()) return Status::missing_event;
  return common_rules(m);
}
Status validate(Page const& m) noexcept { return common_rules(m); }
Status validate(Screen const& m) noexcept { return common_rules(m); }
Status validate(Group const& m) noexcept {
  if (m.group_id.empty()) return Status::missing_group_id;
  return common_rules(m);
}
Status validate(Alias const& m) noexcept {
  if (m.user_id.empty()) return Status::missing_user_id;
  if (m.previous_id.empty()) return Status::missing_previous_id;
  return common_rules(m);
}

// ---- encoding ----

namespace {

// `{"type":"<type>","messageId":"<id>"` and the identity keys every type but alias shares.
template <class Message>
void head(MessageArena& out, std::string_view type_prefix, Message const& m) noexcept {
  out.raw(type_prefix);
  if (m.message_id.empty()) {
    out.uuid();
  } else {
    out.string(m.message_id);
  }
  if constexpr (requires { m.anonymous_id; }) {
    if (!m.anonymous_id.empty()) {
      out.raw(R"(,"anonymousId":)");
      out.string(m.anonymous_id);
    }
  }
}

void optional_string(MessageArena& out, std::string_view key_with_colon, std::string const& s) noexcept {
  if (s.empty()) return;
  out.raw(key_with_colon);
  out.string(s);
}

void optional_object(MessageArena& out, std::string_view key_with_colon, Object const& o) noexcept {
  if (o.empty()) return;
  out.raw(key_with_colon);
  out.object(o);
}

template <class Message>
void timestamp_and_context(MessageArena& out, Message const& m) noexcept {
  out.raw(R"(,"timestamp":)");
  if (m.timestamp) {
    out.timestamp(*m.timestamp);
  } else {
    out.now();
  }
  optional_object(out, R"(,"context":)", m.context);
}

template <class Message>
void page_like(MessageArena& out, std::string_view prefix, Message const& m) noexcept {
  head(out, prefix, m);
  optional_string(out, R"(,"userId":)", m.user_id);
  optional_string(out, R"(,"name":)", m.name);
  timestamp_and_context(out, m);
  optional_object(out, R"(,"properties":)", m.properties);
  optional_object(out, R"(,"integrations":)", m.integrations);
  out.raw('}');
}

}  // namespace

void encode(MessageArena& out, Identify const& m) noexcept {
  head(out, R"({"type":"identify","messageId":)", m);
  optional_string(out, R"(,"userId":)", m.user_id);
  timestamp_and_context(out, m);
  optional_object(out, R"(,"traits":)", m.traits);
  optional_object(out, R"(,"integrations":)", m.integrations);
  out.raw('}');
}

void encode(MessageArena& out, Track const& m) noexcept {
  head(out, R"({"type":"track","messageId":)", m);
  optional_string(out, R"(,"userId":)", m.user_id);
  out.raw(R"(,"event":)");
  out.string(m.event);
  timestamp_and_context(out, m);
  optional_object(out, R"(,"properties":)", m.properties);
  optional_object(out, R"(,"integrations":)", m.integrations);
  out.raw('}');
}

void encode(MessageArena& out, Page const& m) noexcept { page_like(out, R"({"type":"page","messageId":)", m); }
void encode(MessageArena& out, Screen const& m) noexcept { page_like(out, R"({"type":"screen","messageId":)", m); }

void encode(MessageArena& out, Group const& m) noexcept {
  head(out, R"({"type":"group","messageId":)", m);
  optional_string(out, R"(,"userId":)", m.user_id);
  out.raw(R"(,"groupId":)");
  out.string(m.group_id);
  timestamp_and_context(out, m);
  optional_object(out, R"(,"traits":)", m.traits);
  optional_object(out, R"(,"integrations":)", m.integrations);
  out.raw('}');
}

void encode(MessageArena& out, Alias const& m) noexcept {
  head(out, R"({"type":"alias","messageId":)", m);
  out.raw(R"(,"previousId":)");
  out.string(m.previous_id);
  out.raw(R"(,"userId":)");
  out.string(m.user_id);
  timestamp_and_context(out, m);
  optional_object(out, R"(,"integrations":)", m.integrations);
  out.raw('}');
}

}  // namespace htevents::inline v0::detail
