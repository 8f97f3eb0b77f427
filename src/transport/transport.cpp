// The public Transport's out-of-line parts: its destructor (the key function, so that its
// vtable and typeinfo live in the library, exported, rather than in every user's object) and
// the helpers transports share.

#include <string>

#include "transport/http_transport.hpp"
#include "transport/retry.hpp"

namespace htevents {
inline namespace v0 {

Transport::~Transport() = default;

std::optional<std::chrono::milliseconds> parse_retry_after(std::string_view value,
                                                           std::int64_t now_unix_seconds) noexcept {
  return detail::parse_retry_after(value, now_unix_seconds);
}

namespace detail {

std::string describe(HttpResponse const& response) {
  if (!response.transport_ok)
    return response.error.empty() ? std::string("transport error (no answer)") : std::string(response.error);
  return "HTTP " + std::to_string(response.status) + ": " + std::string(response.body);
}

}  // namespace detail
}  // namespace v0
}  // namespace htevents
