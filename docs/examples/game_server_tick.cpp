// A game server's fixed-rate tick loop that emits analytics without ever stalling a tick.
//
// - The fast path (client.track(...).property(...).send()) encodes straight into this thread's
//   arena block: no heap allocation per event, no lock per event.
// - Backpressure::fail: when the endpoint falls behind and max_queue_bytes is used up, send()
//   answers Status::queue_full at once instead of waiting. The tick sheds the event and goes on.
// - The network is never touched on this thread; batches go out on the client's sender thread.
//
// Usage: game_server_tick [--endpoint URL] [--events N] [--tick-hz N] [--close-ms N]
// Exits 0 when every event is accounted for: accepted ones delivered or handed to on_failure.
#include <htevents/htevents.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "example_args.hpp"

namespace {

using Clock = std::chrono::steady_clock;
constexpr int players = 64;

struct Player {
  std::string id;
  double x = 0, y = 0;
};

}  // namespace

int main(int argc, char** argv) {
  examples::Args const args = examples::parse(argc, argv);

  std::atomic<std::uint64_t> failed_after_accept{0};
  htevents::Config config;
  config.endpoint = args.endpoint;
  config.backpressure = htevents::Backpressure::fail;  // never wait on the tick thread
  config.max_queue_bytes = std::size_t{8} << 20;       // analytics may use 8 MiB, then events are shed
  config.interval = std::chrono::milliseconds(1000);   // a second of delivery latency is fine here
  // Runs on a pipeline thread, never on the tick thread: keep it short and thread-safe.
  config.on_failure = [&failed_after_accept](htevents::Failure const&) {
    failed_after_accept.fetch_add(1, std::memory_order_relaxed);
  };
  htevents::Client client("GAME_SERVER_WRITE_KEY", config);

  // Everything that allocates happens before the loop.
  std::vector<Player> world(players);
  for (int p = 0; p < players; ++p) world[p].id = "player-" + std::to_string(p);
  constexpr std::array<char const*, 4> zones{"forest", "castle", "harbor", "desert"};

  auto const tick_length = std::chrono::nanoseconds(std::chrono::seconds(1)) / args.tick_hz;
  long emitted = 0, sent = 0, shed = 0, invalid = 0;
  std::int64_t tick = 0;
  Clock::duration worst_analytics_time{0};
  auto next_tick = Clock::now();

  while (emitted < args.events) {
    // ... the game simulation runs here ...
    auto const analytics_start = Clock::now();
    for (Player& player : world) {
      if (emitted == args.events) break;
      player.x += 0.5;
      player.y -= 0.25;
      htevents::Status const s = client.track("Player moved")
                                     .user_id(player.id)
                                     .property("tick", tick)
                                     .property("x", player.x)
                                     .property("y", player.y)
                                     .property("zone", zones[static_cast<std::size_t>(tick) % zones.size()])
                                     .send();
      ++emitted;
      if (s == htevents::Status::ok) {
        ++sent;
      } else if (s == htevents::Status::queue_full) {
        ++shed;  // the endpoint cannot keep up: drop it, the tick matters more
      } else {
        ++invalid;  // a bug in the event itself (see htevents::to_string(s))
      }
    }
    worst_analytics_time = std::max(worst_analytics_time, Clock::now() - analytics_start);
    ++tick;
    next_tick += tick_length;
    std::this_thread::sleep_until(next_tick);  // the fixed tick rate, not a synchronization
  }

  bool const all_delivered = client.close(std::chrono::milliseconds(args.close_ms));
  htevents::Stats const stats = client.stats();
  auto const worst_us = std::chrono::duration_cast<std::chrono::microseconds>(worst_analytics_time).count();
  std::printf("ticks=%lld events=%ld sent=%ld shed=%ld invalid=%ld worst_tick_analytics_us=%lld\n",
              static_cast<long long>(tick), emitted, sent, shed, invalid, static_cast<long long>(worst_us));
  std::printf("delivered=%llu failed=%llu all_delivered=%s\n", static_cast<unsigned long long>(stats.delivered),
              static_cast<unsigned long long>(stats.failed), all_delivered ? "yes" : "no");

  // The client's own books must match ours: nothing accepted is ever lost silently.
  bool const consistent = stats.enqueued == static_cast<std::uint64_t>(sent) &&
                          stats.dropped_newest == static_cast<std::uint64_t>(shed) && stats.pending() == 0 &&
                          stats.failed == failed_after_accept.load() && invalid == 0;
  if (!consistent) std::fprintf(stderr, "accounting mismatch: %s\n", stats.to_json().c_str());
  return consistent ? 0 : 1;
}
