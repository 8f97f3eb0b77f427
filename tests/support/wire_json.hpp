#pragma once
// Parsed-JSON comparison for wire-format tests: key order inside objects is free, values, types
// and presence are not. Allocates; test code only.

#include <simdjson.h>

#include <string>
#include <string_view>
#include <vector>

namespace htevents::testing {

/// Paths are written `$`, `$.key`, `$.batch[0].messageId`. A path in `ignored` is skipped on both
/// sides (present or not, any value).
struct JsonDiffOptions {
  std::vector<std::string> ignored{};
};

/// Empty when `a` and `b` are equal as parsed JSON; otherwise a description of the first
/// difference found, with its path. Integers compare by value whether simdjson stored them as
/// int64 or uint64; doubles compare exactly (`1e21` equals `1e+21`); an integer never equals a
/// double.
[[nodiscard]] std::string json_diff(simdjson::dom::element a, simdjson::dom::element b,
                                    JsonDiffOptions const& options = {}, std::string const& path = "$");

/// Parses both texts (a parse error is reported as a difference) and compares them.
[[nodiscard]] std::string json_diff(std::string_view a, std::string_view b, JsonDiffOptions const& options = {});

/// Compact JSON text of an element, for messages and for extracting one part of a body.
[[nodiscard]] std::string json_text(simdjson::dom::element e);

/// A parsed document that owns its parser, so several can be alive at once.
class JsonDocument {
 public:
  /// Parses `text`; ok() is false and error() names the problem when it does not parse.
  explicit JsonDocument(std::string_view text);
  [[nodiscard]] bool ok() const noexcept { return error_ == simdjson::SUCCESS; }
  [[nodiscard]] std::string error() const { return simdjson::error_message(error_); }
  [[nodiscard]] simdjson::dom::element root() const noexcept { return root_; }

 private:
  simdjson::dom::parser parser_;
  simdjson::dom::element root_{};
  simdjson::error_code error_ = simdjson::SUCCESS;
};

}  // namespace htevents::testing
