// The C API's client: htevents_client_new, _free, htevents_flush, _close, _stats_json and
// htevents_status_string.

#include <chrono>
#include <climits>
#include <exception>
#include <new>
#include <string>

#include "capi/c_text.hpp"
#include "capi/handles.hpp"
#include "htevents/status.hpp"

namespace {

using htevents::Status;

// The header's numbers are the C++ enums' values: checked here, where both are visible.
static_assert(HTEVENTS_OK == static_cast<int>(Status::ok));
static_assert(HTEVENTS_MISSING_USER_ID == static_cast<int>(Status::missing_user_id));
static_assert(HTEVENTS_MISSING_EVENT == static_cast<int>(Status::missing_event));
static_assert(HTEVENTS_MISSING_GROUP_ID == static_cast<int>(Status::missing_group_id));
static_assert(HTEVENTS_MISSING_PREVIOUS_ID == static_cast<int>(Status::missing_previous_id));
static_assert(HTEVENTS_INVALID_NUMBER == static_cast<int>(Status::invalid_number));
static_assert(HTEVENTS_INVALID_JSON == static_cast<int>(Status::invalid_json));
static_assert(HTEVENTS_MESSAGE_TOO_LARGE == static_cast<int>(Status::message_too_large));
static_assert(HTEVENTS_QUEUE_FULL == static_cast<int>(Status::queue_full));
static_assert(HTEVENTS_CLOSED == static_cast<int>(Status::closed));
static_assert(HTEVENTS_INVALID_USAGE == static_cast<int>(Status::invalid_usage));
static_assert(HTEVENTS_INVALID_MESSAGE_ID == static_cast<int>(Status::invalid_message_id));
static_assert(HTEVENTS_FORKED == static_cast<int>(Status::forked));
static_assert(htevents::status_count == HTEVENTS_FORKED + 1, "a new Status needs its HTEVENTS_ constant");
static_assert(HTEVENTS_INVALID_ARGUMENT > HTEVENTS_FORKED);
static_assert(HTEVENTS_FAILURE_REJECTED == static_cast<int>(htevents::FailureReason::rejected));
static_assert(HTEVENTS_FAILURE_RETRIES_EXHAUSTED == static_cast<int>(htevents::FailureReason::retries_exhausted));
static_assert(HTEVENTS_FAILURE_DEADLINE == static_cast<int>(htevents::FailureReason::deadline));
static_assert(HTEVENTS_FAILURE_EVICTED == static_cast<int>(htevents::FailureReason::evicted));

// The C callback behind Config::on_failure: the failure's views handed on as pointer + length.
htevents::Config with_c_callbacks(htevents_config const& c) {
  htevents::Config config = c.config;
  if (c.on_failure != nullptr) {
    config.on_failure = [fn = c.on_failure, user = c.on_failure_user](htevents::Failure const& f) {
      htevents_failure const failure{static_cast<int>(f.reason), f.http_status,        f.detail.data(), f.detail.size(),
                                     f.message_json.data(),      f.message_json.size()};
      fn(user, &failure);
    };
  }
  return config;
}

std::chrono::milliseconds timeout_of(long long timeout_ms) noexcept {
  // Negative means now; the library saturates long waits itself (deadline_after).
  return std::chrono::milliseconds(timeout_ms < 0 ? 0 : timeout_ms);
}

}  // namespace

extern "C" {

htevents_client* htevents_client_new(char const* write_key, htevents_config const* config, char* error,
                                     size_t error_size) {
  using htevents::detail::copy_to_c_buffer;
  try {
    htevents_config const defaults{};
    return new htevents_client(write_key == nullptr ? "" : write_key,
                               with_c_callbacks(config == nullptr ? defaults : *config));
  } catch (std::bad_alloc const&) {
    copy_to_c_buffer("htevents: out of memory", error, error_size);
  } catch (std::exception const& e) {
    // ConfigError (naming the field), or the runtime_error of a client that cannot start.
    copy_to_c_buffer(e.what(), error, error_size);
  } catch (...) {
    copy_to_c_buffer("htevents: unexpected error", error, error_size);
  }
  return nullptr;
}

void htevents_client_free(htevents_client* client) { delete client; }  // ~Client closes

int htevents_flush(htevents_client* client, long long timeout_ms) {
  return client != nullptr && client->client.flush(timeout_of(timeout_ms)) ? 1 : 0;
}

int htevents_close(htevents_client* client, long long timeout_ms) {
  return client != nullptr && client->client.close(timeout_of(timeout_ms)) ? 1 : 0;
}

int htevents_stats_json(htevents_client const* client, char* buffer, size_t size) {
  if (client == nullptr) return -1;
  try {
    std::string const json = client->client.stats().to_json();
    if (json.size() > static_cast<std::size_t>(INT_MAX)) return -1;
    return static_cast<int>(htevents::detail::copy_to_c_buffer(json, buffer, size));
  } catch (...) {
    return -1;  // std::bad_alloc: to_json is the only thing here that allocates
  }
}

char const* htevents_status_string(int status) {
  // htevents::to_string's views point at string literals: NUL-terminated, static.
  if (status >= 0 && status < static_cast<int>(htevents::status_count))
    return htevents::to_string(static_cast<Status>(status)).data();
  switch (status) {
    case HTEVENTS_INVALID_ARGUMENT:
      return "invalid argument: a NULL client, config, key or message where one is required";
    case HTEVENTS_UNKNOWN_KEY:
      return "unknown key: htevents_config_set knows no such configuration key (see docs/c-api.md)";
    case HTEVENTS_INVALID_VALUE:
      return "invalid value: the text does not parse for that configuration key (a number, a name or JSON, "
             "see docs/c-api.md)";
    case HTEVENTS_OUT_OF_MEMORY: return "out of memory: the call could not allocate; nothing was enqueued";
    case HTEVENTS_INTERNAL_ERROR: return "internal error: an unexpected error inside htevents; please report it";
    default: return "unknown status";
  }
}

}  // extern "C"
