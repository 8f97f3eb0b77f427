#include "htevents/status.hpp"
#include "htevents/config.hpp"

namespace htevents {
inline namespace v0 {

std::string_view to_string(Status status) noexcept {
  switch (status) {
    case Status::ok: return "accepted";
    case Status::missing_user_id: return "missing user id: set user_id or anonymous_id (alias: user_id)";
    case Status::missing_event: return "missing event: a track message needs a non-empty event name";
    case Status::missing_group_id: return "missing group id: a group message needs a non-empty group_id";
    case Status::missing_previous_id: return "missing previous id: an alias message needs a non-empty previous_id";
    case Status::invalid_number: return "invalid number: NaN and infinity have no JSON form; send null or a string";
    case Status::invalid_json: return "invalid JSON: a RawJson value does not parse; fix or escape it";
    case Status::message_too_large:
      return "message too large: the encoded message exceeds Config::max_message_bytes; trim properties";
    case Status::queue_full:
      return "queue full: max_queue_bytes is used up because the endpoint is not keeping up; the message was not "
             "accepted (see Config::backpressure)";
    case Status::closed: return "closed: the client was closed and accepts no more messages";
    case Status::invalid_usage:
      return "invalid usage: fast-path writer misuse (top-level field after a property, a second writer on the "
             "same thread, or send() twice)";
    case Status::invalid_message_id:
      return "invalid message id: a user-given message_id is longer than 100 characters (the API's limit); "
             "shorten it or leave it empty to have one generated";
    case Status::forked:
      return "forked: this client was created before fork() in the parent process; it sends nothing in the "
             "child. Create a new Client in the child";
  }
  return "unknown status";
}

std::string_view to_string(FailureReason reason) noexcept {
  switch (reason) {
    case FailureReason::rejected: return "rejected: the server refused the batch (permanent 4xx or transport error)";
    case FailureReason::retries_exhausted: return "retries exhausted: every attempt failed with a retryable error";
    case FailureReason::deadline: return "deadline: close() timed out before the message was delivered";
    case FailureReason::evicted: return "evicted: Backpressure::drop_oldest made room for newer messages";
  }
  return "unknown reason";
}

}  // namespace v0
}  // namespace htevents
