#pragma once
// JSON encoding of Value, Array and Object onto any output with the MessageArena interface:
// reserve(n) -> char* (nullptr after an error), advance(char*), raw(bytes), fail(Status).
// Used by the arena (messages) and by StringOut (the batch context, built once).

#include <cmath>
#include <cstring>
#include <string>
#include <string_view>
#include <variant>

#include "htevents/status.hpp"
#include "htevents/value.hpp"
#include "message/json_string.hpp"
#include "message/json_time.hpp"
#include "message/json_validation.hpp"

namespace htevents::inline v0::detail {

template <class Out>
void encode_string(Out& out, std::string_view s) noexcept {
  // Worst case first (one pass); exact size only when the worst case does not fit.
  std::size_t n = max_json_string_size(s.size());
  if (n > out.room()) n = json_string_size(s);
  if (char* p = out.reserve(n)) out.advance(write_json_string_inline(p, s));
}

template <class Out>
void encode_key(Out& out, std::string_view key, bool comma) noexcept {
  std::size_t n = max_json_string_size(key.size()) + 2;
  if (n > out.room()) n = json_string_size(key) + 2;
  if (char* p = out.reserve(n)) {
    if (comma) *p++ = ',';
    p = write_json_string_inline(p, key);
    *p++ = ':';
    out.advance(p);
  }
}

template <class Out>
inline void encode_value(Out& out, Value const& v) noexcept;

// Room for a scalar or string value that encode_object writes inline (write_inline_value), or
// 0 for the alternatives it leaves to encode_value (and a double that encode_value rejects).
// One bound for every scalar rather than a switch: the widest is a double's.
inline std::size_t inline_value_room(Value::Storage const& s) noexcept {
  static_assert(max_integer_size <= max_double_size && 5 <= max_double_size);
  std::size_t const index = s.index();
  if (index < 4) return max_double_size;  // null, bool, int64, uint64
  if (index == 4) return std::isfinite(*std::get_if<double>(&s)) ? max_double_size : 0;
  if (index == 5) return max_json_string_size(std::get_if<std::string>(&s)->size());
  return 0;
}

// The value of inline_value_room's alternatives at `p` (which has that room). Returns the end.
inline char* write_inline_value(char* p, Value::Storage const& s) noexcept {
  switch (s.index()) {
    case 0: std::memcpy(p, "null", 4); return p + 4;
    case 1:
      if (*std::get_if<bool>(&s)) {
        std::memcpy(p, "true", 4);
        return p + 4;
      }
      std::memcpy(p, "false", 5);
      return p + 5;
    case 2: return write_integer(p, *std::get_if<std::int64_t>(&s));
    case 3: return write_integer(p, *std::get_if<std::uint64_t>(&s));
    case 4: return write_double(p, *std::get_if<double>(&s));
    default: return write_json_string_inline(p, *std::get_if<std::string>(&s));
  }
}

template <class Out>
void encode_object(Out& out, Object const& o, std::string_view skip_key = {}) noexcept {
  out.raw("{");
  bool comma = false;
  for (auto const& member : o.members()) {
    if (!skip_key.empty() && member.key == skip_key) continue;
    Value::Storage const& value = member.value.storage();
    // A scalar or a string whose worst case fits: key and value under one reservation (the
    // separate ones each reloaded the cursor and the status, every write through char* being
    // a possible store to them). Anything else, or short of room: one at a time.
    std::size_t const value_room = inline_value_room(value);
    std::size_t const room = 1 + max_json_string_size(member.key.size()) + 1 + value_room;
    if (value_room != 0 && room <= out.room()) {
      if (char* p = out.reserve(room)) {
        *p = ',';
        p += comma ? 1 : 0;
        p = write_json_string_inline(p, member.key);
        *p++ = ':';
        out.advance(write_inline_value(p, value));
      }
    } else {
      encode_key(out, member.key, comma);
      encode_value(out, member.value);
    }
    comma = true;
  }
  out.raw("}");
}

// The alternatives that hold other values (or need a parser, or are rare): Timestamp, Array,
// Object, RawJson. Out of line, so that encode_value stays a few instructions inline.
template <class Out>
[[gnu::noinline]] void encode_compound(Out& out, Value::Storage const& s) noexcept {
  switch (s.index()) {
    case 6:
      if (char* p = out.reserve(max_timestamp_size)) out.advance(write_timestamp(p, *std::get_if<Timestamp>(&s)));
      return;
    case 7: {
      out.raw("[");
      bool comma = false;
      for (auto const& item : std::get_if<Array>(&s)->items()) {
        if (comma) out.raw(",");
        encode_value(out, item);
        comma = true;
      }
      out.raw("]");
      return;
    }
    case 8: return encode_object(out, *std::get_if<Object>(&s));
    case 9: {
      std::string_view const text = std::get_if<RawJson>(&s)->text;
      // Room first: a text far over max_message_bytes fails as message_too_large here, before
      // simdjson parses all of it (and grows the thread's parser to its size for good).
      if (text.empty()) return out.fail(Status::invalid_json);  // never JSON; reserve(0) proves nothing
      char* p = out.reserve(text.size());
      if (p == nullptr) return;
      if (!is_valid_json(text)) return out.fail(Status::invalid_json);
      std::memcpy(p, text.data(), text.size());
      out.advance(p + text.size());
      return;
    }
    default: return out.fail(Status::invalid_usage);  // valueless_by_exception: its assignment threw
  }
}

// A switch on the index, not std::visit: GCC's visit goes through a table of calls that it
// does not inline, and a W1 event's five properties paid ~30 instructions each for it. The
// scalars and strings are written here, inline in the object's loop; a call per value (with
// the registers the compound cases needed saved) cost a W1 event ~20 instructions a property.
template <class Out>
[[gnu::always_inline]] inline void encode_value(Out& out, Value const& v) noexcept {
  Value::Storage const& s = v.storage();
  switch (s.index()) {
    case 0: return out.raw("null");
    case 1: return out.raw(*std::get_if<bool>(&s) ? std::string_view("true") : std::string_view("false"));
    case 2:
      if (char* p = out.reserve(max_integer_size)) out.advance(write_integer(p, *std::get_if<std::int64_t>(&s)));
      return;
    case 3:
      if (char* p = out.reserve(max_integer_size)) out.advance(write_integer(p, *std::get_if<std::uint64_t>(&s)));
      return;
    case 4: {
      double const d = *std::get_if<double>(&s);
      if (!std::isfinite(d)) return out.fail(Status::invalid_number);
      if (char* p = out.reserve(max_double_size)) out.advance(write_double(p, d));
      return;
    }
    case 5: return encode_string(out, *std::get_if<std::string>(&s));
    default: return encode_compound(out, s);
  }
  static_assert(std::variant_size_v<Value::Storage> == 10,
                "a new alternative needs its case here or in encode_compound");
}

// An output onto a std::string, for cold paths (the batch context). Allocates.
class StringOut {
 public:
  explicit StringOut(std::string& s) : s_(s) {}
  std::size_t room() const noexcept { return s_.capacity() - s_.size(); }
  char* reserve(std::size_t n) {
    if (status_ != Status::ok) return nullptr;
    used_ = s_.size();
    s_.resize(used_ + n);
    return s_.data() + used_;
  }
  void advance(char* p) { s_.resize(static_cast<std::size_t>(p - s_.data())); }
  void raw(std::string_view bytes) { s_.append(bytes); }
  void fail(Status status) noexcept {
    if (status_ == Status::ok) status_ = status;
  }
  Status status() const noexcept { return status_; }

 private:
  std::string& s_;
  std::size_t used_ = 0;
  Status status_ = Status::ok;
};

}  // namespace htevents::inline v0::detail
