// htevents-cpp send: one message, built from flags, sent and confirmed.
#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <iostream>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <string_view>

#include "commands.hpp"
#include "htevents/htevents.hpp"
#include "options.hpp"
#include "replay/json_input.hpp"

namespace htevents::cli {
namespace {

constexpr std::string_view usage = R"(Usage: htevents-cpp send TYPE [options]

Sends one message and waits (at most 10 s) until the endpoint has accepted it.
TYPE is identify, track, page, screen, group or alias.

Options (also --name=value):
  --user-id ID          userId (every type needs it or --anonymous-id; alias needs it)
  --anonymous-id ID     anonymousId
  --event NAME          track: the event name (required)
  --name NAME           page, screen: the page or screen name
  --group-id ID         group: the group id (required)
  --previous-id ID      alias: the previous id (required)
  --message-id ID       default: a random UUID v4
  --timestamp TIME      RFC 3339, e.g. 2026-11-26T10:00:00Z (default: now)
  --properties JSON     track, page, screen: a JSON object
  --traits JSON         identify, group: a JSON object
  --context JSON        a JSON object
  --integrations JSON   a JSON object
  --write-key KEY       default: $HTEVENTS_WRITE_KEY
  --endpoint URL        default: $HTEVENTS_ENDPOINT, else https://us-east-1.hightouch-events.com
  --help                this text

Exit status: 0 delivered, 1 not delivered, 2 invalid input.
)";

struct Flags {
  std::string type;
  std::string user_id, anonymous_id, event, name, group_id, previous_id, message_id;
  std::optional<Timestamp> timestamp;
  Object properties, traits, context, integrations;
  bool has_properties = false, has_traits = false;
  std::string write_key, endpoint;
  bool help = false;
};

Object json_flag(std::string_view flag, std::string_view text) {
  Object object;
  std::string const problem = replay::parse_object(text, object);
  if (!problem.empty()) throw UsageError(std::string(flag) + ": " + problem);
  return object;
}

Flags parse(int argc, char** argv) {
  Flags f;
  Args args(argc, argv);
  while (args.next()) {
    if (args.is("--help")) f.help = true;
    else if (args.is("--user-id")) f.user_id = args.value();
    else if (args.is("--anonymous-id")) f.anonymous_id = args.value();
    else if (args.is("--event")) f.event = args.value();
    else if (args.is("--name")) f.name = args.value();
    else if (args.is("--group-id")) f.group_id = args.value();
    else if (args.is("--previous-id")) f.previous_id = args.value();
    else if (args.is("--message-id")) f.message_id = args.value();
    else if (args.is("--timestamp")) {
      std::string_view const text = args.value();
      f.timestamp = replay::parse_rfc3339(text);
      if (!f.timestamp) throw UsageError("--timestamp: '" + std::string(text) + "' is not an RFC 3339 date-time");
    } else if (args.is("--properties")) {
      f.properties = json_flag("--properties", args.value());
      f.has_properties = true;
    } else if (args.is("--traits")) {
      f.traits = json_flag("--traits", args.value());
      f.has_traits = true;
    } else if (args.is("--context")) f.context = json_flag("--context", args.value());
    else if (args.is("--integrations")) f.integrations = json_flag("--integrations", args.value());
    else if (args.is("--write-key")) f.write_key = args.value();
    else if (args.is("--endpoint")) f.endpoint = args.value();
    else if (args.positional() && f.type.empty()) f.type = args.current();
    else args.unknown();
  }
  return f;
}

std::string random_uuid() {
  std::random_device device;
  std::mt19937_64 engine((std::uint64_t{device()} << 32) ^ device());
  std::array<unsigned char, 16> b{};
  for (std::size_t i = 0; i < b.size(); i += 8) {
    std::uint64_t const r = engine();
    for (std::size_t j = 0; j < 8; ++j) b[i + j] = static_cast<unsigned char>(r >> (8 * j));
  }
  b[6] = static_cast<unsigned char>((b[6] & 0x0f) | 0x40);  // version 4
  b[8] = static_cast<unsigned char>((b[8] & 0x3f) | 0x80);  // RFC 4122 variant
  char text[37];
  std::snprintf(text, sizeof text, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
                b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
  return text;
}

// Builds the message of `f.type` and enqueues it; throws UsageError for an unknown type or a
// flag that the type does not take.
Status enqueue(Client& client, Flags& f) {
  auto no_fields = [&](std::string_view what, bool given) {
    if (given) throw UsageError(f.type + " takes no " + std::string(what));
  };
  if (f.type == "identify") {
    no_fields("--properties", f.has_properties);
    return client.enqueue(Identify{.user_id = f.user_id, .anonymous_id = f.anonymous_id, .traits = f.traits,
                                   .context = f.context, .timestamp = f.timestamp,
                                   .integrations = f.integrations, .message_id = f.message_id});
  }
  if (f.type == "track") {
    no_fields("--traits", f.has_traits);
    return client.enqueue(Track{.user_id = f.user_id, .anonymous_id = f.anonymous_id, .event = f.event,
                                .properties = f.properties, .context = f.context, .timestamp = f.timestamp,
                                .integrations = f.integrations, .message_id = f.message_id});
  }
  if (f.type == "page") {
    no_fields("--traits", f.has_traits);
    return client.enqueue(Page{.user_id = f.user_id, .anonymous_id = f.anonymous_id, .name = f.name,
                               .properties = f.properties, .context = f.context, .timestamp = f.timestamp,
                               .integrations = f.integrations, .message_id = f.message_id});
  }
  if (f.type == "screen") {
    no_fields("--traits", f.has_traits);
    return client.enqueue(Screen{.user_id = f.user_id, .anonymous_id = f.anonymous_id, .name = f.name,
                                 .properties = f.properties, .context = f.context, .timestamp = f.timestamp,
                                 .integrations = f.integrations, .message_id = f.message_id});
  }
  if (f.type == "group") {
    no_fields("--properties", f.has_properties);
    return client.enqueue(Group{.user_id = f.user_id, .anonymous_id = f.anonymous_id, .group_id = f.group_id,
                                .traits = f.traits, .context = f.context, .timestamp = f.timestamp,
                                .integrations = f.integrations, .message_id = f.message_id});
  }
  if (f.type == "alias") {
    no_fields("--properties", f.has_properties);
    no_fields("--traits", f.has_traits);
    return client.enqueue(Alias{.user_id = f.user_id, .previous_id = f.previous_id, .context = f.context,
                                .timestamp = f.timestamp, .integrations = f.integrations,
                                .message_id = f.message_id});
  }
  if (f.type.empty()) throw UsageError("missing TYPE (identify, track, page, screen, group or alias)");
  throw UsageError("unknown type '" + f.type + "' (identify, track, page, screen, group or alias)");
}

bool is_input_problem(Status status) {
  switch (status) {
    case Status::queue_full:
    case Status::closed: return false;
    default: return true;
  }
}

}  // namespace

int send_command(int argc, char** argv) {
  Flags f;
  Connection connection;
  try {
    f = parse(argc, argv);
    if (f.help) {
      std::cout << usage;
      return 0;
    }
    static constexpr std::array<std::string_view, 6> types{"identify", "track", "page", "screen", "group", "alias"};
    if (f.type.empty()) throw UsageError("missing TYPE (identify, track, page, screen, group or alias)");
    if (std::find(types.begin(), types.end(), f.type) == types.end())
      throw UsageError("unknown type '" + f.type + "' (identify, track, page, screen, group or alias)");
    connection = resolve_connection(f.write_key, f.endpoint);
  } catch (UsageError const& error) {
    std::cerr << "htevents-cpp send: " << error.what() << '\n';
    return 2;
  }
  if (f.message_id.empty()) f.message_id = random_uuid();  // to print it

  std::mutex mutex;
  std::string failure;
  Config config;
  config.endpoint = connection.endpoint;
  config.interval = std::chrono::milliseconds(10);
  config.on_failure = [&](Failure const& failed) {
    std::lock_guard lock(mutex);
    failure.assign(failed.detail);
    if (failure.empty()) failure = to_string(failed.reason);
  };
  try {
    Client client(connection.write_key, std::move(config));
    Status const status = enqueue(client, f);
    if (status != Status::ok) {
      std::cerr << "htevents-cpp send: " << to_string(status) << '\n';
      return is_input_problem(status) ? 2 : 1;
    }
    bool const closed = client.close(std::chrono::seconds(10));
    Stats const stats = client.stats();
    std::lock_guard lock(mutex);
    if (stats.delivered != 1 || !failure.empty() || !closed) {
      std::cerr << "htevents-cpp send: not delivered: " << (failure.empty() ? "timed out" : failure) << '\n';
      return 1;
    }
  } catch (UsageError const& error) {
    std::cerr << "htevents-cpp send: " << error.what() << '\n';
    return 2;
  } catch (ConfigError const& error) {
    std::cerr << "htevents-cpp send: " << error.what() << '\n';
    return 2;
  } catch (std::exception const& error) {
    std::cerr << "htevents-cpp send: " << error.what() << '\n';
    return 1;
  }
  std::cout << "sent 1 " << f.type << " (messageId " << f.message_id << ")\n";
  return 0;
}

}  // namespace htevents::cli
