// Whole batch requests as NDJSON (Options::dump_requests_path): what a client sends beyond its
// messages - the envelope (messageId, sentAt, context, ...), every header, the encoding - one
// JSON line per request, whatever the answer.
#pragma once

#include <cstddef>
#include <cstdio>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "collector/codec.hpp"

namespace htevents::collector {

/// One batch POST as the collector saw it. Views valid for the call they are passed to.
struct DumpedRequest {
  std::string_view method{};
  std::string_view path{};
  std::vector<std::pair<std::string, std::string>> headers{};  ///< as received, in order
  std::string_view wire_body{};                                ///< as on the wire (empty when `overflow`)
  std::optional<Encoding> encoding{};  ///< nullopt: a Content-Encoding the collector does not know
  bool overflow = false;               ///< over max_body_bytes: the body was not kept
  int status = 0;                      ///< the answer; 0: the connection was closed without one
};

/// The line for one request, without its newline:
///   {"time":"2026-12-01T12:00:00.123Z","method":"POST","path":"/v1/batch","status":200,
///    "headers":{"Content-Type":"application/json",...},"encoding":"zstd","wire_bytes":812,
///    "body":{...the decoded body, minified...}}
/// When the body cannot be shown as JSON, "body" is null and "body_error" says why, with
/// "body_text" holding the decoded text if it is valid UTF-8. Headers with the same name are
/// joined with ", " (as HTTP allows). Thread-safe (decode state is per thread); allocates.
[[nodiscard]] std::string dump_line(DumpedRequest const& request, std::size_t max_body_bytes);

/// Appends dump_line() of each request, and a newline, to a file. Thread-safe: lines never
/// interleave, and each is flushed as it is written (a test may read the file at any time).
class RequestDump {
 public:
  /// Opens `path` for appending. Throws std::runtime_error naming it when it cannot.
  RequestDump(std::string const& path, std::size_t max_body_bytes);
  ~RequestDump();
  RequestDump(RequestDump const&) = delete;
  RequestDump& operator=(RequestDump const&) = delete;

  /// Throws only std::bad_alloc; a failed write is ignored (the collector keeps answering).
  void write(DumpedRequest const& request);

 private:
  std::size_t max_body_bytes_;
  std::mutex mutex_;
  std::FILE* file_ = nullptr;
};

}  // namespace htevents::collector
