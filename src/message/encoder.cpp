#include "message/encoder.hpp"

#include <cmath>
#include <concepts>
#include <string_view>

#include "message/copy_short.hpp"
#include "message/json_string.hpp"
#include "message/json_time.hpp"
#include "message/message_id.hpp"
#include "message/uuid.hpp"
#include "message/value_encoding.hpp"

namespace htevents::inline v0::detail {

// ---- MessageArena: the encoding members ----
// Here rather than in message_arena.cpp so that the encoders below inline them.

void MessageArena::value(Value const& v) noexcept { encode_value(*this, v); }
void MessageArena::object(Object const& o, std::string_view skip_key) noexcept { encode_object(*this, o, skip_key); }
void MessageArena::timestamp(Timestamp t) noexcept {
  if (char* p = reserve(max_timestamp_size)) cur_ = write_timestamp(p, t);
}
void MessageArena::now() noexcept {
  if (char* p = reserve(max_timestamp_size)) cur_ = producer_.now.write(p);
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

// Each message is written in two parts. The fixed part, from `{"type":...` to the timestamp,
// is strings only: its worst case is known up front, and when the block has room for it, it is
// written with one reservation through ReservedOut, without a check per piece (each of those
// reloaded the cursor, the limit and the status: any write through char* may store to them).
// Short of room, the same template writes it onto the MessageArena, checked. The objects
// (context, properties or traits, integrations) follow, checked.

// Writes into room reserved before: the pieces of MessageArena's interface the fixed part uses.
// Its pieces are forced inline, so that the cursor stays in a register: a ReservedOut passed
// by reference would be reloaded after every char store, as MessageArena is.
class ReservedOut {
 public:
  ReservedOut(char* p, UuidGenerator& uuids, NowText& now) noexcept : p_(p), uuids_(uuids), now_(now) {}
  void raw(std::string_view bytes) noexcept {
    copy_short(p_, bytes.data(), bytes.size());
    p_ += bytes.size();
  }
  void string(std::string_view s) noexcept { p_ = write_json_string_inline(p_, s); }
  void uuid() noexcept {
    *p_++ = '"';
    p_ = uuids_.write(p_);
    *p_++ = '"';
  }
  void timestamp(Timestamp t) noexcept { p_ = write_timestamp(p_, t); }
  void now() noexcept { p_ = now_.write(p_); }
  char* end() const noexcept { return p_; }

 private:
  char* p_;
  UuidGenerator& uuids_;
  NowText& now_;
};

// The most `key` and the string `s` can take.
std::size_t string_bound(std::string_view key, std::string_view s) noexcept {
  return key.size() + max_json_string_size(s.size());
}

// `{"type":"<type>","messageId":"<id>"`: the caller's id, or a generated one.
template <class Out>
[[gnu::always_inline]] inline void head(Out& out, std::string_view type_prefix,
                                        std::string const& message_id) noexcept {
  out.raw(type_prefix);
  if (message_id.empty()) {
    out.uuid();
  } else {
    out.string(message_id);
  }
}

std::size_t head_bound(std::string_view type_prefix, std::string const& message_id) noexcept {
  return type_prefix.size() + (message_id.empty() ? UuidGenerator::size + 2 : max_json_string_size(message_id.size()));
}

template <class Out, class Message>
[[gnu::always_inline]] inline void timestamp(Out& out, Message const& m) noexcept {
  out.raw(R"(,"timestamp":)");
  if (m.timestamp) {
    out.timestamp(*m.timestamp);
  } else {
    out.now();
  }
}

constexpr std::size_t timestamp_bound = std::string_view(R"(,"timestamp":)").size() + max_timestamp_size;

// Each type's opening, up to its messageId's value.
constexpr std::string_view type_prefix(Identify const&) noexcept { return R"({"type":"identify","messageId":)"; }
constexpr std::string_view type_prefix(Track const&) noexcept { return R"({"type":"track","messageId":)"; }
constexpr std::string_view type_prefix(Page const&) noexcept { return R"({"type":"page","messageId":)"; }
constexpr std::string_view type_prefix(Screen const&) noexcept { return R"({"type":"screen","messageId":)"; }
constexpr std::string_view type_prefix(Group const&) noexcept { return R"({"type":"group","messageId":)"; }
constexpr std::string_view type_prefix(Alias const&) noexcept { return R"({"type":"alias","messageId":)"; }

// Each type's strings between the head and the timestamp (see above; alias has no
// anonymousId), once, in wire order:
// each is handed to `each(key_with_colon, value, required)`. Both the bound and the writer
// below walk this list, so they cannot disagree. An optional string is left out when empty.
// The optional pair every type but alias starts with.
template <class M, class Each>
[[gnu::always_inline]] inline void optional_user_strings(M const& m, Each&& each) noexcept {
  each(R"(,"anonymousId":)", m.anonymous_id, false);
  each(R"(,"userId":)", m.user_id, false);
}
template <class Each>
[[gnu::always_inline]] inline void fixed_strings(Identify const& m, Each&& each) noexcept {
  optional_user_strings(m, each);
}
template <class Each>
[[gnu::always_inline]] inline void fixed_strings(Track const& m, Each&& each) noexcept {
  optional_user_strings(m, each);
  each(R"(,"event":)", m.event, true);
}
template <class PageOrScreen, class Each>
requires std::same_as<PageOrScreen, Page> || std::same_as<PageOrScreen, Screen>
[[gnu::always_inline]] inline void fixed_strings(PageOrScreen const& m, Each&& each) noexcept {
  optional_user_strings(m, each);
  each(R"(,"name":)", m.name, false);
}
template <class Each>
[[gnu::always_inline]] inline void fixed_strings(Group const& m, Each&& each) noexcept {
  optional_user_strings(m, each);
  each(R"(,"groupId":)", m.group_id, true);
}
template <class Each>
[[gnu::always_inline]] inline void fixed_strings(Alias const& m, Each&& each) noexcept {
  each(R"(,"previousId":)", m.previous_id, true);
  each(R"(,"userId":)", m.user_id, true);
}

// The most the fixed part of `m` can take.
template <class Message>
std::size_t fixed_part_bound(Message const& m) noexcept {
  std::size_t n = head_bound(type_prefix(m), m.message_id) + timestamp_bound;
  fixed_strings(m, [&](std::string_view key, std::string_view value, bool) { n += string_bound(key, value); });
  return n;
}

// The fixed part of `m`: onto a ReservedOut inside its bound, or onto the MessageArena, checked.
template <class Out, class Message>
[[gnu::always_inline]] inline void write_fixed_part(Out& out, Message const& m) noexcept {
  head(out, type_prefix(m), m.message_id);
  // Forced inline like the rest: a lambda call out of line would hold `out` by reference.
  fixed_strings(
      m, [&](std::string_view key, std::string_view value, bool required) __attribute__((always_inline)) {
        if (!required && value.empty()) return;
        out.raw(key);
        out.string(value);
      });
  timestamp(out, m);
}

void optional_object(MessageArena& out, std::string_view key_with_colon, Object const& o) noexcept {
  if (o.empty()) return;
  out.raw(key_with_colon);
  out.object(o);
}

// The fixed part, then the context: under one reservation when the block has room for the
// fixed part's worst case, piece by piece otherwise.
template <class Message>
void fixed_part_and_context(MessageArena& out, Message const& m) noexcept {
  std::size_t const bound = fixed_part_bound(m);
  char* const p = bound <= out.room() ? out.reserve(bound) : nullptr;
  if (p != nullptr) {
    ReservedOut reserved(p, out.uuids(), out.now_text());
    write_fixed_part(reserved, m);
    out.advance(reserved.end());
  } else {
    write_fixed_part(out, m);
  }
  optional_object(out, R"(,"context":)", m.context);
}

}  // namespace

void encode(MessageArena& out, Identify const& m) noexcept {
  fixed_part_and_context(out, m);
  optional_object(out, R"(,"traits":)", m.traits);
  optional_object(out, R"(,"integrations":)", m.integrations);
  out.raw('}');
}

void encode(MessageArena& out, Track const& m) noexcept {
  fixed_part_and_context(out, m);
  optional_object(out, R"(,"properties":)", m.properties);
  optional_object(out, R"(,"integrations":)", m.integrations);
  out.raw('}');
}

void encode(MessageArena& out, Page const& m) noexcept {
  fixed_part_and_context(out, m);
  optional_object(out, R"(,"properties":)", m.properties);
  optional_object(out, R"(,"integrations":)", m.integrations);
  out.raw('}');
}

void encode(MessageArena& out, Screen const& m) noexcept {
  fixed_part_and_context(out, m);
  optional_object(out, R"(,"properties":)", m.properties);
  optional_object(out, R"(,"integrations":)", m.integrations);
  out.raw('}');
}

void encode(MessageArena& out, Group const& m) noexcept {
  fixed_part_and_context(out, m);
  optional_object(out, R"(,"traits":)", m.traits);
  optional_object(out, R"(,"integrations":)", m.integrations);
  out.raw('}');
}

void encode(MessageArena& out, Alias const& m) noexcept {
  fixed_part_and_context(out, m);
  optional_object(out, R"(,"integrations":)", m.integrations);
  out.raw('}');
}

}  // namespace htevents::inline v0::detail
