// The C API's messages: the six calls and htevents_enqueue_json. Each builds the C++ message
// struct and enqueues it, so validation, encoding and statuses are the C++ API's own.

#include <string_view>
#include <variant>

#include "capi/c_text.hpp"
#include "capi/guarded.hpp"
#include "capi/handles.hpp"
#include "capi/json_members.hpp"
#include "capi/message_json.hpp"

namespace {

using htevents::Status;
using htevents::detail::c_arg;
using htevents::detail::guarded;

// An absent *_json leaves `out` empty.
Status members(char const* json, htevents::Object& out) {
  return json == nullptr ? Status::ok : htevents::detail::parse_json_members(json, out);
}

template <class Message>
int enqueue(htevents_client* client, Message const& message) noexcept {
  return static_cast<int>(client->client.enqueue(message));
}

}  // namespace

extern "C" {

int htevents_identify(htevents_client* client, char const* user_id, char const* anonymous_id, char const* traits_json) {
  if (client == nullptr) return HTEVENTS_INVALID_ARGUMENT;
  return guarded([&] {
    htevents::Identify m{.user_id = std::string(c_arg(user_id)), .anonymous_id = std::string(c_arg(anonymous_id))};
    if (Status const s = members(traits_json, m.traits); s != Status::ok) return static_cast<int>(s);
    return enqueue(client, m);
  });
}

int htevents_track(htevents_client* client, char const* user_id, char const* anonymous_id, char const* event,
                   char const* properties_json) {
  if (client == nullptr) return HTEVENTS_INVALID_ARGUMENT;
  return guarded([&] {
    htevents::Track m{.user_id = std::string(c_arg(user_id)),
                      .anonymous_id = std::string(c_arg(anonymous_id)),
                      .event = std::string(c_arg(event))};
    if (Status const s = members(properties_json, m.properties); s != Status::ok) return static_cast<int>(s);
    return enqueue(client, m);
  });
}

int htevents_page(htevents_client* client, char const* user_id, char const* anonymous_id, char const* name,
                  char const* properties_json) {
  if (client == nullptr) return HTEVENTS_INVALID_ARGUMENT;
  return guarded([&] {
    htevents::Page m{.user_id = std::string(c_arg(user_id)),
                     .anonymous_id = std::string(c_arg(anonymous_id)),
                     .name = std::string(c_arg(name))};
    if (Status const s = members(properties_json, m.properties); s != Status::ok) return static_cast<int>(s);
    return enqueue(client, m);
  });
}

int htevents_screen(htevents_client* client, char const* user_id, char const* anonymous_id, char const* name,
                    char const* properties_json) {
  if (client == nullptr) return HTEVENTS_INVALID_ARGUMENT;
  return guarded([&] {
    htevents::Screen m{.user_id = std::string(c_arg(user_id)),
                       .anonymous_id = std::string(c_arg(anonymous_id)),
                       .name = std::string(c_arg(name))};
    if (Status const s = members(properties_json, m.properties); s != Status::ok) return static_cast<int>(s);
    return enqueue(client, m);
  });
}

int htevents_group(htevents_client* client, char const* user_id, char const* anonymous_id, char const* group_id,
                   char const* traits_json) {
  if (client == nullptr) return HTEVENTS_INVALID_ARGUMENT;
  return guarded([&] {
    htevents::Group m{.user_id = std::string(c_arg(user_id)),
                      .anonymous_id = std::string(c_arg(anonymous_id)),
                      .group_id = std::string(c_arg(group_id))};
    if (Status const s = members(traits_json, m.traits); s != Status::ok) return static_cast<int>(s);
    return enqueue(client, m);
  });
}

int htevents_alias(htevents_client* client, char const* user_id, char const* previous_id) {
  if (client == nullptr) return HTEVENTS_INVALID_ARGUMENT;
  return guarded([&] {
    return enqueue(client, htevents::Alias{.user_id = std::string(c_arg(user_id)),
                                           .previous_id = std::string(c_arg(previous_id))});
  });
}

int htevents_enqueue_json(htevents_client* client, char const* message_json, size_t length) {
  if (client == nullptr || message_json == nullptr) return HTEVENTS_INVALID_ARGUMENT;
  return guarded([&] {
    htevents::detail::AnyMessage message;
    if (Status const s = htevents::detail::parse_message_json({message_json, length}, message); s != Status::ok)
      return static_cast<int>(s);
    return std::visit([&](auto const& m) { return enqueue(client, m); }, message);
  });
}

}  // extern "C"
