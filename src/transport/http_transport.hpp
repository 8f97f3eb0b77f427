#pragma once
// The sender's HTTP: POSTs of batch bodies to the batch endpoint, several in flight, polled
// from the sender thread. CurlTransport (libcurl multi) is the implementation; tests drive the
// sender with a fake, and a platform without libcurl can plug in its own.

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "htevents/config.hpp"

namespace htevents::inline v0::detail {

// How one request ended.
struct HttpResponse {
  bool transport_ok = true;                              // false: no answer (connection refused, timeout, TLS...)
  bool transport_permanent = false;                      // no answer, and another try cannot fix it (bad URL...)
  long status = 0;                                       // HTTP status; 0 when no answer came
  std::optional<std::chrono::milliseconds> retry_after;  // the Retry-After header, parsed
  std::string_view body;                                 // the first bytes of the answer, for failure details
  std::string_view error;                                // the transport error's text when !transport_ok

  // "HTTP 503: <body>" or "<transport>: <error>", for failure details and logs.
  std::string describe() const;
};

class HttpTransport {
 public:
  // One finished request: the `tag` start() was given, and its response. The views stay valid
  // until the next call to start().
  struct Completion {
    void* tag = nullptr;
    HttpResponse response;
  };

  virtual ~HttpTransport() = default;

  // Requests that can be in flight at once: start() succeeds while fewer are.
  virtual std::size_t max_in_flight() const noexcept = 0;
  // Starts a POST of `body`, sent with Content-Encoding `encoding` (none: no header). `body`
  // must stay valid until the request completes or is cancelled. False: it could not start
  // (the caller retries later); the tag never completes then.
  virtual bool start(void* tag, std::string_view body, Compression encoding) noexcept = 0;
  // Moves the transfers on without waiting.
  virtual void perform() noexcept = 0;
  // One finished request, if any: true and `out` filled.
  virtual bool next_completion(Completion& out) noexcept = 0;
  // Stops every request in flight; none of them completes.
  virtual void cancel_all() noexcept = 0;
  // Waits for socket activity, a wake(), or `timeout`.
  virtual void wait(std::chrono::milliseconds timeout) noexcept = 0;
  // Any thread: makes a wait() in progress (or the next one) return at once.
  virtual void wake() noexcept = 0;
};

}  // namespace htevents::inline v0::detail
