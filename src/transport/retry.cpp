#include "transport/retry.hpp"

#include <algorithm>
#include <charconv>
#include <string>

#include <curl/curl.h>  // curl_getdate: HTTP dates in Retry-After

namespace htevents::inline v0::detail {

Outcome classify(long http_status, bool transport_ok, bool transport_permanent, bool unproven_encoding) noexcept {
  if (!transport_ok) return transport_permanent ? Outcome::rejected : Outcome::retry;
  if (http_status >= 200 && http_status < 300) return Outcome::delivered;
  if (http_status == 415 || (http_status == 400 && unproven_encoding)) return Outcome::refused_encoding;
  if (http_status == 400) return Outcome::split_refused;
  if (http_status == 413) return Outcome::split_too_large;
  // 460: Segment's "client closed the request" (its own timeout): worth another try.
  if (http_status == 408 || http_status == 429 || http_status == 460) return Outcome::retry;
  // 501 Not Implemented, 505 HTTP Version Not Supported, 511 Network Authentication Required:
  // the same request will get the same answer.
  if (http_status == 501 || http_status == 505 || http_status == 511) return Outcome::rejected;
  if (http_status >= 500 && http_status < 600) return Outcome::retry;
  return Outcome::rejected;
}

std::chrono::milliseconds backoff(int attempt, std::chrono::milliseconds retry_base,
                                  std::chrono::milliseconds retry_max,
                                  std::optional<std::chrono::milliseconds> retry_after, std::mt19937_64& rng) noexcept {
  using std::chrono::milliseconds;
  int const doublings = std::clamp(attempt - 1, 0, 30);
  long double const grown = static_cast<long double>(retry_base.count()) * static_cast<long double>(1ULL << doublings);
  auto const ceiling =
      static_cast<std::int64_t>(std::min<long double>(grown, static_cast<long double>(retry_max.count())));
  std::uniform_int_distribution<std::int64_t> jitter(0, std::max<std::int64_t>(ceiling, 0));
  milliseconds wait{jitter(rng)};
  if (retry_after) wait = std::max(wait, std::min(*retry_after, retry_after_cap));
  return wait;
}

std::optional<std::chrono::milliseconds> parse_retry_after(std::string_view value,
                                                           std::int64_t now_unix_seconds) noexcept {
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() &&
         (value.back() == ' ' || value.back() == '\t' || value.back() == '\r' || value.back() == '\n')) {
    value.remove_suffix(1);
  }
  if (value.empty()) return std::nullopt;
  std::int64_t seconds = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
  if (ec == std::errc() && end == value.data() + value.size()) {
    if (seconds < 0) return std::nullopt;
    return std::chrono::milliseconds(std::min<std::int64_t>(seconds, 86'400) * 1000);
  }
  try {
    std::string const date(value);
    time_t const when = curl_getdate(date.c_str(), nullptr);
    if (when < 0) return std::nullopt;
    return std::chrono::milliseconds(std::clamp<std::int64_t>(when - now_unix_seconds, 0, 86'400) * 1000);
  } catch (...) {
    return std::nullopt;
  }
}

int split_budget(std::size_t messages) noexcept {
  int halvings = 0;
  while ((std::size_t{1} << halvings) < messages && halvings < 63) ++halvings;
  return std::max(2, 2 * halvings * split_isolates);
}

}  // namespace htevents::inline v0::detail
