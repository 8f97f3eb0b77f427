// libFuzzer target for encode_value (src/message/value_encoding.hpp): random Values in, JSON out,
// parsed back with simdjson and compared with the input.
//
// Build: tests/fuzz/CMakeLists.txt (-DHTEVENTS_BUILD_FUZZERS=ON with clang), then
//   mkdir -p /tmp/encoder_corpus && ./encoder_fuzz -max_total_time=60 /tmp/encoder_corpus
//
// The input bytes drive a small generator: nested objects and arrays, strings (invalid UTF-8
// included, keys too), int64, uint64, doubles (any bit pattern), bools, null and timestamps.
// Checks, for every generated value:
//   - with a NaN or an infinity somewhere, the output reports Status::invalid_number;
//   - otherwise the output is one JSON document, and walking it along the value gives: the same
//     integers, the same doubles (exactly, compared as doubles), strings equal to the input after
//     Go's replacement of invalid UTF-8 (each bad byte -> U+FFFD), timestamps equal to an
//     independent RFC 3339 formatting (clamped to years 0000..9999, trailing zeros dropped),
//     objects with the same keys in the same order.

#include <simdjson.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "message/value_encoding.hpp"
#include "support/reference_json.hpp"

namespace {

using htevents::Array;
using htevents::Object;
using htevents::Timestamp;
using htevents::Value;
using htevents::testing::reference_sanitize;

[[noreturn]] void fail(char const* what, std::string const& json) {
  std::fprintf(stderr, "encoder_fuzz: %s\njson: %s\n", what, json.c_str());
  std::abort();
}

// Reads the fuzz input front to back; yields zeros once it runs out.
class Bytes {
 public:
  Bytes(std::uint8_t const* data, std::size_t size) : p_(data), end_(data + size) {}
  bool empty() const { return p_ == end_; }
  std::uint8_t byte() { return p_ < end_ ? *p_++ : 0; }
  template <class T>
  T pod() {
    T value{};
    std::size_t const n = std::min(sizeof(T), static_cast<std::size_t>(end_ - p_));
    std::memcpy(&value, p_, n);
    p_ += n;
    return value;
  }
  std::string string() {
    std::size_t const n = std::min<std::size_t>(byte() % 48, static_cast<std::size_t>(end_ - p_));
    std::string s(reinterpret_cast<char const*>(p_), n);
    p_ += n;
    return s;
  }

 private:
  std::uint8_t const* p_;
  std::uint8_t const* end_;
};

struct Generator {
  Bytes& in;
  int nodes = 0;

