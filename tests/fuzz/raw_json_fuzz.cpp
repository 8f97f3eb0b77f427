// libFuzzer target for is_valid_json (RawJson values are checked with it at enqueue).
//
// Build: tests/fuzz/CMakeLists.txt (-DHTEVENTS_BUILD_FUZZERS=ON with clang), then
//   mkdir -p /tmp/raw_json_corpus && ./raw_json_fuzz -max_total_time=60 /tmp/raw_json_corpus
//
// For any input bytes, is_valid_json never crashes or reads out of bounds (the input is passed
// unpadded, in a buffer of exactly its size), and agrees with a simdjson DOM parse of a padded
// copy: accepted exactly when simdjson accepts. The one documented exception: a grammatical
// document with a number simdjson cannot represent (NUMBER_ERROR, e.g. `1e400`)
// may be accepted, since it is valid JSON and parses elsewhere.

#include <simdjson.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string_view>

#include "message/json_primitives.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace hd = htevents::detail;
  // An exact-size copy: ASan flags any read past the end (libFuzzer's own buffer is exact too,
  // but this keeps the check independent of that).
  auto const exact = std::make_unique<char[]>(size == 0 ? 1 : size);
  if (size != 0) std::memcpy(exact.get(), data, size);
  std::string_view const text(exact.get(), size);
  bool const ours = hd::is_valid_json(text);

  static simdjson::dom::parser parser;
  simdjson::padded_string const padded(text);
  simdjson::dom::element root;
  simdjson::error_code const error = parser.parse(padded).get(root);

  if (error == simdjson::SUCCESS && !ours) {
    std::fprintf(stderr, "raw_json_fuzz: simdjson accepts, is_valid_json rejects\n");
    std::abort();
  }
  bool const unrepresentable_number = error == simdjson::NUMBER_ERROR;
  if (error != simdjson::SUCCESS && ours && !unrepresentable_number) {
    std::fprintf(stderr, "raw_json_fuzz: simdjson rejects (%s), is_valid_json accepts\n", simdjson::error_message(error));
    std::abort();
  }
  return 0;
}
