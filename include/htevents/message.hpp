#pragma once
/// The six message types of the Segment spec. Fields are in api.md's declaration order, every
/// one defaulted, so designated initializers that skip fields compile cleanly:
///   client.enqueue(htevents::Track{.user_id = "u1", .event = "Order completed"});

#include <optional>
#include <string>

#include "htevents/value.hpp"

namespace htevents {
inline namespace v0 {

/// Empty message_id: a random UUID v4 is generated at enqueue. Empty timestamp: the time of enqueue.
struct Identify {
  std::string user_id{}, anonymous_id{};
  Traits traits{};
  Context context{};
  std::optional<Timestamp> timestamp{};
  Integrations integrations{};
  std::string message_id{};
};

struct Track {
  std::string user_id{}, anonymous_id{}, event{};
  Properties properties{};
  Context context{};
  std::optional<Timestamp> timestamp{};
  Integrations integrations{};
  std::string message_id{};
};

struct Page {
  std::string user_id{}, anonymous_id{}, name{};
  Properties properties{};
  Context context{};
  std::optional<Timestamp> timestamp{};
  Integrations integrations{};
  std::string message_id{};
};

struct Screen {
  std::string user_id{}, anonymous_id{}, name{};
  Properties properties{};
  Context context{};
  std::optional<Timestamp> timestamp{};
  Integrations integrations{};
  std::string message_id{};
};

struct Group {
  std::string user_id{}, anonymous_id{}, group_id{};
  Traits traits{};
  Context context{};
  std::optional<Timestamp> timestamp{};
  Integrations integrations{};
  std::string message_id{};
};

struct Alias {
  std::string user_id{}, previous_id{};
  Context context{};
  std::optional<Timestamp> timestamp{};
  Integrations integrations{};
  std::string message_id{};
};

}  // namespace v0
}  // namespace htevents
