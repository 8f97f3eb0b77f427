#include "support/wire_json.hpp"

#include <algorithm>
#include <cstdint>
#include <optional>

namespace htevents::testing {
namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;

bool is_ignored(JsonDiffOptions const& options, std::string const& path) {
  return std::find(options.ignored.begin(), options.ignored.end(), path) != options.ignored.end();
}

bool is_integer(element_type t) { return t == element_type::INT64 || t == element_type::UINT64; }

// Integers as (negative?, magnitude), so int64 and uint64 compare by value.
struct Integer {
  bool negative;
  std::uint64_t magnitude;
  friend bool operator==(Integer const&, Integer const&) = default;
};

Integer integer_of(element e) {
  if (e.type() == element_type::UINT64) return {false, std::uint64_t(e.get_uint64())};
  std::int64_t const v = e.get_int64();
  if (v >= 0) return {false, static_cast<std::uint64_t>(v)};
  return {true, std::uint64_t{0} - static_cast<std::uint64_t>(v)};
}

std::string type_name(element_type t) {
  switch (t) {
    case element_type::ARRAY: return "array";
    case element_type::OBJECT: return "object";
    case element_type::INT64: return "int64";
    case element_type::UINT64: return "uint64";
    case element_type::DOUBLE: return "double";
    case element_type::STRING: return "string";
    case element_type::BOOL: return "bool";
    case element_type::NULL_VALUE: return "null";
  }
  return "?";
}

std::string differ(std::string const& path, element a, element b) {
  return path + ": " + json_text(a) + " != " + json_text(b);
}

std::optional<element> member(simdjson::dom::object o, std::string_view key) {
  for (auto field : o) {
    if (field.key == key) return field.value;
  }
  return std::nullopt;
}

}  // namespace

std::string json_text(element e) { return std::string(simdjson::minify(e)); }

JsonDocument::JsonDocument(std::string_view text) { error_ = parser_.parse(text.data(), text.size()).get(root_); }

std::string json_diff(element a, element b, JsonDiffOptions const& options, std::string const& path) {
  if (is_ignored(options, path)) return {};
  element_type const ta = a.type();
  element_type const tb = b.type();
  if (is_integer(ta) && is_integer(tb)) return integer_of(a) == integer_of(b) ? std::string() : differ(path, a, b);
  if (ta != tb) return path + ": type " + type_name(ta) + " != " + type_name(tb) + " (" + json_text(a) + " vs " + json_text(b) + ")";
  switch (ta) {
    case element_type::NULL_VALUE: return {};
    case element_type::BOOL: return bool(a.get_bool()) == bool(b.get_bool()) ? std::string() : differ(path, a, b);
    case element_type::DOUBLE:
      return double(a.get_double()) == double(b.get_double()) ? std::string() : differ(path, a, b);
    case element_type::STRING:
      return std::string_view(a.get_string()) == std::string_view(b.get_string()) ? std::string() : differ(path, a, b);
    case element_type::ARRAY: {
      simdjson::dom::array const xa = a.get_array();
      simdjson::dom::array const xb = b.get_array();
      if (xa.size() != xb.size()) {
        return path + ": array sizes " + std::to_string(xa.size()) + " != " + std::to_string(xb.size());
      }
      std::size_t i = 0;
      auto ib = xb.begin();
      for (element ea : xa) {
        std::string d = json_diff(ea, *ib, options, path + "[" + std::to_string(i) + "]");
        if (!d.empty()) return d;
        ++i;
        ++ib;
      }
      return {};
    }
    case element_type::OBJECT: {
      simdjson::dom::object const oa = a.get_object();
      simdjson::dom::object const ob = b.get_object();
      std::vector<std::string_view> seen;
      for (auto field : oa) {
        std::string const sub = path + "." + std::string(field.key);
        if (std::find(seen.begin(), seen.end(), field.key) != seen.end()) return sub + ": duplicate key on the left";
        seen.push_back(field.key);
        if (is_ignored(options, sub)) continue;
        auto const other = member(ob, field.key);
        if (!other) return sub + ": missing on the right (left has " + json_text(field.value) + ")";
        std::string d = json_diff(field.value, *other, options, sub);
        if (!d.empty()) return d;
      }
      std::vector<std::string_view> seen_b;
      for (auto field : ob) {
        std::string const sub = path + "." + std::string(field.key);
        if (std::find(seen_b.begin(), seen_b.end(), field.key) != seen_b.end()) return sub + ": duplicate key on the right";
        seen_b.push_back(field.key);
        if (is_ignored(options, sub)) continue;
        if (!member(oa, field.key)) return sub + ": missing on the left (right has " + json_text(field.value) + ")";
      }
      return {};
    }
    default: break;
  }
  return path + ": unhandled type";
}

std::string json_diff(std::string_view a, std::string_view b, JsonDiffOptions const& options) {
  JsonDocument const da(a);
  if (!da.ok()) return "left does not parse: " + da.error() + ": " + std::string(a);
  JsonDocument const db(b);
  if (!db.ok()) return "right does not parse: " + db.error() + ": " + std::string(b);
  return json_diff(da.root(), db.root(), options);
}

}  // namespace htevents::testing
