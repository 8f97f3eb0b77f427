#include "capi/rfc3339.hpp"

#include <chrono>

namespace htevents::inline v0::detail {
namespace {

// Reads exactly `digits` decimal digits at text[at...]; false when any is not a digit.
bool read_digits(std::string_view text, std::size_t at, std::size_t digits, int& out) noexcept {
  if (at + digits > text.size()) return false;
  out = 0;
  for (std::size_t i = at; i < at + digits; ++i) {
    if (text[i] < '0' || text[i] > '9') return false;
    out = out * 10 + (text[i] - '0');
  }
  return true;
}

}  // namespace

std::optional<Timestamp> parse_rfc3339(std::string_view text) noexcept {
  using namespace std::chrono;
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!read_digits(text, 0, 4, year) || text.size() < 20 || text[4] != '-' || !read_digits(text, 5, 2, month) ||
      text[7] != '-' || !read_digits(text, 8, 2, day) || (text[10] != 'T' && text[10] != 't' && text[10] != ' ') ||
      !read_digits(text, 11, 2, hour) || text[13] != ':' || !read_digits(text, 14, 2, minute) || text[16] != ':' ||
      !read_digits(text, 17, 2, second))
    return std::nullopt;
  year_month_day const date{std::chrono::year(year), std::chrono::month(static_cast<unsigned>(month)),
                            std::chrono::day(static_cast<unsigned>(day))};
  if (!date.ok() || hour > 23 || minute > 59 || second > 60) return std::nullopt;

  std::size_t at = 19;
  nanoseconds fraction{0};
  if (at < text.size() && text[at] == '.') {
    ++at;
    std::size_t const first = at;
    long long scale = 100'000'000;  // the first digit's nanoseconds; digits past the ninth are dropped
    while (at < text.size() && text[at] >= '0' && text[at] <= '9') {
      fraction += nanoseconds((text[at] - '0') * scale);
      scale /= 10;
      ++at;
    }
    if (at == first) return std::nullopt;
  }
  if (at >= text.size()) return std::nullopt;
  minutes offset{0};
  if (text[at] == 'Z' || text[at] == 'z') {
    ++at;
  } else if (text[at] == '+' || text[at] == '-') {
    int offset_hours = 0, offset_minutes = 0;
    if (!read_digits(text, at + 1, 2, offset_hours) || at + 3 >= text.size() || text[at + 3] != ':' ||
        !read_digits(text, at + 4, 2, offset_minutes) || offset_hours > 23 || offset_minutes > 59)
      return std::nullopt;
    offset = hours(offset_hours) + minutes(offset_minutes);
    if (text[at] == '-') offset = -offset;
    at += 6;
  } else {
    return std::nullopt;
  }
  if (at != text.size()) return std::nullopt;
  // Local time minus its offset is UTC, in whole seconds first: a nanosecond system_clock
  // spans only the years 1677-2262, and a time outside what it holds is refused, not wrapped.
  auto const whole = sys_days(date) + hours(hour) + minutes(minute) + seconds(second) - offset;
  auto const earliest = ceil<seconds>(system_clock::time_point::min()) + seconds(1);
  auto const latest = floor<seconds>(system_clock::time_point::max()) - seconds(1);
  if (whole < earliest || whole > latest) return std::nullopt;
  return time_point_cast<system_clock::duration>(whole) + duration_cast<system_clock::duration>(fraction);
}

}  // namespace htevents::inline v0::detail
