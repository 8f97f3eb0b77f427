#include "e2e/input.hpp"

#include <simdjson.h>

#include <cmath>
#include <limits>

namespace htevents::e2e {
namespace {

namespace dom = simdjson::dom;

// A JSON number that is whole and within [0, max]; doubles are accepted when integral, since a
// suite written in JavaScript may well send 1000.0.
bool whole_number(dom::element value, double max, double& out) {
  double number = 0;
  if (value.is_int64() || value.is_uint64() || value.is_double()) {
    if (value.get_double().get(number) != simdjson::SUCCESS) return false;
  } else {
    return false;
  }
  if (!std::isfinite(number) || number < 0 || number > max || std::floor(number) != number) return false;
  out = number;
  return true;
}

// config.NAME as a whole number, nullopt when absent or null; false (with `error`) otherwise.
bool config_number(dom::object config, char const* name, double max, std::optional<double>& out, std::string& error) {
  dom::element value;
  if (config[name].get(value) != simdjson::SUCCESS || value.is_null()) return true;
  double number = 0;
  if (!whole_number(value, max, number)) {
    error = std::string("config.") + name + " is not a whole number from 0 to " + std::to_string(std::llround(max));
    return false;
  }
  out = number;
  return true;
}

bool parse_sequence(dom::element element, std::size_t index, Sequence& sequence, std::string& error) {
  std::string const where = "sequences[" + std::to_string(index) + "]";
  dom::object object;
  if (element.get_object().get(object) != simdjson::SUCCESS) {
    error = where + " is not an object";
    return false;
  }
  dom::element delay;
  if (object["delayMs"].get(delay) == simdjson::SUCCESS && !delay.is_null()) {
    double ms = 0;
    if (!whole_number(delay, 24.0 * 3600 * 1000, ms)) {
      error = where + ".delayMs is not a whole number of milliseconds from 0 to a day";
      return false;
    }
    sequence.delay = std::chrono::milliseconds(static_cast<std::int64_t>(ms));
  }
  dom::array events;
  if (object["events"].get_array().get(events) != simdjson::SUCCESS) {
    error = where + ".events is not an array";
    return false;
  }
  // One line per event: minify leaves no raw newline (JSON strings escape theirs), so the
  // replay reader sees exactly one document per line and reports problems by event.
  for (dom::element event : events) {
    sequence.ndjson += simdjson::minify(event);
    sequence.ndjson += '\n';
    ++sequence.events;
  }
  return true;
}

}  // namespace

std::optional<Input> parse_input(std::string_view json, std::string& error) {
  dom::parser parser;
  dom::element root;
  if (auto const code = parser.parse(json.data(), json.size()).get(root)) {
    error = std::string("--input is not JSON: ") + simdjson::error_message(code);
    return std::nullopt;
  }
  dom::object object;
  if (root.get_object().get(object) != simdjson::SUCCESS) {
    error = "--input is not a JSON object";
    return std::nullopt;
  }
  Input input;
  std::string_view text;
  if (object["writeKey"].get_string().get(text) != simdjson::SUCCESS || text.empty()) {
    error = "writeKey is missing or not a non-empty string";
    return std::nullopt;
  }
  input.write_key = text;
  dom::element host;
  if (object["apiHost"].get(host) == simdjson::SUCCESS && !host.is_null()) {
    if (host.get_string().get(text) != simdjson::SUCCESS) {
      error = "apiHost is not a string";
      return std::nullopt;
    }
    input.api_host = text;
  }
  dom::array sequences;
  if (object["sequences"].get_array().get(sequences) != simdjson::SUCCESS) {
    error = "sequences is missing or not an array";
    return std::nullopt;
  }
  for (dom::element element : sequences) {
    Sequence sequence;
    if (!parse_sequence(element, input.sequences.size(), sequence, error)) return std::nullopt;
    input.sequences.push_back(std::move(sequence));
  }
  dom::element config_element;
  if (object["config"].get(config_element) == simdjson::SUCCESS && !config_element.is_null()) {
    dom::object config;
    if (config_element.get_object().get(config) != simdjson::SUCCESS) {
      error = "config is not an object";
      return std::nullopt;
    }
    std::optional<double> flush_at, flush_interval, max_retries, timeout;
    // Bounds: what Config accepts and an int holds; the client validates the rest.
    double const max_int = std::numeric_limits<int>::max();
    if (!config_number(config, "flushAt", max_int, flush_at, error) ||
        !config_number(config, "flushInterval", max_int, flush_interval, error) ||
        !config_number(config, "maxRetries", max_int - 1, max_retries, error) ||
        !config_number(config, "timeout", 24.0 * 3600, timeout, error))
      return std::nullopt;
    if (flush_at) input.flush_at = static_cast<std::size_t>(*flush_at);
    if (flush_interval) input.flush_interval = std::chrono::milliseconds(static_cast<std::int64_t>(*flush_interval));
    if (max_retries) input.max_retries = static_cast<int>(*max_retries);
    if (timeout) input.timeout = std::chrono::seconds(static_cast<std::int64_t>(*timeout));
  }
  return input;
}

std::string endpoint_of(std::string_view api_host) {
  std::string endpoint(api_host);
  if (endpoint.find("://") == std::string::npos) endpoint.insert(0, "https://");  // "api.segment.io/v1"
  for (std::string_view suffix : {"/", "/batch", "/v1"}) {
    if (std::string_view(endpoint).ends_with(suffix)) endpoint.resize(endpoint.size() - suffix.size());
  }
  return endpoint;
}

}  // namespace htevents::e2e
