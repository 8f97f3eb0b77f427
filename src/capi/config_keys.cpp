#include "capi/config_keys.hpp"

#include <charconv>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "capi/json_members.hpp"
#include "htevents/htevents.h"
#include "message/json_validation.hpp"

namespace htevents::inline v0::detail {
namespace {

// A whole decimal number of type T: no sign for unsigned types, no white space, no trailing
// text, in range.
template <class T>
std::optional<T> number(std::string_view text) noexcept {
  T value{};
  if (text.empty() || text.front() == '+') return std::nullopt;
  auto const [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::optional<bool> boolean(std::string_view text) noexcept {
  if (text == "true" || text == "1") return true;
  if (text == "false" || text == "0") return false;
  return std::nullopt;
}

std::optional<Compression> compression(std::string_view text) noexcept {
  if (text == "zstd") return Compression::zstd;
  if (text == "gzip") return Compression::gzip;
  if (text == "none") return Compression::none;
  return std::nullopt;
}

std::optional<Backpressure> backpressure(std::string_view text) noexcept {
  if (text == "block") return Backpressure::block;
  if (text == "drop_newest") return Backpressure::drop_newest;
  if (text == "drop_oldest") return Backpressure::drop_oldest;
  if (text == "fail") return Backpressure::fail;
  return std::nullopt;
}

std::optional<LogLevel> log_level(std::string_view text) noexcept {
  if (text == "debug") return LogLevel::debug;
  if (text == "info") return LogLevel::info;
  if (text == "warn") return LogLevel::warn;
  if (text == "error") return LogLevel::error;
  return std::nullopt;
}

// Stores a parsed value, or answers that it did not parse.
template <class T, class U>
int store(T& field, std::optional<U> const& parsed) {
  if (!parsed) return HTEVENTS_INVALID_VALUE;
  field = T(*parsed);
  return HTEVENTS_OK;
}

int text(std::string& field, std::string_view text) {
  field.assign(text);
  return HTEVENTS_OK;
}

int duration(std::chrono::milliseconds& field, std::string_view text) {
  return store(field, number<std::chrono::milliseconds::rep>(text));
}

int context(Object& field, std::string_view text) {
  // Checked whole here, so that a malformed value is refused by this call rather than later by
  // htevents_client_new.
  Object parsed;
  if (!is_valid_json(text) || parse_json_members(text, parsed) != Status::ok) return HTEVENTS_INVALID_VALUE;
  field = std::move(parsed);
  return HTEVENTS_OK;
}

struct Key {
  std::string_view name;
  int (*set)(Config&, std::string_view);
};

// The Config fields in declaration order; durations carry the unit in the name.
constexpr Key keys[] = {
    {"endpoint", [](Config& c, std::string_view v) { return text(c.endpoint, v); }},
    {"batch_size", [](Config& c, std::string_view v) { return store(c.batch_size, number<std::size_t>(v)); }},
    {"interval_ms", [](Config& c, std::string_view v) { return duration(c.interval, v); }},
    {"max_batch_bytes", [](Config& c, std::string_view v) { return store(c.max_batch_bytes, number<std::size_t>(v)); }},
    {"max_message_bytes",
     [](Config& c, std::string_view v) { return store(c.max_message_bytes, number<std::size_t>(v)); }},
    {"max_queue_bytes", [](Config& c, std::string_view v) { return store(c.max_queue_bytes, number<std::size_t>(v)); }},
    {"backpressure", [](Config& c, std::string_view v) { return store(c.backpressure, backpressure(v)); }},
    {"enqueue_timeout_ms", [](Config& c, std::string_view v) { return duration(c.enqueue_timeout, v); }},
    {"compression", [](Config& c, std::string_view v) { return store(c.compression, compression(v)); }},
    {"compression_level", [](Config& c, std::string_view v) { return store(c.compression_level, number<int>(v)); }},
    {"max_in_flight", [](Config& c, std::string_view v) { return store(c.max_in_flight, number<std::size_t>(v)); }},
    {"max_attempts", [](Config& c, std::string_view v) { return store(c.max_attempts, number<int>(v)); }},
    {"retry_base_ms", [](Config& c, std::string_view v) { return duration(c.retry_base, v); }},
    {"retry_max_ms", [](Config& c, std::string_view v) { return duration(c.retry_max, v); }},
    {"request_timeout_ms", [](Config& c, std::string_view v) { return duration(c.request_timeout, v); }},
    {"default_context", [](Config& c, std::string_view v) { return context(c.default_context, v); }},
    {"log_level", [](Config& c, std::string_view v) { return store(c.log_level, log_level(v)); }},
    {"spool_dir", [](Config& c, std::string_view v) { return text(c.spool_dir, v); }},
    {"spool_memory_dir", [](Config& c, std::string_view v) { return text(c.spool_memory_dir, v); }},
    {"spool_max_bytes", [](Config& c, std::string_view v) { return store(c.spool_max_bytes, number<std::size_t>(v)); }},
    {"spool_sync_interval_ms", [](Config& c, std::string_view v) { return duration(c.spool_sync_interval, v); }},
    {"tls_verify", [](Config& c, std::string_view v) { return store(c.tls_verify, boolean(v)); }},
    {"ca_bundle", [](Config& c, std::string_view v) { return text(c.ca_bundle, v); }},
    {"stats_interval_ms", [](Config& c, std::string_view v) { return duration(c.stats_interval, v); }},
};

}  // namespace

int set_config_field(Config& config, std::string_view key, std::string_view value) {
  for (Key const& k : keys) {
    if (k.name == key) return k.set(config, value);
  }
  return HTEVENTS_UNKNOWN_KEY;
}

}  // namespace htevents::inline v0::detail
