// The collector's per-request work without HTTP: zstd decode, simdjson parse, per-type counts and
// unique-messageId counting, on W1 batches (250 track messages, zstd level 1).
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "collector/batch_checker.hpp"
#include "collector/codec.hpp"
#include "collector/id_set.hpp"

namespace {

std::string uuid_v4(std::mt19937_64& rng) {
  std::uint64_t hi = rng();
  std::uint64_t lo = rng();
  hi = (hi & 0xFFFFFFFFFFFF0FFFULL) | 0x0000000000004000ULL;
  lo = (lo & 0x3FFFFFFFFFFFFFFFULL) | 0x8000000000000000ULL;
  char text[37];
  std::snprintf(text, sizeof text, "%08x-%04x-%04x-%04x-%012llx", static_cast<unsigned>(hi >> 32),
                static_cast<unsigned>((hi >> 16) & 0xFFFF), static_cast<unsigned>(hi & 0xFFFF),
                static_cast<unsigned>(lo >> 48), static_cast<unsigned long long>(lo & 0xFFFFFFFFFFFFULL));
  return text;
}

std::string w1_batch(std::mt19937_64& rng, int messages) {
  std::string body = R"({"messageId":")" + uuid_v4(rng) + R"(","sentAt":"2026-11-26T10:00:00.456Z","batch":[)";
  for (int i = 0; i < messages; ++i) {
    if (i != 0) body += ',';
    body += R"({"type":"track","messageId":")" + uuid_v4(rng) + R"(","userId":"user-)" + std::to_string(i) +
            R"(","event":"Order completed","timestamp":"2026-11-26T10:00:00.123Z","properties":{"total":29.99,"currency":"USD","product_id":"sku-)" +
            std::to_string(i % 1000) + R"(","quantity":)" + std::to_string(i % 10) + R"(,"coupon":null}})";
  }
  body += R"(],"context":{"library":{"name":"events-sdk-cpp","version":"0.1.0"}}})";
  return body;
}

void BM_Collector_DecodeParseCount(benchmark::State& state) {
  using namespace htevents::collector;
  constexpr int messages = 250;
  constexpr std::size_t pool = 64;  // distinct batches: every id is fresh within one pass
  std::mt19937_64 rng(42);
  std::vector<std::string> wire;
  std::size_t raw_bytes = 0;
  for (std::size_t i = 0; i < pool; ++i) {
    std::string const body = w1_batch(rng, messages);
    raw_bytes += body.size();
    wire.push_back(zstd_compress(body, 1));
  }
  BatchChecker checker;
  MessageIdSet ids(pool * messages);
  std::size_t next = 0;
  std::uint64_t decoded_bytes = 0;
  for (auto _ : state) {
    CheckResult const result = checker.check(Encoding::zstd, wire[next]);
    if (result.status != BodyStatus::ok || result.valid != messages || result.invalid != 0 ||
        result.by_type[static_cast<std::size_t>(MessageType::track)] != messages) {
      state.SkipWithError("wrong counts from BatchChecker::check");
      break;
    }
    ids.insert_all(checker.ids());
    decoded_bytes += result.decoded_bytes;
    if (++next == pool) {
      if (ids.size() != pool * messages) {
        state.SkipWithError("wrong unique messageId count");
        break;
      }
      // Start the next pass with an empty set, so that every insert is a fresh id again.
      ids.clear();
      next = 0;
    }
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * messages);
  state.SetBytesProcessed(static_cast<std::int64_t>(decoded_bytes));  // decoded JSON bytes
  state.counters["wire_ratio"] = static_cast<double>(raw_bytes) /
                                 static_cast<double>([&] {
                                   std::size_t n = 0;
                                   for (auto const& w : wire) n += w.size();
                                   return n;
                                 }());
}
BENCHMARK(BM_Collector_DecodeParseCount);

}  // namespace



