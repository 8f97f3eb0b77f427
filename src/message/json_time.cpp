// RFC 3339 timestamps.
#include "message/json_time.hpp"

#include <array>
#include <cstdint>
#include <cstring>

#include "common/fast_clock.hpp"

namespace htevents::inline v0::detail {
namespace {

constexpr std::array<char, 200> make_digit_pairs() noexcept {
  std::array<char, 200> t{};
  for (int i = 0; i < 100; ++i) {
    t[static_cast<std::size_t>(2 * i)] = static_cast<char>('0' + i / 10);
    t[static_cast<std::size_t>(2 * i + 1)] = static_cast<char>('0' + i % 10);
  }
  return t;
}
constexpr std::array<char, 200> digit_pairs = make_digit_pairs();

inline void write2(char* out, unsigned v) noexcept { std::memcpy(out, &digit_pairs[2 * v], 2); }

// Howard Hinnant's civil_from_days: proleptic Gregorian date of a day count from 1970-01-01.
struct CivilDate {
  std::int64_t year;
  unsigned month;
  unsigned day;
};
constexpr CivilDate civil_from_days(std::int64_t z) noexcept {
  z += 719468;
  std::int64_t const era = (z >= 0 ? z : z - 146096) / 146097;
  auto const doe = static_cast<unsigned>(z - era * 146097);                    // [0, 146096]
  unsigned const yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;  // [0, 399]
  unsigned const doy = doe - (365 * yoe + yoe / 4 - yoe / 100);                // [0, 365]
  unsigned const mp = (5 * doy + 2) / 153;                                     // [0, 11]
  unsigned const day = doy - (153 * mp + 2) / 5 + 1;                           // [1, 31]
  unsigned const month = mp < 10 ? mp + 3 : mp - 9;                            // [1, 12]
  return {static_cast<std::int64_t>(yoe) + era * 400 + (month <= 2 ? 1 : 0), month, day};
}

constexpr std::int64_t min_seconds = -62167219200;  // 0000-01-01T00:00:00Z
constexpr std::int64_t max_seconds = 253402300799;  // 9999-12-31T23:59:59Z
constexpr std::size_t prefix_size = 20;             // "YYYY-MM-DDTHH:MM:SS with the quote

// Writes `"YYYY-MM-DDTHH:MM:SS` (20 bytes) for seconds in [min_seconds, max_seconds].
inline void format_prefix(char* out, std::int64_t secs) noexcept {
  std::int64_t days = secs / 86400;
  std::int64_t sod = secs % 86400;
  if (sod < 0) {
    sod += 86400;
    --days;
  }
  CivilDate const date = civil_from_days(days);
  auto const year = static_cast<unsigned>(date.year);
  auto const s = static_cast<unsigned>(sod);
  out[0] = '"';
  write2(out + 1, year / 100);
  write2(out + 3, year % 100);
  out[5] = '-';
  write2(out + 6, date.month);
  out[8] = '-';
  write2(out + 9, date.day);
  out[11] = 'T';
  write2(out + 12, s / 3600);
  out[14] = ':';
  write2(out + 15, s / 60 % 60);
  out[17] = ':';
  write2(out + 18, s % 60);
}

// The last second formatted on this thread. Constant-initialized and trivially destructible,
// so access needs no guard.
struct PrefixCache {
  std::int64_t secs = INT64_MIN;
  char text[prefix_size] = {};
};
thread_local PrefixCache prefix_cache;

}  // namespace

char* write_timestamp(char* out, std::chrono::system_clock::time_point t) noexcept {
  // Split the tick count by hand: going through chrono's floor<seconds> and back overflows
  // at the ends of a nanosecond clock's range.
  using period = std::chrono::system_clock::duration::period;
  static_assert(period::num == 1 && 1'000'000'000 % period::den == 0, "ticks must divide a nanosecond count");
  constexpr std::int64_t ticks_per_second = period::den;
  std::int64_t const ticks = t.time_since_epoch().count();
  std::int64_t secs = ticks / ticks_per_second;
  std::int64_t sub = ticks % ticks_per_second;
  if (sub < 0) {
    sub += ticks_per_second;
    --secs;
  }
  auto fraction = static_cast<std::uint32_t>(sub * (1'000'000'000 / ticks_per_second));
  if (secs < min_seconds) {
    secs = min_seconds;
    fraction = 0;
  } else if (secs > max_seconds) {
    secs = max_seconds;
    fraction = 0;
  }

  PrefixCache& cache = prefix_cache;
  if (cache.secs != secs) {
    format_prefix(cache.text, secs);
    cache.secs = secs;
  }
  std::memcpy(out, cache.text, prefix_size);
  out += prefix_size;

  if (fraction == 0) {
    std::memcpy(out, "Z\"", 2);
    return out + 2;
  }
  // '.' and nine digits, then drop the trailing zeros (there is at least one non-zero digit).
  out[0] = '.';
  out[1] = static_cast<char>('0' + fraction / 100000000);
  unsigned const rest = fraction % 100000000;
  write2(out + 2, rest / 1000000);
  write2(out + 4, rest / 10000 % 100);
  write2(out + 6, rest / 100 % 100);
  write2(out + 8, rest % 100);
  out += 10;
  while (out[-1] == '0') --out;
  std::memcpy(out, "Z\"", 2);
  return out + 2;
}

void NowText::refresh(std::uint64_t tick) noexcept {
  using namespace std::chrono;
  std::int64_t const ns = duration_cast<nanoseconds>(fast_now().time_since_epoch()).count();
  std::int64_t const millis = ns / 1'000'000;
  if (millis_ != millis) {
    char* end = write_timestamp(text_, system_clock::time_point(milliseconds(millis)));
    length_ = static_cast<std::size_t>(end - text_);
    millis_ = millis;
  }
  double const ns_per_tick = fast_clock_ns_per_tick();
  std::int64_t const left_ns = (millis + 1) * 1'000'000 - ns;  // to the millisecond's end: 1..1e6
  first_tick_ = tick;
  ticks_ = ns_per_tick > 0 && left_ns > 0 ? static_cast<std::uint64_t>(static_cast<double>(left_ns) / ns_per_tick) : 0;
}

}  // namespace htevents::inline v0::detail
