#pragma once
// The parts of a request body around its messages: `{"batch":[` before them and
// `],"sentAt":...,"messageId":...,"context":{...}}` after. Shared by the serializer, which
// writes them, and by config validation, which must know their size (and that default_context
// encodes at all) before any thread starts.

#include <cstddef>
#include <string>
#include <string_view>

#include "htevents/status.hpp"
#include "htevents/value.hpp"

namespace htevents::inline v0::detail {

inline constexpr std::string_view body_prefix = R"({"batch":[)";

// `,"context":{"library":{...},<default_context but its "library">}}` into `out`. Returns the
// first error of the library's value encoding: Status::invalid_number for a NaN or infinity,
// Status::invalid_json for a RawJson that does not parse, anywhere in the tree; `out` is then
// unusable.
[[nodiscard]] Status encode_batch_context(Object const& default_context, std::string& out);

// The longest the envelope (prefix and suffix) of a batch can be, given its context suffix.
[[nodiscard]] std::size_t envelope_bytes(std::size_t context_suffix_size) noexcept;

}  // namespace htevents::inline v0::detail
