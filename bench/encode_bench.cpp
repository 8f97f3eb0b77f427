// Encoding cost per message type through the struct API, and request-body compression on real
// W1 batch bodies (docs/benchmarks.md).
//
// Encoding alone is internal to the client (it writes into the producer's arena), so the
// honest public measure is enqueue of a prebuilt message into a Client whose endpoint is a local
// collector: validation + encoding + one ring push. Bytes are the encoded bytes as the client
// counts them (Stats::bytes_uncompressed / Stats::enqueued, envelope included).
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "batch/batch.hpp"
#include "batch/compressor.hpp"
#include "collector/codec.hpp"
#include "collector/collector.hpp"
#include "htevents/htevents.hpp"
#include "load/w1.hpp"

namespace {

using htevents::Status;

constexpr std::uint64_t pool = 1024;  // distinct prebuilt messages cycled through

htevents::Properties w1_properties(std::uint64_t i) {
  return {{"total", 29.99},
          {"currency", "USD"},
          {"product_id", "sku-" + std::to_string(i % 1000)},
          {"quantity", i % 10},
          {"coupon", nullptr}};
}

using htevents::load::w1_event;

// The other five types carry the same payload where they have one (traits for identify and
// group), so the types can be compared.
template <class Message>
Message make_message(std::uint64_t i);
template <>
htevents::Track make_message<htevents::Track>(std::uint64_t i) {
  return w1_event(i);
}
template <>
htevents::Identify make_message<htevents::Identify>(std::uint64_t i) {
  return {.user_id = "user-" + std::to_string(i), .traits = w1_properties(i)};
}
template <>
htevents::Page make_message<htevents::Page>(std::uint64_t i) {
  return {.user_id = "user-" + std::to_string(i), .name = "Checkout", .properties = w1_properties(i)};
}
template <>
htevents::Screen make_message<htevents::Screen>(std::uint64_t i) {
  return {.user_id = "user-" + std::to_string(i), .name = "Checkout", .properties = w1_properties(i)};
}
template <>
htevents::Group make_message<htevents::Group>(std::uint64_t i) {
  return {.user_id = "user-" + std::to_string(i), .group_id = "org-" + std::to_string(i % 100),
          .traits = w1_properties(i)};
}
template <>
htevents::Alias make_message<htevents::Alias>(std::uint64_t i) {
  return {.user_id = "user-" + std::to_string(i), .previous_id = "anon-" + std::to_string(i)};
}

htevents::Config local_config(htevents::collector::Collector const& collector) {
  htevents::Config config;
  config.endpoint = collector.endpoint();
  config.max_queue_bytes = std::size_t{1} << 30;
  config.backpressure = htevents::Backpressure::drop_newest;
  return config;
}

template <class Message>
void BM_Encode(benchmark::State& state) {
  htevents::collector::Collector collector;
  htevents::Client client("bench-write-key", local_config(collector));
  std::vector<Message> messages;
  messages.reserve(pool);
  for (std::uint64_t k = 0; k < pool; ++k) messages.push_back(make_message<Message>(k));
  std::uint64_t rejected = 0;
  std::size_t next = 0;
  for (auto _ : state) {
    if (client.enqueue(messages[next]) != Status::ok) ++rejected;
    if (++next == pool) next = 0;
  }
  if (rejected != 0) {
    state.SkipWithError("enqueue rejected messages");
    return;
  }
  if (!client.flush(std::chrono::seconds(120))) {
    state.SkipWithError("flush timed out");
    return;
  }
  htevents::Stats const stats = client.stats();
  if (stats.delivered != stats.enqueued) {
    state.SkipWithError("not every message was delivered");
    return;
  }
  double const bytes_per_message =
      static_cast<double>(stats.bytes_uncompressed) / static_cast<double>(stats.enqueued);
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(static_cast<std::int64_t>(bytes_per_message * static_cast<double>(state.iterations())));
  state.counters["bytes_per_msg"] = bytes_per_message;
}

void BM_Encode_Identify(benchmark::State& state) { BM_Encode<htevents::Identify>(state); }
void BM_Encode_Track(benchmark::State& state) { BM_Encode<htevents::Track>(state); }
void BM_Encode_Page(benchmark::State& state) { BM_Encode<htevents::Page>(state); }
void BM_Encode_Screen(benchmark::State& state) { BM_Encode<htevents::Screen>(state); }
void BM_Encode_Group(benchmark::State& state) { BM_Encode<htevents::Group>(state); }
void BM_Encode_Alias(benchmark::State& state) { BM_Encode<htevents::Alias>(state); }

// --- compression ----------------------------------------------------------------------------

// A real 250-event W1 request body: built by the client's serializer and kept by the collector
// (decoded, so exactly the bytes the client compressed).
std::string const& w1_body() {
  static std::string const body = [] {
    htevents::collector::Options options;
    options.keep_bodies = true;
    htevents::collector::Collector collector(options);
    htevents::Config config = local_config(collector);
    config.interval = std::chrono::minutes(1);  // batches close on batch_size (250) or flush only
    htevents::Client client("bench-write-key", config);
    for (std::uint64_t i = 0; i < 250; ++i) {
      if (client.enqueue(w1_event(i)) != Status::ok) return std::string();
    }
    if (!client.flush(std::chrono::seconds(30))) return std::string();
    std::vector<std::string> bodies = collector.bodies();
    return bodies.size() == 1 ? std::move(bodies.front()) : std::string();
  }();
  return body;
}

void BM_Compress(benchmark::State& state, htevents::Compression encoding, int level) {
  std::string const& body = w1_body();
  if (body.empty()) {
    state.SkipWithError("could not build a 250-event W1 body");
    return;
  }
  htevents::detail::Compressor compressor(level);
  htevents::detail::ByteBuffer out(body.size() + 1024);
  if (!compressor.compress(encoding, body, out)) {
    state.SkipWithError("compress failed");
    return;
  }
  // Check the answer once before timing: the round trip gives the input back.
  htevents::collector::Decoder decoder;
  auto const codec = encoding == htevents::Compression::zstd ? htevents::collector::Encoding::zstd
                                                             : htevents::collector::Encoding::gzip;
  if (decoder.decode(codec, out.view(), body.size() * 2) != htevents::collector::DecodeStatus::ok ||
      decoder.output() != body) {
    state.SkipWithError("round trip does not give the input back");
    return;
  }
  for (auto _ : state) {
    if (!compressor.compress(encoding, body, out)) {
      state.SkipWithError("compress failed");
      return;
    }
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations() * 250);  // events
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(body.size()));
  state.counters["ratio"] = static_cast<double>(body.size()) / static_cast<double>(out.size());
  state.counters["wire_bytes_per_event"] = static_cast<double>(out.size()) / 250.0;
  state.counters["body_bytes"] = static_cast<double>(body.size());
}

void BM_Compress_Zstd1(benchmark::State& state) { BM_Compress(state, htevents::Compression::zstd, 1); }
void BM_Compress_Zstd3(benchmark::State& state) { BM_Compress(state, htevents::Compression::zstd, 3); }
void BM_Compress_Gzip(benchmark::State& state) { BM_Compress(state, htevents::Compression::gzip, 1); }
void BM_Compress_Gzip6(benchmark::State& state) { BM_Compress(state, htevents::Compression::gzip, 6); }

}  // namespace

BENCHMARK(BM_Encode_Identify)->Iterations(200'000);
BENCHMARK(BM_Encode_Track)->Iterations(200'000);
BENCHMARK(BM_Encode_Page)->Iterations(200'000);
BENCHMARK(BM_Encode_Screen)->Iterations(200'000);
BENCHMARK(BM_Encode_Group)->Iterations(200'000);
BENCHMARK(BM_Encode_Alias)->Iterations(200'000);
BENCHMARK(BM_Compress_Zstd1);
BENCHMARK(BM_Compress_Zstd3);
BENCHMARK(BM_Compress_Gzip);
BENCHMARK(BM_Compress_Gzip6);
