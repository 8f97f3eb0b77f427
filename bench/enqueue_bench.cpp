// Enqueue cost on the caller's thread for the W1 workload (docs/benchmarks.md), with 1-8 caller
// threads, next to two baselines measured in the same binary:
// - a pointer pushed into a moodycamel::ConcurrentQueue with a producer token: the floor, since
//   our ring is that queue;
// - librdkafka's rd_kafka_producev of the pre-serialized W1 JSON (RD_KAFKA_MSG_F_COPY), the
//   producer peers are usually compared with. It is given the JSON ready-made; we encode.
//
// Every run has a fixed iteration count per thread so that the memory the queued events take
// stays bounded (the shared Client holds up to 1 GiB; the collector drains it meanwhile).
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include <unistd.h>

#include <concurrentqueue/concurrentqueue.h>
#if defined(HTEVENTS_BENCH_HAVE_RDKAFKA)
#include <librdkafka/rdkafka.h>
#endif

#include "collector/collector.hpp"
#include "htevents/htevents.hpp"
#include "load/w1.hpp"

namespace {

using htevents::Status;

constexpr std::int64_t iterations_per_thread = 200'000;

using htevents::load::send_w1_fast;
using htevents::load::W1Ids;
using htevents::load::w1_event;

// One collector and one Client for every enqueue benchmark in the process. Destroyed at exit,
// client first (it closes and delivers what is left).
struct SharedClient {
  SharedClient() : collector(), client("bench-write-key", make_config(collector)) {}
  static htevents::Config make_config(htevents::collector::Collector const& c) {
    htevents::Config config;
    config.endpoint = c.endpoint();
    config.max_queue_bytes = std::size_t{1} << 30;
    config.backpressure = htevents::Backpressure::drop_newest;
    return config;
  }
  htevents::collector::Collector collector;
  htevents::Client client;
};

SharedClient& shared() {
  static SharedClient instance;
  return instance;
}

// The same with Config::spool_dir (docs/durability.md): blocks in a file-backed arena, every
// record framed and checksummed, every batch written to a segment. The directory is
// $HTEVENTS_BENCH_SPOOL_DIR, or a new one under /tmp; its file system matters (say which in
// docs/benchmarks.md). 256 MiB of queue: the arena is reserved on disk.
struct SpooledClient {
  SpooledClient() : collector(), dir(make_dir()), client("bench-write-key", make_config(collector, dir)) {}
  ~SpooledClient() {
    client.close(std::chrono::seconds(60));
    std::filesystem::remove_all(dir);
  }
  static std::string make_dir() {
    if (char const* env = std::getenv("HTEVENTS_BENCH_SPOOL_DIR"); env != nullptr && *env != '\0') {
      return std::string(env) + "/bench-" + std::to_string(::getpid());
    }
    char tmpl[] = "/tmp/htevents-bench-spool-XXXXXX";
    return ::mkdtemp(tmpl);
  }
  static htevents::Config make_config(htevents::collector::Collector const& c, std::string const& dir) {
    htevents::Config config = SharedClient::make_config(c);
    config.max_queue_bytes = std::size_t{256} << 20;
    config.spool_dir = dir;
    return config;
  }
  htevents::collector::Collector collector;
  std::string dir;
  htevents::Client client;
};

SpooledClient& spooled() {
  static SpooledClient instance;
  return instance;
}

// Runs before the start barrier on thread 0: the previous run's events are delivered before this
// run is timed, so the sender does not compete with it.
void settle_before_run(benchmark::State& state) {
  if (state.thread_index() != 0) return;
  if (!shared().client.flush(std::chrono::seconds(120))) state.SkipWithError("flush timed out between runs");
}

void report(benchmark::State& state, std::uint64_t rejected) {
  state.SetItemsProcessed(state.iterations());
  state.counters["rejected"] = static_cast<double>(rejected);
  if (rejected != 0) state.SkipWithError("enqueue rejected events: the numbers would be of the rejection path");
}

constexpr std::uint64_t pool = 1024;  // prebuilt items per thread, cycled through

// `pool` items make(i), with indexes distinct per thread; built before the timed loop.
template <class Make>
auto prebuilt(benchmark::State const& state, Make make) {
  std::vector<std::invoke_result_t<Make&, std::uint64_t>> items;
  items.reserve(pool);
  std::uint64_t const base = static_cast<std::uint64_t>(state.thread_index()) * pool;
  for (std::uint64_t k = 0; k < pool; ++k) items.push_back(make(base + k));
  return items;
}

// The timed loop over prebuilt items: offer(item) says whether it was accepted. Returns how many
// were not.
template <class T, class Offer>
std::uint64_t cycle(benchmark::State& state, std::vector<T> const& items, Offer offer) {
  std::uint64_t rejected = 0;
  std::size_t next = 0;
  for (auto _ : state) {
    if (!offer(items[next])) ++rejected;
    if (++next == pool) next = 0;
  }
  return rejected;
}

void BM_Enqueue_FastPath(benchmark::State& state) {
  settle_before_run(state);
  htevents::Client& client = shared().client;
  std::uint64_t i = static_cast<std::uint64_t>(state.thread_index()) << 40;  // distinct user ids per thread
  std::uint64_t rejected = 0;
  for (auto _ : state) {
    if (send_w1_fast(client, i++) != Status::ok) ++rejected;
  }
  report(state, rejected);
}

// BM_Enqueue_FastPath with the spool on, side by side in the same binary.
void BM_Enqueue_FastPath_Spool(benchmark::State& state) {
  htevents::Client& client = spooled().client;
  if (state.thread_index() == 0 && !client.flush(std::chrono::seconds(120))) {
    state.SkipWithError("flush timed out between runs");
  }
  std::uint64_t i = static_cast<std::uint64_t>(state.thread_index()) << 40;
  std::uint64_t rejected = 0;
  for (auto _ : state) {
    if (send_w1_fast(client, i++) != Status::ok) ++rejected;
  }
  report(state, rejected);
}

// The struct API on prebuilt W1 events: what enqueue itself costs (validation, encoding,
// queueing). Building a Track allocates (strings, Object); that is the caller's cost, measured
// separately by BM_Enqueue_StructBuild.
void BM_Enqueue_Struct(benchmark::State& state) {
  settle_before_run(state);
  htevents::Client& client = shared().client;
  std::vector<htevents::Track> const events = prebuilt(state, w1_event);
  report(state, cycle(state, events, [&](htevents::Track const& event) { return client.enqueue(event) == Status::ok; }));
}

// The struct API as a caller would usually use it: build W1 event i, then enqueue it.
void BM_Enqueue_StructBuild(benchmark::State& state) {
  settle_before_run(state);
  htevents::Client& client = shared().client;
  std::uint64_t i = static_cast<std::uint64_t>(state.thread_index()) << 40;
  std::uint64_t rejected = 0;
  for (auto _ : state) {
    if (client.enqueue(w1_event(i++)) != Status::ok) ++rejected;
  }
  report(state, rejected);
}

// --- baselines -----------------------------------------------------------------------------

moodycamel::ConcurrentQueue<void*>& pointer_queue() {
  static moodycamel::ConcurrentQueue<void*> queue(8 * iterations_per_thread);
  return queue;
}

void BM_Baseline_MoodycamelPointer(benchmark::State& state) {
  auto& queue = pointer_queue();
  if (state.thread_index() == 0) {  // empty what the previous run left (before the barrier)
    void* items[1024];
    while (queue.try_dequeue_bulk(items, 1024) != 0) {
    }
  }
  moodycamel::ProducerToken token(queue);
  static int payload = 0;
  std::uint64_t rejected = 0;
  for (auto _ : state) {
    if (!queue.enqueue(token, &payload)) ++rejected;
  }
  report(state, rejected);
}

#if defined(HTEVENTS_BENCH_HAVE_RDKAFKA)
// A producer that can never connect (127.0.0.1:1 is closed): every message stays queued in
// librdkafka, so what is timed is producev's own work, as with our enqueue.
struct KafkaProducer {
  KafkaProducer() {
    char err[512];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    auto set = [&](char const* name, char const* value) {
      if (rd_kafka_conf_set(conf, name, value, err, sizeof err) != RD_KAFKA_CONF_OK)
        std::fprintf(stderr, "rdkafka config %s: %s\n", name, err);
    };
    set("bootstrap.servers", "127.0.0.1:1");
    set("queue.buffering.max.messages", "10000000");
    set("queue.buffering.max.kbytes", "2097151");
    set("linger.ms", "900000");
    set("message.timeout.ms", "0");  // never expire: the run purges them
    set("log_level", "0");
    rd_kafka_conf_set_log_cb(conf, [](rd_kafka_t const*, int, char const*, char const*) {});
    handle = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    if (handle == nullptr) std::fprintf(stderr, "rd_kafka_new: %s\n", err);
  }
  void purge() {
    rd_kafka_purge(handle, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    rd_kafka_poll(handle, 0);  // frees the purged messages (no delivery report callback)
  }
  // Never destroyed: rd_kafka_destroy would wait for its broker threads at exit for nothing.
  rd_kafka_t* handle = nullptr;
};

KafkaProducer& kafka() {
  static KafkaProducer* instance = new KafkaProducer();
  return *instance;
}

// The W1 event as the JSON our encoder produces for it (messageId and timestamp included), so
// both sides move the same bytes.
std::string w1_json(std::uint64_t i) {
  W1Ids const ids(i);
  std::string json = R"({"type":"track","event":"Order completed","userId":")";
  json.append(ids.user_id());
  json += R"(","properties":{"total":29.99,"currency":"USD","product_id":")";
  json.append(ids.product_id());
  json += R"(","quantity":)" + std::to_string(i % 10) +
          R"(,"coupon":null},"messageId":"6f1c2a8e-3b7d-4e21-9a4c-0d5e8f7b6a31","timestamp":"2026-11-26T10:00:00.123Z"})";
  return json;
}

void BM_Baseline_RdKafkaProducev(benchmark::State& state) {
  KafkaProducer& producer = kafka();
  if (producer.handle == nullptr) {
    state.SkipWithError("rd_kafka_new failed");
    return;
  }
  if (state.thread_index() == 0) producer.purge();
  std::vector<std::string> const payloads = prebuilt(state, w1_json);
  report(state, cycle(state, payloads, [&](std::string const& payload) {
           return rd_kafka_producev(producer.handle, RD_KAFKA_V_TOPIC("w1"), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                    RD_KAFKA_V_VALUE(const_cast<char*>(payload.data()), payload.size()),
                                    RD_KAFKA_V_END) == RD_KAFKA_RESP_ERR_NO_ERROR;
         }));
}
BENCHMARK(BM_Baseline_RdKafkaProducev)
    ->Iterations(iterations_per_thread)
    ->Threads(1)
    ->Threads(2)
    ->Threads(8)
    ->UseRealTime();
#endif

}  // namespace

BENCHMARK(BM_Enqueue_FastPath)
    ->Iterations(iterations_per_thread)
    ->Threads(1)
    ->Threads(2)
    ->Threads(4)
    ->Threads(8)
    ->UseRealTime();
BENCHMARK(BM_Enqueue_FastPath_Spool)->Iterations(iterations_per_thread)->Threads(1)->Threads(2)->UseRealTime();
BENCHMARK(BM_Enqueue_Struct)
    ->Iterations(iterations_per_thread)
    ->Threads(1)
    ->Threads(2)
    ->Threads(4)
    ->Threads(8)
    ->UseRealTime();
BENCHMARK(BM_Enqueue_StructBuild)->Iterations(iterations_per_thread)->Threads(1)->Threads(8)->UseRealTime();
BENCHMARK(BM_Baseline_MoodycamelPointer)
    ->Iterations(iterations_per_thread)
    ->Threads(1)
    ->Threads(2)
    ->Threads(4)
    ->Threads(8)
    ->UseRealTime();
