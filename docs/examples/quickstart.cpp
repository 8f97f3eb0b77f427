// Quick start: one client, one event through each API, a clean shutdown that says what happened.
// Usage: quickstart [ENDPOINT]
#include <htevents/htevents.hpp>

#include <cstdio>
#include <mutex>
#include <string>

int main(int argc, char** argv) {
  htevents::Config config;
  if (argc > 1) config.endpoint = argv[1];  // default: https://us-east-1.hightouch-events.com
  std::mutex mutex;
  std::string first_failure;  // why the first undelivered event failed, if any did
  config.on_failure = [&](htevents::Failure const& f) {  // runs on a pipeline thread
    std::lock_guard lock(mutex);
    if (first_failure.empty()) first_failure = std::string(htevents::to_string(f.reason)) + " (" + std::string(f.detail) + ")";
  };
  htevents::Client client("YOUR_WRITE_KEY", config);

  htevents::Status s = client.enqueue(htevents::Track{
      .user_id = "user-42", .event = "Order completed",
      .properties = {{"total", 29.99}, {"currency", "USD"}, {"quantity", 3}}});
  if (s != htevents::Status::ok) std::fprintf(stderr, "%s\n", htevents::to_string(s).data());

  s = client.track("Order completed").user_id("user-42").property("total", 29.99).send();  // fast path

  // true only if every accepted event was delivered; failed ones went to on_failure.
  bool const all_delivered = client.close(std::chrono::seconds(5));
  htevents::Stats const stats = client.stats();
  std::printf("delivered=%llu of %llu accepted, failed=%llu\n", static_cast<unsigned long long>(stats.delivered),
              static_cast<unsigned long long>(stats.enqueued), static_cast<unsigned long long>(stats.failed));
  if (!all_delivered) {
    std::lock_guard lock(mutex);
    std::printf("not all delivered: %s\n", first_failure.empty() ? "close() deadline" : first_failure.c_str());
  }
  return all_delivered ? 0 : 1;
}
