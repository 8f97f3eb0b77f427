// Micro-benchmarks of the encoder's JSON primitives (src/message/json_primitives.hpp).
// Each benchmark checks its output once before timing and skips with an error if it is wrong.
//
//   htevents_bench --benchmark_filter='BM_(JsonString|Double|Integer|Timestamp|Uuid)'

#include "message/json_primitives.hpp"

#include <benchmark/benchmark.h>

#include <array>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace {

namespace hd = htevents::detail;

std::string ascii_string(std::size_t n) {
  static constexpr std::string_view alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 -_.:/";
  std::string s;
  for (std::size_t i = 0; i < n; ++i) s += alphabet[(i * 7 + 3) % alphabet.size()];
  return s;
}

void BM_JsonString_Ascii(benchmark::State& state) {
  std::string const s = ascii_string(static_cast<std::size_t>(state.range(0)));
  std::vector<char> buffer(hd::max_json_string_size(s.size()));
  char* end = hd::write_json_string(buffer.data(), s);
  if (std::string_view(buffer.data(), static_cast<std::size_t>(end - buffer.data())) != "\"" + s + "\"") {
    state.SkipWithError("wrong output");
    return;
  }
  for (auto _ : state) {
    benchmark::DoNotOptimize(s.data());
    end = hd::write_json_string(buffer.data(), s);
    benchmark::DoNotOptimize(end);
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_JsonString_Ascii)->Arg(16)->Arg(64)->Arg(1024);

void BM_JsonString_Escaped(benchmark::State& state) {
  // 64 bytes: quotes, a backslash, a newline, a tab, a control byte, é and €.
  std::string const s = "He said \"caf\xC3\xA9\" \\ costs 3\xE2\x82\xAC\n\tthen left\x01 the building, ok.";
  std::string const want = "\"He said \\\"caf\xC3\xA9\\\" \\\\ costs 3\xE2\x82\xAC\\n\\tthen left\\u0001 the building, ok.\"";
  std::vector<char> buffer(hd::max_json_string_size(s.size()));
  char* end = hd::write_json_string(buffer.data(), s);
  if (std::string_view(buffer.data(), static_cast<std::size_t>(end - buffer.data())) != want ||
      hd::json_string_size(s) != want.size()) {
    state.SkipWithError("wrong output");
    return;
  }
  for (auto _ : state) {
    benchmark::DoNotOptimize(s.data());
    end = hd::write_json_string(buffer.data(), s);
    benchmark::DoNotOptimize(end);
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(s.size()));
}
BENCHMARK(BM_JsonString_Escaped);

void BM_JsonString_Size(benchmark::State& state) {
  std::string const s = ascii_string(static_cast<std::size_t>(state.range(0)));
  if (hd::json_string_size(s) != s.size() + 2) {
    state.SkipWithError("wrong size");
    return;
  }
  for (auto _ : state) {
    benchmark::DoNotOptimize(s.data());
    benchmark::DoNotOptimize(hd::json_string_size(s));
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_JsonString_Size)->Arg(16)->Arg(64);

void BM_Double(benchmark::State& state) {
  // Mostly prices and measurements, with some arbitrary doubles.
  std::mt19937_64 rng(1);
  std::array<double, 1024> values{};
  for (std::size_t i = 0; i < values.size(); ++i) {
    values[i] = i % 4 == 3 ? std::uniform_real_distribution<double>(-1e6, 1e6)(rng)
                           : static_cast<double>(rng() % 100000) / 100.0;
  }
  char buffer[hd::max_double_size];
  for (double v : values) {
    char* end = hd::write_double(buffer, v);
    double parsed = 0;
    auto const [ptr, ec] = std::from_chars(buffer, end, parsed);
    if (ec != std::errc{} || ptr != end || parsed != v) {
      state.SkipWithError("does not round-trip");
      return;
    }
  }
  std::size_t i = 0;
  std::int64_t bytes = 0;
  for (auto _ : state) {
    char* end = hd::write_double(buffer, values[i++ & 1023]);
    bytes += end - buffer;
    benchmark::DoNotOptimize(end);
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(bytes);
}
BENCHMARK(BM_Double);

void BM_Integer(benchmark::State& state) {
  std::mt19937_64 rng(2);
  std::array<std::int64_t, 1024> values{};
  for (auto& v : values) v = static_cast<std::int64_t>(rng() >> (rng() % 64)) * ((rng() & 1) != 0 ? 1 : -1);
  char buffer[hd::max_integer_size];
  if (std::string_view(buffer, hd::write_integer(buffer, values[5])) != std::to_string(values[5])) {
    state.SkipWithError("wrong output");
    return;
  }
  std::size_t i = 0;
  std::int64_t bytes = 0;
  for (auto _ : state) {
    char* end = hd::write_integer(buffer, values[i++ & 1023]);
    bytes += end - buffer;
    benchmark::DoNotOptimize(end);
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(bytes);
}
BENCHMARK(BM_Integer);

// Arg 0: successive calls 1.3 us apart, as enqueue timestamps are (mostly the cached second).
// Arg 1: every call in a new second (cache always misses: the full civil-date path).
void BM_Timestamp(benchmark::State& state) {
  using namespace std::chrono;
  auto t = system_clock::time_point{sys_days{2024y / March / 13}.time_since_epoch() + 15h + 56min + 32s + 123456700ns};
  char buffer[hd::max_timestamp_size];
  if (std::string_view(buffer, hd::write_timestamp(buffer, t)) != "\"2024-03-13T15:56:32.1234567Z\"") {
    state.SkipWithError("wrong output");
    return;
  }
  auto const step = state.range(0) == 0 ? system_clock::duration{1300ns} : system_clock::duration{1s + 1300ns};
  std::int64_t bytes = 0;
  for (auto _ : state) {
    char* end = hd::write_timestamp(buffer, t);
    t += step;
    bytes += end - buffer;
    benchmark::DoNotOptimize(end);
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(bytes);
}
BENCHMARK(BM_Timestamp)->Arg(0)->Arg(1);

void BM_Uuid(benchmark::State& state) {
  hd::UuidGenerator generator;
  char buffer[hd::UuidGenerator::size];
  generator.write(buffer);
  std::string_view const id(buffer, sizeof buffer);
  for (std::size_t i = 0; i < id.size(); ++i) {
    bool const dash = i == 8 || i == 13 || i == 18 || i == 23;
    bool const hex = (id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f');
    if (dash ? id[i] != '-' : !hex) {
      state.SkipWithError("wrong format");
      return;
    }
  }
  if (id[14] != '4' || std::string_view("89ab").find(id[19]) == std::string_view::npos) {
    state.SkipWithError("wrong version or variant");
    return;
  }
  for (auto _ : state) {
    benchmark::DoNotOptimize(generator.write(buffer));
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(hd::UuidGenerator::size));
}
BENCHMARK(BM_Uuid);

void BM_IsValidJson(benchmark::State& state) {
  std::string const doc = R"({"plan":"pro","seats":12,"tags":["a","b"],"nested":{"ok":true,"price":29.99}})";
  if (!hd::is_valid_json(doc) || hd::is_valid_json(doc + "x")) {
    state.SkipWithError("wrong answer");
    return;
  }
  for (auto _ : state) benchmark::DoNotOptimize(hd::is_valid_json(doc));
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(doc.size()));
}
BENCHMARK(BM_IsValidJson);

}  // namespace


