#include "batch/envelope.hpp"

#include <cstring>

#include "htevents_version.hpp"
#include "message/json_primitives.hpp"
#include "message/value_encoding.hpp"

namespace htevents::inline v0::detail {
namespace {

constexpr std::string_view sent_at_key = R"(],"sentAt":)";
constexpr std::string_view message_id_key = R"(,"messageId":")";

std::string make_context_suffix(Object const& default_context) {
  std::string s;
  (void)encode_batch_context(default_context, s);
  return s;
}

}  // namespace

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
  // prefix + `],"sentAt":` + timestamp + `,"messageId":"` + uuid + `"` + context suffix.
  return Envelope::prefix.size() + sent_at_key.size() + max_timestamp_size + message_id_key.size() +
         UuidGenerator::size + 1 + context_suffix_size;
}

Envelope::Envelope(Object const& default_context) : context_suffix_(make_context_suffix(default_context)) {}

std::size_t Envelope::max_bytes() const noexcept { return envelope_bytes(context_suffix_.size()); }

void Envelope::open(Batch& batch) noexcept {
  batch.body.resize(prefix.size());
  std::memcpy(batch.body.data(), prefix.data(), prefix.size());
  batch.envelope_at = 0;
}

void Envelope::close(Batch& batch, std::chrono::system_clock::time_point now) const noexcept {
  ByteBuffer& body = batch.body;
  if (batch.envelope_at == 0) batch.envelope_at = body.size();  // first close: the suffix starts here
  char* p = body.data() + batch.envelope_at;
  std::memcpy(p, sent_at_key.data(), sent_at_key.size());
  p = write_timestamp(p + sent_at_key.size(), now);
  std::memcpy(p, message_id_key.data(), message_id_key.size());
  p += message_id_key.size();
  std::memcpy(p, batch.id.data(), batch.id.size());
  p += batch.id.size();
  *p++ = '"';
  std::memcpy(p, context_suffix_.data(), context_suffix_.size());
  p += context_suffix_.size();
  body.resize(static_cast<std::size_t>(p - body.data()));
}

}  // namespace htevents::inline v0::detail
