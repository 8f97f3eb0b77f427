// The collector's per-request work, without HTTP: decode a body, parse it, check and count
// its messages. Exposed for benchmarks and tests.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "collector/codec.hpp"
#include "collector/id_set.hpp"

namespace simdjson::dom {
class parser;
}

namespace htevents::collector {

/// The message types of the batch API, in the order of CheckResult::by_type.
enum class MessageType : std::uint8_t { identify, track, page, screen, group, alias };
inline constexpr std::size_t message_type_count = 6;

/// Largest decoded body accepted by default (bytes).
inline constexpr std::size_t default_max_body_bytes = std::size_t{64} << 20;

/// What BatchChecker::check found in one request body.
enum class BodyStatus : std::uint8_t {
  ok,               ///< a JSON object with a `batch` array; messages counted
  corrupt_encoding, ///< gzip/zstd stream invalid or truncated
  too_large,        ///< decodes to more than the allowed size
  invalid_json,     ///< not valid JSON
  not_a_batch,      ///< valid JSON, but not an object with a `batch` array
};

/// Counts from one body. Only meaningful when status == BodyStatus::ok.
struct CheckResult {
  BodyStatus status = BodyStatus::ok;
  std::size_t decoded_bytes = 0;  ///< body size after Content-Encoding was removed
  std::uint64_t valid = 0;        ///< messages with a known `type` and a non-empty string `messageId`
  std::uint64_t invalid = 0;      ///< other elements of `batch`
  std::array<std::uint64_t, message_type_count> by_type{};  ///< valid messages per MessageType
};

/// Decodes, parses (simdjson DOM: the whole body is validated) and counts batch bodies,
/// reusing its decoder contexts, parser and buffers from call to call.
/// Not thread-safe: use one per thread. Steady state allocates nothing (unless NDJSON is asked).
class BatchChecker {
 public:
  /// Throws std::bad_alloc or std::runtime_error (zstd/zlib init).
  BatchChecker();
  ~BatchChecker();
  BatchChecker(BatchChecker const&) = delete;
  BatchChecker& operator=(BatchChecker const&) = delete;

  /// Checks one request body as received on the wire. When `ndjson` is given, every element of
  /// `batch` (valid or not) is appended to it as one minified JSON line. Never throws except
  /// std::bad_alloc.
  CheckResult check(Encoding encoding, std::string_view wire_body,
                    std::size_t max_decoded_bytes = default_max_body_bytes, std::string* ndjson = nullptr);

  /// The messageIds of the valid messages of the last check(), in batch order.
  [[nodiscard]] std::span<MessageId const> ids() const noexcept { return ids_; }
  /// The decoded body of the last check() (if decoding succeeded); valid until the next check().
  [[nodiscard]] std::string_view decoded() const noexcept { return decoder_.output(); }

 private:
  Decoder decoder_;
  std::unique_ptr<simdjson::dom::parser> parser_;
  std::vector<MessageId> ids_;
};

}  // namespace htevents::collector
