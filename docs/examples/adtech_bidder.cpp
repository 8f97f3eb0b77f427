// A real-time bidder: several worker threads answer bid requests and log each one as an event.
//
// - Every worker calls the same Client: enqueue is thread-safe, and each thread encodes into its
//   own arena block, so workers do not contend on a lock.
// - Backpressure::drop_newest: the bid deadline is worth more than an analytics event. When
//   max_queue_bytes is used up, send() answers Status::queue_full at once and the event is not
//   accepted. Each worker counts its own drops (no shared counter on the hot path); the client
//   counts them too (Stats::dropped_newest).
// - Wins are rarer and richer: they use the struct API with designated initializers.
//
// Usage: adtech_bidder [--endpoint URL] [--events N] [--threads N] [--close-ms N]
// Exits 0 when the books balance: requests == accepted + dropped, and every accepted event was
// delivered or handed to on_failure.
#include <htevents/htevents.hpp>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "example_args.hpp"

namespace {

struct WorkerTally {
  std::uint64_t requests = 0;
  std::uint64_t accepted = 0;
  std::uint64_t dropped = 0;  // Status::queue_full under drop_newest
  std::uint64_t other = 0;    // any other status: a bug in the event
};

// A stand-in for the bidding logic: deterministic, cheap.
double bid_for(std::uint64_t request) { return static_cast<double>(request % 97) / 100.0; }

void serve(htevents::Client& client, int worker, std::uint64_t first, std::uint64_t count, WorkerTally& tally) {
  static constexpr char const* exchanges[] = {"adx", "openx", "pubmatic", "xandr"};
  std::string device = "device-";
  std::size_t const prefix = device.size();
  for (std::uint64_t r = first; r < first + count; ++r) {
    device.resize(prefix);
    device += std::to_string(r % 5000);  // small strings: no allocation after the first few
    double const floor_price = 0.25;
    double const bid = bid_for(r);
    htevents::Status s = client.track("Bid request")
                             .anonymous_id(device)
                             .property("exchange", exchanges[r % 4])
                             .property("worker", worker)
                             .property("floor", floor_price)
                             .property("bid", bid)
                             .property("bid_placed", bid >= floor_price)
                             .send();
    ++tally.requests;
    if (s == htevents::Status::ok) {
      ++tally.accepted;
    } else if (s == htevents::Status::queue_full) {
      ++tally.dropped;
    } else {
      ++tally.other;
    }
    if (bid >= 0.9) {  // a win notice: rare, so the allocating struct API is fine here
      ++tally.requests;
      s = client.enqueue(htevents::Track{.anonymous_id = device,
                                         .event = "Bid won",
                                         .properties = {{"exchange", exchanges[r % 4]},
                                                        {"price", bid},
                                                        {"creative", htevents::Object{{"id", "cr-7"}, {"w", 300}}}}});
      if (s == htevents::Status::ok) {
        ++tally.accepted;
      } else if (s == htevents::Status::queue_full) {
        ++tally.dropped;
      } else {
        ++tally.other;
      }
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  examples::Args const args = examples::parse(argc, argv);

  std::atomic<std::uint64_t> failed{0};
  htevents::Config config;
  config.endpoint = args.endpoint;
  config.backpressure = htevents::Backpressure::drop_newest;
  config.max_queue_bytes = std::size_t{4} << 20;  // analytics gets 4 MiB of this process, no more
  config.on_failure = [&failed](htevents::Failure const&) {  // sender thread; one call at a time
    failed.fetch_add(1, std::memory_order_relaxed);
  };
  htevents::Client client("BIDDER_WRITE_KEY", config);

  auto const workers = static_cast<std::uint64_t>(args.threads);
  auto const total = static_cast<std::uint64_t>(args.events);
  std::vector<WorkerTally> tallies(workers);
  std::vector<std::thread> threads;
  for (std::uint64_t w = 0; w < workers; ++w) {
    std::uint64_t const first = total * w / workers;
    std::uint64_t const count = total * (w + 1) / workers - first;
    threads.emplace_back(serve, std::ref(client), static_cast<int>(w), first, count, std::ref(tallies[w]));
  }
  for (auto& t : threads) t.join();

  WorkerTally sum;
  for (auto const& t : tallies) {
    sum.requests += t.requests;
    sum.accepted += t.accepted;
    sum.dropped += t.dropped;
    sum.other += t.other;
  }
  bool const all_delivered = client.close(std::chrono::milliseconds(args.close_ms));
  htevents::Stats const stats = client.stats();
  std::printf("workers=%llu events=%llu accepted=%llu dropped=%llu\n", static_cast<unsigned long long>(workers),
              static_cast<unsigned long long>(sum.requests), static_cast<unsigned long long>(sum.accepted),
              static_cast<unsigned long long>(sum.dropped));
  std::printf("delivered=%llu failed=%llu all_delivered=%s\n", static_cast<unsigned long long>(stats.delivered),
              static_cast<unsigned long long>(stats.failed), all_delivered ? "yes" : "no");

  bool const consistent = sum.requests == sum.accepted + sum.dropped && sum.other == 0 &&
                          stats.enqueued == sum.accepted && stats.dropped_newest == sum.dropped &&
                          stats.pending() == 0 && stats.failed == failed.load();
  if (!consistent) std::fprintf(stderr, "accounting mismatch: %s\n", stats.to_json().c_str());
  return consistent ? 0 : 1;
}
