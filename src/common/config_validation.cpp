// validate(Config): every rule of docs/configuration.md, checked before anything starts. The
// constructor relies on it for every size it allocates and every sum it computes, so the checks
// avoid the very overflows they rule out (no `a + b` before both are known to be small).

#include "common/config_validation.hpp"

#include <algorithm>
#include <string>
#include <string_view>

#include "batch/envelope.hpp"
#include "spool/format.hpp"

namespace htevents::inline v0 {

// A spooled message's record, with its block's envelope room and rounding, must fit a frame's
// length field.
static_assert(detail::max_spooled_message_bytes + 2 * 4096 <= detail::spool::max_record_bytes);

namespace detail {
namespace {

void require(bool ok, char const* message) {
  if (!ok) throw ConfigError(message);
}

bool is_space(char c) noexcept { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f'; }

// Space, control characters and DEL: curl would refuse them, or worse, send them.
bool is_space_or_control(char c) noexcept {
  auto const u = static_cast<unsigned char>(c);
  return u <= 0x20 || u == 0x7f;
}

bool is_valid_port(std::string_view port) noexcept {
  if (port.empty() || port.size() > 5) return false;
  unsigned value = 0;
  for (char c : port) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  return value >= 1 && value <= 65535;
}

// scheme://host[:port][/path]: the client appends /v1/batch to it, so anything after the path
// (a query, a fragment) or the path itself already ending in /v1/batch would make a wrong URL.
void check_endpoint(std::string_view endpoint) {
  require(endpoint.starts_with("http://") || endpoint.starts_with("https://"),
          "htevents: Config::endpoint must start with http:// or https://");
  require(std::none_of(endpoint.begin(), endpoint.end(), is_space_or_control),
          "htevents: Config::endpoint contains white space or a control character");
  std::string_view const rest = endpoint.substr(endpoint.find("://") + 3);
  std::size_t const authority_end = std::min(rest.find_first_of("/?#"), rest.size());
  std::string_view const authority = rest.substr(0, authority_end);
  std::string_view path = rest.substr(authority_end);
  require(path.find_first_of("?#") == std::string_view::npos,
          "htevents: Config::endpoint must not have a query (?) or fragment (#): the client appends /v1/batch to it");
  // User info would compete with the write key as the request's credentials.
  require(authority.find('@') == std::string_view::npos,
          "htevents: Config::endpoint must not hold user info (user@): the write key is the credential");

  std::string_view host = authority;
  std::string_view port;
  bool has_port = false;
  if (authority.starts_with('[')) {  // IPv6 literal: [::1]:8080
    std::size_t const close = authority.find(']');
    require(close != std::string_view::npos, "htevents: Config::endpoint has an IPv6 host without its closing ]");
    host = authority.substr(0, close + 1);
    std::string_view const after = authority.substr(close + 1);
    require(after.empty() || after.front() == ':', "htevents: Config::endpoint has text after its IPv6 host");
    has_port = !after.empty();
    if (has_port) port = after.substr(1);
    require(host.size() > 2, "htevents: Config::endpoint has no host (scheme://host[:port][/path])");
  } else if (std::size_t const colon = authority.find(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
    has_port = true;
  }
  require(!host.empty(), "htevents: Config::endpoint has no host (scheme://host[:port][/path])");
  require(!has_port || is_valid_port(port), "htevents: Config::endpoint has a port that is not a number 1..65535");

  if (path.ends_with('/')) path.remove_suffix(1);  // the one trailing '/' the client drops
  require(!path.ends_with("/v1/batch"),
          "htevents: Config::endpoint must not end in /v1/batch: the client appends it (give the base URL)");
}

void require_short(std::chrono::milliseconds value, char const* message) {
  require(value <= max_config_duration, message);
}

void check_default_context(Config const& c) {
  std::string suffix;
  switch (encode_batch_context(c.default_context, suffix)) {
    case Status::ok: break;
    case Status::invalid_number:
      throw ConfigError("htevents: Config::default_context holds a NaN or infinite number, which JSON cannot carry");
    case Status::invalid_json:
      throw ConfigError("htevents: Config::default_context holds a RawJson value that does not parse");
    default: throw ConfigError("htevents: Config::default_context cannot be encoded as JSON");
  }
  // No underflow: max_batch_bytes >= max_message_bytes + envelope_allowance was checked.
  require(envelope_bytes(suffix.size()) <= c.max_batch_bytes - c.max_message_bytes,
          "htevents: Config::default_context is too large: max_batch_bytes must hold the batch "
          "envelope (with default_context) plus one message of max_message_bytes");
}

}  // namespace

std::size_t block_capacity_for(Config const& c) noexcept {
  std::size_t const needed = c.max_message_bytes + 4096;
  std::size_t const rounded = (needed + 4095) / 4096 * 4096;
  return std::max<std::size_t>(rounded, 64 * 1024);
}

}  // namespace detail

void validate(Config const& c) {
  using detail::require;
  using detail::require_short;
  detail::check_endpoint(c.endpoint);
  require(c.batch_size > 0, "htevents: Config::batch_size must be at least 1");
  require(c.batch_size <= detail::max_batch_size,
          "htevents: Config::batch_size must be at most 2500 (Segment's limit of messages per batch)");
  require(c.interval.count() > 0, "htevents: Config::interval must be positive");
  require_short(c.interval, "htevents: Config::interval must be at most 2147483647 ms (about 24.8 days)");

  // Sizes: each bounded before it appears in a sum, so that no check wraps around.
  require(c.max_message_bytes >= 256, "htevents: Config::max_message_bytes must be at least 256");
  require(c.max_message_bytes <= detail::max_supported_batch_bytes - detail::envelope_allowance,
          "htevents: Config::max_message_bytes must be at most 2147479552 (2 GiB - 4 KiB)");
  require(c.max_batch_bytes <= detail::max_supported_batch_bytes,
          "htevents: Config::max_batch_bytes must be at most 2147483648 (2 GiB)");
  require(c.max_batch_bytes >= c.max_message_bytes + detail::envelope_allowance,
          "htevents: Config::max_batch_bytes must hold one message of max_message_bytes plus 4096 bytes of envelope");
  // Divided rather than multiplied: any max_queue_bytes is fine from here on.
  require(
      c.max_queue_bytes / 4 >= detail::block_capacity_for(c),
      "htevents: Config::max_queue_bytes must be at least 4 arena blocks: 4 * max(64 KiB, max_message_bytes + 4 KiB)");

  require(c.enqueue_timeout.count() >= 0, "htevents: Config::enqueue_timeout must not be negative");
  require(c.max_in_flight >= 1 && c.max_in_flight <= 1024, "htevents: Config::max_in_flight must be 1..1024");
  require(c.max_attempts >= 1, "htevents: Config::max_attempts must be at least 1");
  require(c.retry_base.count() >= 0, "htevents: Config::retry_base must not be negative");
  require(c.retry_max >= c.retry_base, "htevents: Config::retry_max must be at least retry_base");
  require_short(c.retry_max, "htevents: Config::retry_max must be at most 2147483647 ms (about 24.8 days)");
  require(c.request_timeout.count() > 0, "htevents: Config::request_timeout must be positive");
  require_short(c.request_timeout, "htevents: Config::request_timeout must be at most 2147483647 ms (about 24.8 days)");
  require(c.spool_dir.empty() || c.max_message_bytes <= detail::max_spooled_message_bytes,
          "htevents: Config::max_message_bytes must be at most 268435456 (256 MiB) with a spool_dir");
  require(c.spool_max_bytes > 0, "htevents: Config::spool_max_bytes must be positive");
  require(c.spool_sync_interval.count() > 0, "htevents: Config::spool_sync_interval must be positive");
  require_short(c.spool_sync_interval,
                "htevents: Config::spool_sync_interval must be at most 2147483647 ms (about 24.8 days)");
  require(c.spool_dir.find('\0') == std::string::npos, "htevents: Config::spool_dir must not contain a NUL byte");
  require(c.spool_memory_dir.find('\0') == std::string::npos,
          "htevents: Config::spool_memory_dir must not contain a NUL byte");
  require(c.stats_interval.count() >= 0, "htevents: Config::stats_interval must not be negative");
  require_short(c.stats_interval, "htevents: Config::stats_interval must be at most 2147483647 ms (about 24.8 days)");
  if (c.compression == Compression::zstd) {
    require(c.compression_level >= -7 && c.compression_level <= 22,
            "htevents: Config::compression_level must be -7..22 for zstd");
  } else if (c.compression == Compression::gzip) {
    require(c.compression_level >= 1 && c.compression_level <= 9,
            "htevents: Config::compression_level must be 1..9 for gzip");
  }
  detail::check_default_context(c);
}

void validate(std::string_view write_key, Config const& config) {
  detail::require(!write_key.empty(), "htevents: write_key must not be empty");
  detail::require(!std::all_of(write_key.begin(), write_key.end(), detail::is_space),
                  "htevents: write_key is only white space");
  validate(config);
}

}  // namespace htevents::inline v0
