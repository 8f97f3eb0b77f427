#pragma once
/// The HTTP the sender posts batches through. By default that is libcurl; a platform without it
/// (a console SDK, WinHTTP, an engine's own HTTP) implements Transport and sets
/// Config::transport to a factory for it. docs/transport.md walks through an implementation.
///
/// The interface is poll-shaped, like libcurl multi: the sender thread starts requests, moves
/// them on, collects what finished and sleeps in wait() until there is something to do. A
/// transport that can only block may do the whole request inside start() and hand its result
/// out at the next next_completion() (max_in_flight() = 1 then is natural).

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "htevents/export.hpp"

namespace htevents {
inline namespace v0 {

/// Request body encoding (Config::compression). The server may refuse one (415); the client then
/// falls back zstd -> gzip -> none and keeps the one that worked. A transport gets each body
/// already encoded, and says so in its Content-Encoding header.
enum class Compression : std::uint8_t { none, gzip, zstd };

/// What the client tells a transport when it makes one (Config::transport), derived from the
/// Config once. The transport sends every request to `url` with these headers:
///   Authorization: <authorization>
///   Content-Type: application/json
///   User-Agent: <user_agent>
///   Content-Encoding: gzip | zstd   (only when the request's encoding is not none)
/// and follows no redirects (docs/wire-format.md).
struct TransportOptions {
  std::string url{};                             ///< "{endpoint}/v1/batch"
  std::string authorization{};                   ///< the header's value, "Basic base64(write_key:)"; never log it
  std::string user_agent{};                      ///< the header's value, "events-sdk-cpp (version: X.Y.Z)"
  std::size_t max_in_flight = 1;                 ///< Config::max_in_flight: the most the sender starts at once
  std::chrono::milliseconds request_timeout{0};  ///< one attempt, connection included
  bool tls_verify = true;                        ///< Config::tls_verify
  std::string ca_bundle{};                       ///< Config::ca_bundle ("": the system's)
};

/// How one request ended. The sender decides what follows (deliver, retry, split, fail) from
/// this, by the table of docs/wire-format.md.
struct TransportResponse {
  /// False when no HTTP answer came: connection refused or reset, timeout, TLS failure. The
  /// sender retries those, unless transport_permanent.
  bool transport_ok = true;
  /// With !transport_ok: another attempt cannot help (a malformed URL, an unsupported scheme,
  /// a certificate that fails verification), so the batch fails at once as rejected.
  bool transport_permanent = false;
  /// The HTTP status of the answer; ignored when !transport_ok.
  long status = 0;
  /// The answer's Retry-After header, parsed (see parse_retry_after); honoured on 429 and 503.
  std::optional<std::chrono::milliseconds> retry_after{};
  /// The first bytes of the answer's body (a few hundred are plenty), for failure details.
  std::string_view body{};
  /// With !transport_ok: what went wrong, for failure details and logs ("curl: ...").
  std::string_view error{};
};

/// Implement this to bring your own HTTP. The sender thread makes every call but wake(), one at
/// a time; wake() comes from any thread (flush, close, a new batch) and must be thread-safe.
/// None of the calls may throw: they are noexcept. The transport is made in the Client
/// constructor and destroyed after the sender thread has stopped.
class HTEVENTS_EXPORT Transport {
 public:
  /// One finished request: the tag start() was given, and how it ended. The views in
  /// `response` must stay valid until the next call to start() or next_completion().
  struct Completion {
    void* tag = nullptr;
    TransportResponse response{};
  };

  virtual ~Transport();

  /// Requests that may be in flight at once; constant. start() is called only while fewer are.
  [[nodiscard]] virtual std::size_t max_in_flight() const noexcept = 0;
  /// Starts a POST of `body` (already encoded with `encoding`) to the url. `body` stays valid
  /// until the request completes or cancel_all() is called. Return false when it cannot start
  /// now (the sender tries again later); that tag then never completes.
  virtual bool start(void* tag, std::string_view body, Compression encoding) noexcept = 0;
  /// Moves the transfers on without waiting (may do nothing for a transport with its own threads).
  virtual void perform() noexcept = 0;
  /// One finished request, if any: fills `out` and returns true. Each started tag completes once.
  virtual bool next_completion(Completion& out) noexcept = 0;
  /// Abandons every request in flight (close's deadline passed); none of them completes. Their
  /// bodies may be freed as soon as this returns.
  virtual void cancel_all() noexcept = 0;
  /// Sleeps until a request may have finished, wake() is called, or `timeout` passes. Returning
  /// early is fine; sleeping past a wake() is not (flush and close would wait for nothing).
  virtual void wait(std::chrono::milliseconds timeout) noexcept = 0;
  /// Any thread: makes a wait() in progress, or the next one, return at once.
  virtual void wake() noexcept = 0;
};

/// Config::transport: makes the client's transport, once, in the Client constructor (its
/// exceptions leave the constructor; a nullptr answer is a ConfigError).
using TransportFactory = std::function<std::unique_ptr<Transport>(TransportOptions const& options)>;

/// A Retry-After header's value, for transports to fill TransportResponse::retry_after: delta
/// seconds ("120") or an HTTP date ("Wed, 21 Oct 2015 07:28:00 GMT", relative to
/// `now_unix_seconds`; a past date gives 0). nullopt when malformed. Does not allocate.
[[nodiscard]] HTEVENTS_EXPORT std::optional<std::chrono::milliseconds> parse_retry_after(
    std::string_view value, std::int64_t now_unix_seconds) noexcept;

}  // namespace v0
}  // namespace htevents
