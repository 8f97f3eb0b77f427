#pragma once
// A spooled batch back in memory: the record read from a segment (header and body) decoded
// into a heap Batch the sender can send, split and fail like any other: the body decompressed,
// its envelope found, its messages' spans located. Used for parked and adopted batches only
// (the common path sends what the serializer built).

#include <cstddef>
#include <memory>
#include <string_view>

#include "batch/batch.hpp"

namespace htevents::inline v0::detail::spool {

// nullptr when the record does not decode (it verified, so this means a bug or a foreign
// writer: the caller counts it corrupt). `envelope_max` is Envelope::max_bytes(): the body
// keeps room to rewrite sentAt.
std::unique_ptr<Batch> read_batch(std::string_view record, std::size_t envelope_max) noexcept;

// The spans of the messages between `{"batch":[` and `envelope_at` in `body`; false when the
// bytes there are not a list of JSON objects.
bool find_message_spans(std::string_view body, std::size_t envelope_at, std::vector<MessageSpan>& out);

}  // namespace htevents::inline v0::detail::spool
