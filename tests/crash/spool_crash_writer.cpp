// spool_crash_writer: the process the crash tests kill (spool_crash_test.cpp). A Client with
// spool_dir set and the short timers of crash_config(), and either
//   --mode write:   T threads enqueue W1 events with deterministic messageIds
//                   (crash::message_id(tag, t, i)), recording after every `ok` the accepted
//                   prefix of each thread in the shared counters file; with --events N each
//                   thread stops after N events, then the client is closed and the final stats
//                   and VmHWM recorded; without, it writes until killed.
//   --mode recover: enqueues nothing: the client adopts what it finds in spool_dir and
//                   delivers it; exits once nothing is spooled or pending (or is killed first).
// A sampler thread copies stats() into the counters file every 2 ms.
//
//   spool_crash_writer --spool-dir D --endpoint URL --counters FILE --threads T --mode M
//                      [--tag X] [--events N] [--max-queue-bytes B] [--batch-size N]
// Exit status: 0 done, 2 bad arguments, 3 the client could not be created or a run failed.

#include <pthread.h>

#include <atomic>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <limits>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "crash/crash_shared.hpp"
#include "htevents/htevents.hpp"
#include "load/w1.hpp"

namespace {

using namespace htevents;

struct Args {
  std::string spool_dir, endpoint, counters, mode = "write", tag = "w";
  std::size_t threads = 2;
  std::optional<std::uint64_t> events;  // per thread; none: until killed
  std::optional<std::size_t> max_queue_bytes;
  std::optional<std::size_t> batch_size;
};

template <class T>
T number(std::string_view flag, std::string_view text) {
  T value{};
  auto const [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc{} || end != text.data() + text.size()) {
    std::fprintf(stderr, "spool_crash_writer: bad value '%.*s' for %.*s\n", static_cast<int>(text.size()), text.data(),
                 static_cast<int>(flag.size()), flag.data());
    std::exit(2);
  }
  return value;
}

Args parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    std::string_view const flag = argv[i];
    if (i + 1 >= argc) {
      std::fprintf(stderr, "spool_crash_writer: %s needs a value\n", argv[i]);
      std::exit(2);
    }
    std::string_view const value = argv[++i];
    if (flag == "--spool-dir") a.spool_dir = value;
    else if (flag == "--endpoint") a.endpoint = value;
    else if (flag == "--counters") a.counters = value;
    else if (flag == "--mode") a.mode = value;
    else if (flag == "--tag") a.tag = value;
    else if (flag == "--threads") a.threads = number<std::size_t>(flag, value);
    else if (flag == "--events") a.events = number<std::uint64_t>(flag, value);
    else if (flag == "--max-queue-bytes") a.max_queue_bytes = number<std::size_t>(flag, value);
    else if (flag == "--batch-size") a.batch_size = number<std::size_t>(flag, value);
    else {
      std::fprintf(stderr, "spool_crash_writer: unknown flag %s\n", argv[i - 1]);
      std::exit(2);
    }
  }
  if (a.spool_dir.empty() || a.endpoint.empty() || a.counters.empty() || (a.mode != "write" && a.mode != "recover")) {
    std::fprintf(stderr, "spool_crash_writer: needs --spool-dir, --endpoint, --counters and --mode write|recover\n");
    std::exit(2);
  }
  return a;
}

void record(crash::SharedCounters& c, Stats const& s) noexcept {
  c.store(crash::enqueued, s.enqueued);
  c.store(crash::delivered, s.delivered);
  c.store(crash::failed, s.failed);
  c.store(crash::recovered, s.recovered);
  c.store(crash::spooled_events, s.spooled_events);
  c.store(crash::pending, s.pending());
  c.store(crash::spool_corrupt, s.spool_corrupt);
  c.store(crash::spool_errors, s.spool_errors);
  c.store(crash::queued_events, s.queued_events);
}

std::uint64_t vm_hwm_kib() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::strtoull(line.c_str() + 6, nullptr, 10);
  }
  return 0;
}

// W1 event i with its messageId set first (top-level fields come before the properties).
Status send_event(Client& client, std::string_view id, std::uint64_t i) noexcept {
  load::W1Ids const ids(i);
  return client.track("Order completed")
      .message_id(id)
      .user_id(ids.user_id())
      .property("total", 29.99)
      .property("currency", "USD")
      .property("product_id", ids.product_id())
      .property("quantity", i % 10)
      .property("coupon", nullptr)
      .send();
}

int run(Args const& a) {
  crash::SharedCounters counters = crash::SharedCounters::open(a.counters);
  if (a.mode == "write" && counters.thread_count() < a.threads) {
    std::fprintf(stderr, "spool_crash_writer: the counters file has room for %zu threads\n", counters.thread_count());
    return 2;
  }
  Config config = crash::crash_config(a.endpoint, a.spool_dir);
  if (a.max_queue_bytes) config.max_queue_bytes = *a.max_queue_bytes;
  if (a.batch_size) config.batch_size = *a.batch_size;
  Client client(crash::crash_write_key, config);
  counters.store(crash::started, 1);

  std::jthread sampler([&](std::stop_token stop) {
    pthread_setname_np(pthread_self(), "crash-sampler");
    while (!stop.stop_requested()) {
      record(counters, client.stats());
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  });

  if (a.mode == "recover") {
    // Done when nothing is spooled, pending or in flight on two samples 50 ms apart.
    int quiet = 0;
    while (quiet < 2) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      Stats const s = client.stats();
      quiet = s.spooled_events == 0 && s.pending() == 0 && s.in_flight == 0 ? quiet + 1 : 0;
    }
  } else {
    std::uint64_t const per_thread = a.events.value_or(std::numeric_limits<std::uint64_t>::max());
    std::vector<std::jthread> producers;
    for (std::size_t t = 0; t < a.threads; ++t) {
      producers.emplace_back([&, t] {
        pthread_setname_np(pthread_self(), "crash-producer");
        counters.add(crash::producing, 1);
        std::string id;
        for (std::uint64_t i = 0; i < per_thread; ++i) {
          id = crash::message_id(a.tag, t, i);
          // Retried with the same messageId until accepted, so that the accepted events of a
          // thread are always a prefix 0..n-1.
          while (send_event(client, id, i) != Status::ok) {
            counters.add(crash::not_ok, 1);
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
          }
          counters.set_accepted(t, i + 1);  // after the ok: pairs with the test's acquire load
        }
      });
    }
    producers.clear();  // joins
    counters.store(crash::all_enqueued, 1);
  }

  bool const closed = client.close(std::chrono::seconds(120));
  sampler.request_stop();
  sampler.join();
  Stats const final_stats = client.stats();
  record(counters, final_stats);
  counters.store(crash::vm_hwm_kib, vm_hwm_kib());
  counters.store(crash::close_ok, closed ? 1 : 0);
  counters.store(crash::done, 1);
  return closed ? 0 : 3;
}

}  // namespace

int main(int argc, char** argv) {
  Args const args = parse(argc, argv);
  try {
    return run(args);
  } catch (std::exception const& e) {
    std::fprintf(stderr, "spool_crash_writer: %s\n", e.what());
    return 3;
  }
}
