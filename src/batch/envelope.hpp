#pragma once
// The batch envelope around the messages: `{"batch":[` before them and
// `],"sentAt":...,"messageId":"...","context":{...}}` after. One writer for the serializer (a
// new batch) and the sender (a fresh sentAt on every attempt, the halves of a split batch), so
// the two can never disagree on the bytes; config validation asks it the envelope's size (and
// whether default_context encodes at all) before any thread starts.

#include <chrono>
#include <cstddef>
#include <cstring>
#include <string>
#include <string_view>

#include "batch/batch.hpp"
#include "htevents/status.hpp"
#include "htevents/value.hpp"

namespace htevents::inline v0::detail {

// `,"context":{"library":{...},<default_context but its "library">}}` into `out`. Returns the
// first error of the library's value encoding: Status::invalid_number for a NaN or infinity,
// Status::invalid_json for a RawJson that does not parse, anywhere in the tree; `out` is then
// unusable.
[[nodiscard]] Status encode_batch_context(Object const& default_context, std::string& out);

// The longest the envelope (prefix and suffix) of a batch can be, given its context suffix.
[[nodiscard]] std::size_t envelope_bytes(std::size_t context_suffix_size) noexcept;

class Envelope {
 public:
  static constexpr std::string_view prefix = R"({"batch":[)";

  // default_context has passed validate(Config): it encodes.
  explicit Envelope(Object const& default_context);

  // The most bytes prefix + suffix take: what a batch must keep free beyond its messages.
  std::size_t max_bytes() const noexcept;

  // Starts an empty body: the prefix, no messages.
  static void open(Batch& batch) noexcept;
  // Appends one message's JSON (comma included) and records its span. The caller checked room.
  // Inline: the serializer calls it once per message.
  static void append(Batch& batch, std::string_view message_json) noexcept {
    ByteBuffer& body = batch.body;
    std::size_t at = body.size();
    if (!batch.messages.empty()) body.data()[at++] = ',';
    std::memcpy(body.data() + at, message_json.data(), message_json.size());
    batch.messages.emplace_back(static_cast<std::uint32_t>(at), static_cast<std::uint32_t>(message_json.size()));
    body.resize(at + message_json.size());
  }
  // Ends the body after its messages with sentAt = `now` and the batch's messageId (kept in
  // `batch.id`), and remembers where the suffix starts. Call again to refresh sentAt: the
  // suffix is cut at `batch.envelope_at` and rewritten; messages and messageId stay.
  void close(Batch& batch, std::chrono::system_clock::time_point now) const noexcept;

 private:
  std::string context_suffix_;  // `,"context":{"library":...}}`
};

}  // namespace htevents::inline v0::detail
