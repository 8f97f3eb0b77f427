#include "message/encoder.hpp"

#include <cmath>

#include "message/message_id.hpp"
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
  if (char* p = reserve(max_timestamp_size)) cur_ = write_now_timestamp(p);
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
