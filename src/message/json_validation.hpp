#pragma once
// Raw JSON values (RawJson) checked before they are copied into a message.

#include <string_view>

namespace htevents::inline v0::detail {

/// True if `text` is exactly one valid JSON value, optionally surrounded by JSON whitespace,
/// with valid UTF-8 throughout. Uses a thread_local simdjson::dom::parser that is reused: it
/// allocates on first use per thread and when `text` is larger than any seen before on that
/// thread. False for nesting deeper than 1024. Numbers simdjson cannot hold (`1e400`, integers
/// beyond 64 bits) are judged by the JSON grammar alone, as Go's json.Valid does: accepted when
/// well formed. Thread-safe.
[[nodiscard]] bool is_valid_json(std::string_view text) noexcept;

}  // namespace htevents::inline v0::detail
