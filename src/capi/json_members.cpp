#include "capi/json_members.hpp"

#include <string>

namespace htevents::inline v0::detail {
namespace {

// A scalar's token runs up to the next structural character, white space included.
std::string_view trim_right(std::string_view text) noexcept {
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\n' || text.back() == '\r'))
    text.remove_suffix(1);
  return text;
}

}  // namespace

bool raw_json_of(simdjson::ondemand::value& value, std::string_view& out) noexcept {
  simdjson::ondemand::json_type type{};
  if (value.type().get(type) != simdjson::SUCCESS) return false;
  if (type == simdjson::ondemand::json_type::object) {
    simdjson::ondemand::object object;
    return value.get_object().get(object) == simdjson::SUCCESS && object.raw_json().get(out) == simdjson::SUCCESS;
  }
  if (type == simdjson::ondemand::json_type::array) {
    simdjson::ondemand::array array;
    return value.get_array().get(array) == simdjson::SUCCESS && array.raw_json().get(out) == simdjson::SUCCESS;
  }
  out = trim_right(value.raw_json_token());
  return true;
}

Status take_json_members(simdjson::ondemand::object& object, Object& out) {
  for (auto field : object) {
    std::string_view key;
    if (field.unescaped_key().get(key) != simdjson::SUCCESS) return Status::invalid_json;
    // The unescaped key lives in the parser's string buffer only until the next string is read.
    std::string key_copy(key);
    simdjson::ondemand::value value;
    std::string_view raw;
    if (field.value().get(value) != simdjson::SUCCESS || !raw_json_of(value, raw)) return Status::invalid_json;
    out.set(std::move(key_copy), RawJson(std::string(raw)));
  }
  return Status::ok;
}

Status parse_json_members(std::string_view json, Object& out) {
  // Reused per thread: a parser allocates its buffers on first use and keeps them.
  thread_local simdjson::ondemand::parser parser;
  simdjson::padded_string const padded(json);
  simdjson::ondemand::document document;
  simdjson::ondemand::object object;
  if (parser.iterate(padded).get(document) != simdjson::SUCCESS ||
      document.get_object().get(object) != simdjson::SUCCESS)
    return Status::invalid_json;
  if (Status const s = take_json_members(object, out); s != Status::ok) return s;
  return document_at_end(document) ? Status::ok : Status::invalid_json;
}

}  // namespace htevents::inline v0::detail
