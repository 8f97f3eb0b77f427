#include "spool/batch_reader.hpp"

#include <zlib.h>
#include <zstd.h>

#include <cstring>

#include "batch/envelope.hpp"
#include "spool/format.hpp"

namespace htevents::inline v0::detail::spool {
namespace {

template <class T>
T field(std::string_view record, std::size_t offset) noexcept {
  T value{};
  std::memcpy(&value, record.data() + offset, sizeof value);
  return value;
}

bool inflate_gzip(std::string_view in, char* out, std::size_t size) noexcept {
  z_stream z{};
  if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) return false;
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = reinterpret_cast<Bytef*>(out);
  z.avail_out = static_cast<uInt>(size);
  int const rc = inflate(&z, Z_FINISH);
  bool const ok = rc == Z_STREAM_END && z.total_out == size;
  inflateEnd(&z);
  return ok;
}

}  // namespace

bool find_message_spans(std::string_view body, std::size_t envelope_at, std::vector<MessageSpan>& out) {
  std::size_t pos = Envelope::prefix.size();
  if (envelope_at > body.size() || pos > envelope_at || body.substr(0, pos) != Envelope::prefix) return false;
  while (pos < envelope_at) {
    if (body[pos] != '{') return false;
    std::size_t const start = pos;
    int depth = 0;
    bool in_string = false;
    for (; pos < envelope_at; ++pos) {
      char const c = body[pos];
      if (in_string) {
        if (c == '\\') {
          ++pos;
        } else if (c == '"') {
          in_string = false;
        }
      } else if (c == '"') {
        in_string = true;
      } else if (c == '{' || c == '[') {
        ++depth;
      } else if ((c == '}' || c == ']') && --depth == 0) {
        ++pos;
        break;
      }
    }
    if (depth != 0) return false;
    out.emplace_back(static_cast<std::uint32_t>(start), static_cast<std::uint32_t>(pos - start));
    if (pos < envelope_at) {
      if (body[pos] != ',') return false;
      ++pos;
    }
  }
  return true;
}

std::unique_ptr<Batch> read_batch(std::string_view record, std::size_t envelope_max) noexcept {
  if (record.size() < batch_header_bytes) return nullptr;
  auto const messages = field<std::uint32_t>(record, batch_off_messages);
  auto const envelope_at = field<std::uint32_t>(record, batch_off_envelope_at);
  auto const raw_bytes = field<std::uint32_t>(record, batch_off_raw_bytes);
  auto const encoding = field<std::uint8_t>(record, batch_off_encoding);
  std::string_view const body = record.substr(batch_header_bytes);
  if (envelope_at >= raw_bytes || messages == 0 || encoding > static_cast<std::uint8_t>(Compression::zstd)) {
    return nullptr;
  }
  try {
    auto batch = std::make_unique<Batch>(std::max<std::size_t>(raw_bytes, envelope_at + envelope_max), messages);
    char* out = batch->body.data();
    switch (static_cast<Compression>(encoding)) {
      case Compression::none:
        if (body.size() != raw_bytes) return nullptr;
        std::memcpy(out, body.data(), raw_bytes);
        break;
      case Compression::zstd: {
        std::size_t const n = ZSTD_decompress(out, raw_bytes, body.data(), body.size());
        if (ZSTD_isError(n) || n != raw_bytes) return nullptr;
        break;
      }
      case Compression::gzip:
        if (!inflate_gzip(body, out, raw_bytes)) return nullptr;
        break;
    }
    batch->body.resize(raw_bytes);
    if (!find_message_spans(batch->body.view(), envelope_at, batch->messages) || batch->messages.size() != messages) {
      return nullptr;
    }
    batch->envelope_at = envelope_at;
    std::memcpy(batch->id.data(), record.data() + batch_off_id, batch->id.size());
    batch->serial = 0;
    batch->encoding = Compression::none;  // the sender re-encodes it (a fresh sentAt) before sending
    batch->from_spool = true;
    return batch;
  } catch (...) {
    return nullptr;
  }
}

}  // namespace htevents::inline v0::detail::spool