  Value value(int depth) {
    ++nodes;
    std::uint8_t const kind = in.byte();
    bool const may_nest = depth < 24 && nodes < 2000;
    switch (kind % (may_nest ? 10 : 8)) {
      case 0: return nullptr;
      case 1: return (kind & 0x80) != 0;
      case 2: return in.pod<std::int64_t>();
      case 3: return in.pod<std::uint64_t>();
      case 4: return in.pod<double>();
      case 5:
      case 6: return in.string();
      case 7: return Timestamp(Timestamp::duration(in.pod<std::int64_t>()));
      case 8: {
        Array a;
        for (int n = in.byte() % 8; n > 0 && !in.empty(); --n) a.push_back(value(depth + 1));
        return a;
      }
      default: {
        Object o;
        for (int n = in.byte() % 8; n > 0 && !in.empty(); --n) {
          std::string key = in.string();
          o.set(std::move(key), value(depth + 1));
        }
        return o;
      }
    }
  }
};

// A NaN or infinity anywhere in the final value (Object::set may have replaced one).
bool has_non_finite(Value const& v) {
  if (auto const* d = v.get_if<double>()) return !std::isfinite(*d);
  if (auto const* a = v.get_if<Array>()) {
    for (Value const& item : a->items())
      if (has_non_finite(item)) return true;
  }
  if (auto const* o = v.get_if<Object>()) {
    for (auto const& member : o->members())
      if (has_non_finite(member.value)) return true;
  }
  return false;
}

// RFC 3339 in UTC through <chrono>'s civil calendar, independent of write_timestamp.
std::string reference_timestamp(Timestamp t) {
  using namespace std::chrono;
  constexpr std::int64_t min_seconds = -62167219200;  // 0000-01-01T00:00:00Z
  constexpr std::int64_t max_seconds = 253402300799;  // 9999-12-31T23:59:59Z
  std::int64_t const ticks = t.time_since_epoch().count();
  constexpr std::int64_t per_second = Timestamp::period::den;
  std::int64_t secs = ticks / per_second;
  std::int64_t sub = ticks % per_second;
  if (sub < 0) sub += per_second, --secs;
  std::int64_t nanos = sub * (1'000'000'000 / per_second);
  if (secs < min_seconds) secs = min_seconds, nanos = 0;
  if (secs > max_seconds) secs = max_seconds, nanos = 0;
  sys_days const day = floor<days>(sys_seconds(seconds(secs)));
  year_month_day const ymd(day);
  std::int64_t const sod = secs - duration_cast<seconds>(day.time_since_epoch()).count();
  char buffer[64];
  int n = std::snprintf(buffer, sizeof buffer, "%04d-%02u-%02uT%02d:%02d:%02d", static_cast<int>(ymd.year()),
                        static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                        static_cast<int>(sod / 3600), static_cast<int>(sod / 60 % 60), static_cast<int>(sod % 60));
  std::string out(buffer, static_cast<std::size_t>(n));
  if (nanos != 0) {
    n = std::snprintf(buffer, sizeof buffer, ".%09lld", static_cast<long long>(nanos));
    std::string fraction(buffer, static_cast<std::size_t>(n));
    while (fraction.back() == '0') fraction.pop_back();
    out += fraction;
  }
  return out + "Z";
}

struct Checker {
  std::string const& json;

  void check(Value const& v, simdjson::dom::element e) const {
    using simdjson::dom::element_type;
    if (v.is<std::nullptr_t>()) {
      if (!e.is_null()) fail("null differs", json);
    } else if (auto const* b = v.get_if<bool>()) {
      bool got = false;
      if (e.get_bool().get(got) != simdjson::SUCCESS || got != *b) fail("bool differs", json);
    } else if (auto const* i = v.get_if<std::int64_t>()) {
      std::int64_t got = 0;
      if (e.get_int64().get(got) != simdjson::SUCCESS || got != *i) fail("int64 differs", json);
    } else if (auto const* u = v.get_if<std::uint64_t>()) {
      std::uint64_t got = 0;
      if (e.get_uint64().get(got) != simdjson::SUCCESS || got != *u) fail("uint64 differs", json);
    } else if (auto const* d = v.get_if<double>()) {
      double got = 0;
      // Integral doubles may come out as integers ("100"): get_double converts those.
      if (e.get_double().get(got) != simdjson::SUCCESS || got != *d) fail("double differs", json);
    } else if (auto const* s = v.get_if<std::string>()) {
      std::string_view got;
      if (e.get_string().get(got) != simdjson::SUCCESS || got != reference_sanitize(*s)) fail("string differs", json);
    } else if (auto const* t = v.get_if<Timestamp>()) {
      std::string_view got;
      if (e.get_string().get(got) != simdjson::SUCCESS || got != reference_timestamp(*t)) fail("timestamp differs", json);
    } else if (auto const* a = v.get_if<Array>()) {
      simdjson::dom::array got;
      if (e.get_array().get(got) != simdjson::SUCCESS || got.size() != a->size()) fail("array differs", json);
      std::size_t k = 0;
      for (simdjson::dom::element item : got) check(a->items()[k++], item);
    } else if (auto const* o = v.get_if<Object>()) {
      simdjson::dom::object got;
      if (e.get_object().get(got) != simdjson::SUCCESS || got.size() != o->size()) fail("object differs", json);
      std::size_t k = 0;
      for (simdjson::dom::key_value_pair field : got) {
        auto const& member = o->members()[k++];
        if (field.key != reference_sanitize(member.key)) fail("key differs", json);
        check(member.value, field.value);
      }
    } else {
      fail("unexpected value kind", json);
    }
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace hd = htevents::detail;
  Bytes in(data, size);
  Generator generator{in};
  Value const value = generator.value(0);

  std::string json;
  hd::StringOut out(json);
  hd::encode_value(out, value);
  if (has_non_finite(value)) {
    if (out.status() != htevents::Status::invalid_number) fail("a non-finite double was not reported", json);
    return 0;
  }
  if (out.status() != htevents::Status::ok) fail("encoding failed", json);

  static simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (auto const error = parser.parse(json).get(root); error != simdjson::SUCCESS) {
    std::fprintf(stderr, "simdjson: %s\n", simdjson::error_message(error));
    fail("output does not parse", json);
  }
  if (!hd::is_valid_json(json)) fail("is_valid_json rejects the output", json);
  Checker{json}.check(value, root);
  return 0;
}
