#include "batch/envelope.hpp"

#include "htevents_version.hpp"
#include "message/json_primitives.hpp"
#include "message/value_encoding.hpp"

namespace htevents::inline v0::detail {

Status encode_batch_context(Object const& default_context, std::string& out) {
  out = R"(,"context":{"library":{"name":"events-sdk-cpp","version":")" HTEVENTS_VERSION R"("})";
  StringOut writer(out);
  for (auto const& member : default_context.members()) {
    if (member.key == "library") continue;  // ours always wins
    encode_key(writer, member.key, true);
    encode_value(writer, member.value);
  }
  out += "}}";
  return writer.status();
}

std::size_t envelope_bytes(std::size_t context_suffix_size) noexcept {
  // prefix + `],"sentAt":` + timestamp + `,"messageId":` + quoted uuid + context suffix.
  return body_prefix.size() + 11 + max_timestamp_size + 13 + UuidGenerator::size + 2 + context_suffix_size;
}

}  // namespace htevents::inline v0::detail
