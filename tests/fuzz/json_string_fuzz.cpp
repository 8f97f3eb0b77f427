// libFuzzer target for write_json_string / json_string_size (and is_valid_json on raw bytes).
//
// Build and run (from the repository root):
//   clang++-14 -std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
//     -pthread -DSIMDJSON_THREADS_ENABLED=1 -Iinclude -Isrc tests/fuzz/json_string_fuzz.cpp \
//     src/message/json_*.cpp src/message/uuid.cpp src/common/fast_clock.cpp -lsimdjson -o /tmp/json_string_fuzz
//   mkdir -p /tmp/json_string_corpus && /tmp/json_string_fuzz -max_total_time=60 /tmp/json_string_corpus
//
// Checks, for any input bytes:
//   - json_string_size(in) <= max_json_string_size(in.size()), and write_json_string writes exactly
//     that many bytes into a buffer of exactly that size (ASan catches any byte past it);
//   - the output parses with simdjson as one JSON string, and is_valid_json accepts it;
//   - if the input is valid UTF-8 the parsed string equals the input; in every case it equals an
//     independent reference of Go's replacement rule (each bad byte -> U+FFFD).
//   - is_valid_json(in) does not crash.

#include "message/json_primitives.hpp"

#include <simdjson.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

#include "support/reference_json.hpp"

namespace {

using htevents::testing::reference_sanitize;

[[noreturn]] void fail(char const* what) {
  std::fprintf(stderr, "json_string_fuzz: %s\n", what);
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace hd = htevents::detail;
  std::string_view const in(reinterpret_cast<const char*>(data), size);

  std::size_t const n = hd::json_string_size(in);
  if (n > hd::max_json_string_size(size) || n < size + 2) fail("json_string_size out of bounds");
  auto const buffer = std::make_unique<char[]>(n);  // exact size: ASan flags any overrun
  char* const end = hd::write_json_string(buffer.get(), in);
  if (static_cast<std::size_t>(end - buffer.get()) != n) fail("bytes written != json_string_size");
  std::string_view const json(buffer.get(), n);

  static simdjson::dom::parser parser;
  std::string_view parsed;
  if (parser.parse(json.data(), json.size()).get_string().get(parsed) != simdjson::SUCCESS) fail("output does not parse");
  if (simdjson::validate_utf8(in.data(), in.size()) && parsed != in) fail("valid UTF-8 input changed");
  if (parsed != reference_sanitize(in)) fail("differs from the reference replacement");
  if (!hd::is_valid_json(json)) fail("is_valid_json rejects the output");

  (void)hd::is_valid_json(in);
  return 0;
}
