#include "replay/json_input.hpp"

#include <chrono>
#include <cstdint>

namespace htevents::replay {

namespace od = simdjson::ondemand;

namespace {

std::string_view trim_right(std::string_view s) noexcept {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\n' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

simdjson::error_code to_number(od::value json, Value& out) noexcept {
  // Taken before parsing: integers beyond 64 bits fail to parse and are kept as their text.
  std::string_view const token = json.raw_json_token();
  od::number number;
  if (json.get_number().get(number) != simdjson::SUCCESS) {
    out = RawJson{std::string(trim_right(token))};
    return simdjson::SUCCESS;
  }
  switch (number.get_number_type()) {
    case od::number_type::signed_integer: out = number.get_int64(); break;
    case od::number_type::unsigned_integer: out = number.get_uint64(); break;
    default: out = number.get_double(); break;
  }
  return simdjson::SUCCESS;
}

}  // namespace

simdjson::error_code to_object(od::object json, Object& out) noexcept {
  try {
    for (auto member : json) {
      od::field field;
      if (auto error = std::move(member).get(field)) return error;
      std::string_view key;
      if (auto error = field.unescaped_key().get(key)) return error;
      std::string key_copy(key);  // the value's strings go to the same parser buffer
      Value value;
      if (auto error = to_value(field.value(), value)) return error;
      out.set(std::move(key_copy), std::move(value));
    }
  } catch (std::bad_alloc const&) {
    return simdjson::MEMALLOC;
  }
  return simdjson::SUCCESS;
}

simdjson::error_code to_value(od::value json, Value& out) noexcept {
  try {
    od::json_type type;
    if (auto error = json.type().get(type)) return error;
    switch (type) {
      case od::json_type::object: {
        od::object object;
        if (auto error = json.get_object().get(object)) return error;
        Object result;
        if (auto error = to_object(object, result)) return error;
        out = std::move(result);
        return simdjson::SUCCESS;
      }
      case od::json_type::array: {
        od::array array;
        if (auto error = json.get_array().get(array)) return error;
        Array result;
        for (auto item : array) {
          od::value element;
          if (auto error = item.get(element)) return error;
          Value value;
          if (auto error = to_value(element, value)) return error;
          result.push_back(std::move(value));
        }
        out = std::move(result);
        return simdjson::SUCCESS;
      }
      case od::json_type::string: {
        std::string_view text;
        if (auto error = json.get_string().get(text)) return error;
        out = std::string(text);
        return simdjson::SUCCESS;
      }
      case od::json_type::number: return to_number(json, out);
      case od::json_type::boolean: {
        bool b = false;
        if (auto error = json.get_bool().get(b)) return error;
        out = b;
        return simdjson::SUCCESS;
      }
      case od::json_type::null: {
        bool is_null = false;
        if (auto error = json.is_null().get(is_null)) return error;
        if (!is_null) return simdjson::N_ATOM_ERROR;
        out = nullptr;
        return simdjson::SUCCESS;
      }
    }
  } catch (std::bad_alloc const&) {
    return simdjson::MEMALLOC;
  }
  return simdjson::INCORRECT_TYPE;
}

std::string parse_object(std::string_view text, Object& out) {
  od::parser parser;
  simdjson::padded_string padded(text);
  od::document doc;
  if (auto error = parser.iterate(padded).get(doc)) return std::string("not JSON: ") + simdjson::error_message(error);
  od::object object;
  if (auto error = doc.get_object().get(object)) {
    if (error == simdjson::INCORRECT_TYPE) return "not a JSON object";
    return std::string("not JSON: ") + simdjson::error_message(error);
  }
  Object result;
  if (auto error = to_object(object, result)) return std::string("not JSON: ") + simdjson::error_message(error);
  char const* rest = nullptr;
  if (doc.current_location().get(rest) == simdjson::SUCCESS) return "not JSON: extra text after the object";
  out = std::move(result);
  return {};
}

namespace {

bool digits(std::string_view s, std::size_t at, std::size_t n, int& out) noexcept {
  if (at + n > s.size()) return false;
  int v = 0;
  for (std::size_t i = at; i < at + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  out = v;
  return true;
}

}  // namespace

std::optional<Timestamp> parse_rfc3339(std::string_view s) noexcept {
  // YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM)
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!digits(s, 0, 4, year) || s.size() < 20 || s[4] != '-' || !digits(s, 5, 2, month) || s[7] != '-' ||
      !digits(s, 8, 2, day) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || !digits(s, 11, 2, hour) ||
      s[13] != ':' || !digits(s, 14, 2, minute) || s[16] != ':' || !digits(s, 17, 2, second))
    return std::nullopt;
  std::size_t i = 19;
  std::int64_t nanos = 0;
  if (i < s.size() && s[i] == '.') {
    ++i;
    std::size_t const first = i;
    std::int64_t scale = 100'000'000;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
      nanos += (s[i] - '0') * scale;
      scale /= 10;
      ++i;
    }
    if (i == first) return std::nullopt;
  }
  if (i >= s.size()) return std::nullopt;
  int offset_minutes = 0;
  if (s[i] == 'Z' || s[i] == 'z') {
    ++i;
  } else if (s[i] == '+' || s[i] == '-') {
    int oh = 0, om = 0;
    if (!digits(s, i + 1, 2, oh) || i + 3 >= s.size() || s[i + 3] != ':' || !digits(s, i + 4, 2, om) ||
        oh > 23 || om > 59)
      return std::nullopt;
    offset_minutes = (oh * 60 + om) * (s[i] == '-' ? -1 : 1);
    i += 6;
  } else {
    return std::nullopt;
  }
  if (i != s.size() || hour > 23 || minute > 59 || second > 60) return std::nullopt;
  std::chrono::year_month_day const date{std::chrono::year(year), std::chrono::month(static_cast<unsigned>(month)),
                                         std::chrono::day(static_cast<unsigned>(day))};
  if (!date.ok()) return std::nullopt;
  auto const t = std::chrono::sys_days(date) + std::chrono::hours(hour) + std::chrono::minutes(minute - offset_minutes) +
                 std::chrono::seconds(second) + std::chrono::nanoseconds(nanos);
  return std::chrono::time_point_cast<Timestamp::duration>(t);
}

}  // namespace htevents::replay
