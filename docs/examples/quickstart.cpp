// Quick start: one client, one event through each API, a clean shutdown. Usage: quickstart [ENDPOINT]
#include <htevents/htevents.hpp>

#include <cstdio>

int main(int argc, char** argv) {
  htevents::Config config;
  if (argc > 1) config.endpoint = argv[1];  // default: https://us-east-1.hightouch-events.com
  htevents::Client client("YOUR_WRITE_KEY", config);

  htevents::Status s = client.enqueue(htevents::Track{
      .user_id = "user-42", .event = "Order completed",
      .properties = {{"total", 29.99}, {"currency", "USD"}, {"quantity", 3}}});
  if (s != htevents::Status::ok) std::fprintf(stderr, "%s\n", htevents::to_string(s).data());

  s = client.track("Order completed").user_id("user-42").property("total", 29.99).send();  // fast path

  bool const all_sent = client.close(std::chrono::seconds(5));  // delivers what is queued
  std::printf("%s %s\n", all_sent ? "delivered" : "not all delivered", client.stats().to_json().c_str());
  return 0;
}
