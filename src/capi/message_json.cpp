#include "capi/message_json.hpp"

#include <simdjson.h>

#include <optional>
#include <string>

#include "capi/json_members.hpp"
#include "capi/rfc3339.hpp"

namespace htevents::inline v0::detail {
namespace {

using simdjson::SUCCESS;
using simdjson::ondemand::json_type;

// Every member a message may carry, before its type says which it takes.
struct Fields {
  std::string type, user_id, anonymous_id, event, name, group_id, previous_id, message_id;
  Object properties, traits, context, integrations;
  std::optional<Timestamp> timestamp;
  // Which type-specific members were present (not null), so that a type refuses the others.
  bool has_anonymous_id = false, has_event = false, has_name = false, has_group_id = false, has_previous_id = false,
       has_properties = false, has_traits = false;
};

// True for a well-formed null (type() looks at the first character only); consumes it.
bool is_null(simdjson::ondemand::value& value) noexcept {
  bool null = false;
  return value.is_null().get(null) == SUCCESS && null;
}

// Reads a string member; a null leaves `out` empty and `present` false.
bool read_string(simdjson::ondemand::value& value, std::string& out, bool& present) {
  json_type type{};
  if (value.type().get(type) != SUCCESS) return false;
  if (type == json_type::null) return is_null(value);
  std::string_view text;
  if (value.get_string().get(text) != SUCCESS) return false;
  out.assign(text);
  present = true;
  return true;
}

bool read_object(simdjson::ondemand::value& value, Object& out, bool& present) {
  json_type type{};
  if (value.type().get(type) != SUCCESS) return false;
  if (type == json_type::null) return is_null(value);
  simdjson::ondemand::object object;
  if (value.get_object().get(object) != SUCCESS) return false;
  present = true;
  return take_json_members(object, out) == Status::ok;
}

bool read_timestamp(simdjson::ondemand::value& value, std::optional<Timestamp>& out) {
  std::string text;
  bool present = false;
  if (!read_string(value, text, present)) return false;
  if (!present) return true;
  out = parse_rfc3339(text);
  return out.has_value();
}

// One member into `f`; false for an unknown name or a value of the wrong type.
bool read_member(std::string_view key, simdjson::ondemand::value& value, Fields& f) {
  bool ignored = false;
  if (key == "type") return read_string(value, f.type, ignored);
  if (key == "userId") return read_string(value, f.user_id, ignored);
  if (key == "anonymousId") return read_string(value, f.anonymous_id, f.has_anonymous_id);
  if (key == "event") return read_string(value, f.event, f.has_event);
  if (key == "name") return read_string(value, f.name, f.has_name);
  if (key == "groupId") return read_string(value, f.group_id, f.has_group_id);
  if (key == "previousId") return read_string(value, f.previous_id, f.has_previous_id);
  if (key == "messageId") return read_string(value, f.message_id, ignored);
  if (key == "properties") return read_object(value, f.properties, f.has_properties);
  if (key == "traits") return read_object(value, f.traits, f.has_traits);
  if (key == "context") return read_object(value, f.context, ignored);
  if (key == "integrations") return read_object(value, f.integrations, ignored);
  if (key == "timestamp") return read_timestamp(value, f.timestamp);
  if (key == "sentAt" || key == "receivedAt") {
    std::string_view skipped;
    return raw_json_of(value, skipped);
  }
  return false;
}

// The message of f.type, when f holds only members that type takes.
Status build(Fields& f, AnyMessage& out) {
  bool const people = !f.has_event && !f.has_name && !f.has_group_id && !f.has_previous_id;
  if (f.type == "track") {
    if (f.has_name || f.has_group_id || f.has_previous_id || f.has_traits) return Status::invalid_json;
    out = Track{std::move(f.user_id),      std::move(f.anonymous_id), std::move(f.event),
                std::move(f.properties),   std::move(f.context),      f.timestamp,
                std::move(f.integrations), std::move(f.message_id)};
  } else if (f.type == "page" || f.type == "screen") {
    if (f.has_event || f.has_group_id || f.has_previous_id || f.has_traits) return Status::invalid_json;
    Page page{std::move(f.user_id),      std::move(f.anonymous_id), std::move(f.name),
              std::move(f.properties),   std::move(f.context),      f.timestamp,
              std::move(f.integrations), std::move(f.message_id)};
    if (f.type == "page") {
      out = std::move(page);
    } else {
      out = Screen{std::move(page.user_id),      std::move(page.anonymous_id), std::move(page.name),
                   std::move(page.properties),   std::move(page.context),      page.timestamp,
                   std::move(page.integrations), std::move(page.message_id)};
    }
  } else if (f.type == "identify") {
    if (!people || f.has_properties) return Status::invalid_json;
    out = Identify{std::move(f.user_id), std::move(f.anonymous_id), std::move(f.traits),    std::move(f.context),
                   f.timestamp,          std::move(f.integrations), std::move(f.message_id)};
  } else if (f.type == "group") {
    if (f.has_event || f.has_name || f.has_previous_id || f.has_properties) return Status::invalid_json;
    out = Group{std::move(f.user_id),      std::move(f.anonymous_id), std::move(f.group_id),
                std::move(f.traits),       std::move(f.context),      f.timestamp,
                std::move(f.integrations), std::move(f.message_id)};
  } else if (f.type == "alias") {
    if (f.has_anonymous_id || f.has_event || f.has_name || f.has_group_id || f.has_properties || f.has_traits)
      return Status::invalid_json;
    out = Alias{std::move(f.user_id), std::move(f.previous_id),  std::move(f.context),
                f.timestamp,          std::move(f.integrations), std::move(f.message_id)};
  } else {
    return Status::invalid_json;
  }
  return Status::ok;
}

}  // namespace

Status parse_message_json(std::string_view json, AnyMessage& out) {
  // Reused per thread: a parser allocates its buffers on first use and keeps them.
  thread_local simdjson::ondemand::parser parser;
  simdjson::padded_string const padded(json);
  simdjson::ondemand::document document;
  simdjson::ondemand::object object;
  if (parser.iterate(padded).get(document) != SUCCESS || document.get_object().get(object) != SUCCESS)
    return Status::invalid_json;
  Fields fields;
  for (auto field : object) {
    std::string_view key;
    simdjson::ondemand::value value;
    if (field.unescaped_key().get(key) != SUCCESS) return Status::invalid_json;
    std::string const key_copy(key);  // the unescaped key is overwritten by the next string read
    if (field.value().get(value) != SUCCESS || !read_member(key_copy, value, fields)) return Status::invalid_json;
  }
  if (!document_at_end(document)) return Status::invalid_json;
  return build(fields, out);
}

}  // namespace htevents::inline v0::detail
