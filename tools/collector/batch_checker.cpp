#include "collector/batch_checker.hpp"

#include <simdjson.h>

namespace htevents::collector {
namespace {

// Message types by name; -1 when unknown. A switch on length keeps this branch-cheap.
int type_index(std::string_view t) noexcept {
  switch (t.size()) {
    case 4:
      if (t == "page") return static_cast<int>(MessageType::page);
      break;
    case 5:
      if (t == "track") return static_cast<int>(MessageType::track);
      if (t == "group") return static_cast<int>(MessageType::group);
      if (t == "alias") return static_cast<int>(MessageType::alias);
      break;
    case 6:
      if (t == "screen") return static_cast<int>(MessageType::screen);
      break;
    case 8:
      if (t == "identify") return static_cast<int>(MessageType::identify);
      break;
    default: break;
  }
  return -1;
}

}  // namespace

BatchChecker::BatchChecker()
    : decoder_(simdjson::SIMDJSON_PADDING), parser_(std::make_unique<simdjson::dom::parser>()) {
  ids_.reserve(1024);
}

BatchChecker::~BatchChecker() = default;

CheckResult BatchChecker::check(Encoding encoding, std::string_view wire_body, std::size_t max_decoded_bytes,
                                std::string* ndjson) {
  CheckResult result;
  ids_.clear();
  switch (decoder_.decode(encoding, wire_body, max_decoded_bytes)) {
    case DecodeStatus::ok: break;
    case DecodeStatus::corrupt: result.status = BodyStatus::corrupt_encoding; return result;
    case DecodeStatus::too_large: result.status = BodyStatus::too_large; return result;
  }
  std::string_view const body = decoder_.output();
  result.decoded_bytes = body.size();

  // The decoder keeps SIMDJSON_PADDING readable bytes after the body: no copy needed.
  simdjson::dom::element doc;
  if (parser_->parse(body.data(), body.size(), false).get(doc) != simdjson::SUCCESS) {
    result.status = BodyStatus::invalid_json;
    return result;
  }
  simdjson::dom::array batch;
  if (doc["batch"].get_array().get(batch) != simdjson::SUCCESS) {
    result.status = BodyStatus::not_a_batch;
    return result;
  }
  for (simdjson::dom::element message : batch) {
    if (ndjson != nullptr) {
      ndjson->append(simdjson::to_string(message));
      ndjson->push_back('\n');
    }
    simdjson::dom::object object;
    std::string_view type;
    std::string_view id;
    if (message.get_object().get(object) != simdjson::SUCCESS ||
        object["type"].get_string().get(type) != simdjson::SUCCESS ||
        object["messageId"].get_string().get(id) != simdjson::SUCCESS || id.empty()) {
      ++result.invalid;
      continue;
    }
    int const index = type_index(type);
    if (index < 0) {
      ++result.invalid;
      continue;
    }
    ++result.by_type[static_cast<std::size_t>(index)];
    ++result.valid;
    ids_.push_back(message_id_key(id));
  }
  return result;
}

}  // namespace htevents::collector
