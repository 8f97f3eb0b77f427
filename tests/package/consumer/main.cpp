// An independent program written only against docs (api.md): if it compiles, links and exits 0
// against an installed htevents, the package is usable. No network: the client points at a
// closed port on 127.0.0.1 and every check here is answered synchronously by enqueue.
#include <htevents/htevents.hpp>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>
#include <stdexcept>
#include <string>
#include <string_view>

#ifndef EXPECTED_VERSION
#error "build with -DEXPECTED_VERSION=\"X.Y.Z\""
#endif

namespace {

int failures = 0;

void check(bool ok, char const* what) {
  if (!ok) {
    std::fprintf(stderr, "FAIL: %s\n", what);
    ++failures;
  }
}

void check_status(htevents::Status got, htevents::Status want, char const* what) {
  if (got != want) {
    std::fprintf(stderr, "FAIL: %s: got \"%.*s\"\n", what, static_cast<int>(htevents::to_string(got).size()),
                 htevents::to_string(got).data());
    ++failures;
  }
}

template <class F>
bool throws_config_error(F&& make) {
  try {
    make();
  } catch (htevents::ConfigError const& e) {
    std::invalid_argument const& base = e;  // ConfigError is a std::invalid_argument
    return std::string_view(base.what()).size() > 0;
  }
  return false;
}

}  // namespace

int main() {
  using namespace std::chrono_literals;
  using htevents::Status;

  check(htevents::version() == EXPECTED_VERSION, "version() matches the package version");

  // Values: the Properties snippet of api.md.
  htevents::Properties p{{"total", 29.99}, {"currency", "USD"}, {"quantity", 3}, {"coupon", nullptr},
                         {"tags", htevents::Array{"a", "b"}}, {"item", htevents::Object{{"sku", "x"}}}};
  p.set("revenue", 10);
  check(p.size() == 7, "Properties::set inserts");
  p.set("revenue", 11);
  check(p.size() == 7, "Properties::set replaces");
  htevents::Value const raw = htevents::RawJson{"{\"a\":1}"};
  htevents::Value const from_c_string = "text";
  check(!from_c_string.is<bool>(), "const char* does not become bool");

  htevents::Config config;
  check(config.endpoint == "https://us-east-1.hightouch-events.com", "default endpoint");
  check(config.batch_size == 250 && config.interval == 5000ms && config.max_batch_bytes == 500'000 &&
            config.max_message_bytes == 32'000 && config.max_queue_bytes == (64u << 20) &&
            config.backpressure == htevents::Backpressure::block && config.enqueue_timeout == 100ms &&
            config.compression == htevents::Compression::zstd && config.compression_level == 1 &&
            config.max_in_flight == 8 && config.max_attempts == 10 && config.retry_base == 100ms &&
            config.retry_max == 10000ms && config.request_timeout == 10000ms,
        "documented defaults");

  // Invalid configurations throw ConfigError.
  check(throws_config_error([] { htevents::Client c("", {}); }), "empty write key");
  check(throws_config_error([] {
          htevents::Config c;
          c.endpoint = "ftp://example.com";
          htevents::Client client("key", c);
        }),
        "endpoint without http(s)");
  check(throws_config_error([] {
          htevents::Config c;
          c.batch_size = 0;
          htevents::Client client("key", c);
        }),
        "zero batch size");
  check(throws_config_error([] {
          htevents::Config c;
          c.interval = -1ms;
          htevents::Client client("key", c);
        }),
        "negative interval");

  config.endpoint = "http://127.0.0.1:9";  // nothing listens there: nothing is delivered
  config.compression = htevents::Compression::gzip;
  config.logger = [](htevents::LogLevel, std::string_view) {};
  int failed = 0;
  config.on_failure = [&failed](htevents::Failure const&) { ++failed; };
  config.on_success = [](htevents::Delivery const&) {};
  htevents::Client client("write-key", config);

  auto const now = std::chrono::system_clock::now();
  // All six messages with designated initializers.
  check_status(client.enqueue(htevents::Identify{.user_id = "u1", .traits = {{"plan", "pro"}}}), Status::ok, "identify");
  check_status(client.enqueue(htevents::Track{.user_id = "u1", .event = "Order completed", .properties = p}),
               Status::ok, "track");
  check_status(client.enqueue(htevents::Page{.anonymous_id = "a1", .name = "Home", .timestamp = now}), Status::ok,
               "page");
  check_status(client.enqueue(htevents::Screen{.user_id = "u1", .name = "Settings", .message_id = "m-1"}),
               Status::ok, "screen");
  check_status(client.enqueue(htevents::Group{.user_id = "u1", .group_id = "g1", .traits = {{"seats", 5}}}),
               Status::ok, "group");
  check_status(client.enqueue(htevents::Alias{.user_id = "u1", .previous_id = "a1"}), Status::ok, "alias");
  check_status(client.enqueue(htevents::Track{.user_id = "u1",
                                              .event = "With everything",
                                              .properties = {{"raw", raw}},
                                              .context = {{"ip", "127.0.0.1"}},
                                              .integrations = {{"All", true}}}),
               Status::ok, "track with context and integrations");

  // Validation statuses, answered at once.
  check_status(client.enqueue(htevents::Track{.user_id = "u1"}), Status::missing_event, "missing_event");
  check_status(client.enqueue(htevents::Track{.event = "e"}), Status::missing_user_id, "missing_user_id");
  check_status(client.enqueue(htevents::Identify{}), Status::missing_user_id, "identify missing_user_id");
  check_status(client.enqueue(htevents::Group{.user_id = "u1"}), Status::missing_group_id, "missing_group_id");
  check_status(client.enqueue(htevents::Alias{.user_id = "u1"}), Status::missing_previous_id, "missing_previous_id");
  check_status(client.enqueue(htevents::Track{.user_id = "u1", .event = "e",
                                              .properties = {{"x", std::numeric_limits<double>::quiet_NaN()}}}),
               Status::invalid_number, "invalid_number");
  check_status(client.enqueue(htevents::Track{.user_id = "u1", .event = "e",
                                              .properties = {{"x", htevents::RawJson{"{not json"}}}}),
               Status::invalid_json, "invalid_json");
  check_status(client.enqueue(htevents::Track{.user_id = "u1", .event = "e",
                                              .properties = {{"blob", std::string(40'000, 'x')}}}),
               Status::message_too_large, "message_too_large");
  check(!htevents::to_string(Status::missing_event).empty() && !htevents::to_string(Status::queue_full).empty(),
        "to_string gives a sentence");

  // The fast path.
  check_status(client.track("Order completed").user_id("u1").property("total", 29.99).property("currency", "USD")
                   .property("quantity", 3).send(),
               Status::ok, "fast path track");
  check_status(client.track("").user_id("u1").send(), Status::missing_event, "fast path missing_event");

  htevents::Stats const stats = client.stats();
  check(stats.enqueued == 8, "stats.enqueued");
  check(stats.rejected >= 9, "stats.rejected");
  check(!stats.to_json().empty(), "Stats::to_json");

  bool const delivered = client.close(200ms);
  check(!delivered, "close() reports that nothing could be delivered");
  check(client.close(200ms) == delivered, "close() is idempotent");
  check_status(client.enqueue(htevents::Track{.user_id = "u1", .event = "late"}), Status::closed, "closed");
  check(failed == 8, "every accepted message handed to on_failure");
  check(client.stats().pending() == 0, "nothing pending after close");

  if (failures != 0) return 1;
  std::printf("consumer OK: htevents %.*s\n", static_cast<int>(htevents::version().size()), htevents::version().data());
  return 0;
}
