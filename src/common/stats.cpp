#include <string>

#include "htevents/stats.hpp"

namespace htevents {
inline namespace v0 {

namespace {

std::string_view status_key(std::size_t i) noexcept {
  static constexpr std::string_view names[status_count] = {"ok",
                                                           "missing_user_id",
                                                           "missing_event",
                                                           "missing_group_id",
                                                           "missing_previous_id",
                                                           "invalid_number",
                                                           "invalid_json",
                                                           "message_too_large",
                                                           "queue_full",
                                                           "closed",
                                                           "invalid_usage",
                                                           "invalid_message_id",
                                                           "forked"};
  return names[i];
}

void field(std::string& out, std::string_view name, std::uint64_t value) {
  if (out.size() > 1) out += ',';
  out += '"';
  out += name;
  out += "\":";
  out += std::to_string(value);
}

}  // namespace

std::string Stats::to_json() const {
  std::string out = "{";
  field(out, "enqueued", enqueued);
  field(out, "rejected", rejected);
  out += ",\"rejected_by_status\":{";
  std::size_t const start = out.size();
  for (std::size_t i = 1; i < status_count; ++i) {
    if (out.size() > start) out += ',';
    out += '"';
    out += status_key(i);
    out += "\":";
    out += std::to_string(rejected_by_status[i]);
  }
  out += '}';
  field(out, "dropped", dropped);
  field(out, "dropped_newest", dropped_newest);
  field(out, "dropped_oldest", dropped_oldest);
  field(out, "delivered", delivered);
  field(out, "failed", failed);
  field(out, "batches_sent", batches_sent);
  field(out, "batches_failed", batches_failed);
  field(out, "requests", requests);
  field(out, "retries", retries);
  field(out, "compression_fallbacks", compression_fallbacks);
  field(out, "bytes_uncompressed", bytes_uncompressed);
  field(out, "bytes_sent", bytes_sent);
  field(out, "serializer_stalls", serializer_stalls);
  field(out, "batches_split", batches_split);
  field(out, "split_requests", split_requests);
  field(out, "recovered", recovered);
  field(out, "spool_corrupt", spool_corrupt);
  field(out, "spool_errors", spool_errors);
  field(out, "spool_overflows", spool_overflows);
  field(out, "spooled_events", spooled_events);
  field(out, "spooled_bytes", spooled_bytes);
  field(out, "queued_events", queued_events);
  field(out, "queued_bytes", queued_bytes);
  field(out, "in_flight", in_flight);
  out += '}';
  return out;
}

}  // namespace v0
}  // namespace htevents
