#include "collector/codec.hpp"

#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <climits>
#include <cstring>
#include <new>
#include <stdexcept>

namespace htevents::collector {

std::optional<Encoding> parse_encoding(std::string_view header) noexcept {
  while (!header.empty() && (header.front() == ' ' || header.front() == '\t')) header.remove_prefix(1);
  while (!header.empty() && (header.back() == ' ' || header.back() == '\t')) header.remove_suffix(1);
  auto const equals = [header](std::string_view name) {
    return header.size() == name.size() &&
           std::equal(header.begin(), header.end(), name.begin(), [](char a, char b) {
             return (a >= 'A' && a <= 'Z' ? static_cast<char>(a - 'A' + 'a') : a) == b;
           });
  };
  if (header.empty() || equals("identity")) return Encoding::identity;
  if (equals("gzip")) return Encoding::gzip;
  if (equals("zstd")) return Encoding::zstd;
  return std::nullopt;
}

std::string_view to_string(Encoding encoding) noexcept {
  switch (encoding) {
    case Encoding::gzip: return "gzip";
    case Encoding::zstd: return "zstd";
    case Encoding::identity: break;
  }
  return "identity";
}

struct Decoder::Contexts {
  ZSTD_DCtx* zstd = nullptr;
  z_stream zlib{};
  bool zlib_ready = false;
  ~Contexts() {
    ZSTD_freeDCtx(zstd);
    if (zlib_ready) inflateEnd(&zlib);
  }
};

Decoder::Decoder(std::size_t padding) : padding_(padding), contexts_(std::make_unique<Contexts>()) {
  contexts_->zstd = ZSTD_createDCtx();
  if (contexts_->zstd == nullptr) throw std::runtime_error("collector: ZSTD_createDCtx failed");
  // 15 + 16: a 32 KiB window and a gzip (not zlib) wrapper.
  if (inflateInit2(&contexts_->zlib, 15 + 16) != Z_OK) throw std::runtime_error("collector: inflateInit2 failed");
  contexts_->zlib_ready = true;
  if (!reserve(64 * 1024)) throw std::bad_alloc();
}

Decoder::~Decoder() = default;

bool Decoder::reserve(std::size_t bytes) noexcept {
  if (bytes <= capacity_) return true;
  std::size_t const capacity = std::max(bytes, capacity_ * 2);
  std::unique_ptr<char[]> bigger(new (std::nothrow) char[capacity + padding_]);
  if (!bigger) return false;
  if (size_ > 0) std::memcpy(bigger.get(), buffer_.get(), size_);
  std::memset(bigger.get() + capacity, 0, padding_);
  buffer_ = std::move(bigger);
  capacity_ = capacity;
  return true;
}

DecodeStatus Decoder::decode(Encoding encoding, std::string_view input, std::size_t max_output) noexcept {
  size_ = 0;
  switch (encoding) {
    case Encoding::zstd: return decode_zstd(input, max_output);
    case Encoding::gzip: return decode_gzip(input, max_output);
    case Encoding::identity: break;
  }
  if (input.size() > max_output) return DecodeStatus::too_large;
  if (!reserve(input.size())) return DecodeStatus::too_large;
  if (!input.empty()) std::memcpy(buffer_.get(), input.data(), input.size());
  size_ = input.size();
  return DecodeStatus::ok;
}

DecodeStatus Decoder::decode_zstd(std::string_view input, std::size_t max_output) noexcept {
  ZSTD_DCtx* const dctx = contexts_->zstd;
  if (input.empty()) return DecodeStatus::corrupt;
  // Fast path: a single frame that records its content size decodes in one call.
  unsigned long long const content = ZSTD_getFrameContentSize(input.data(), input.size());
  if (content == ZSTD_CONTENTSIZE_ERROR) return DecodeStatus::corrupt;
  if (content != ZSTD_CONTENTSIZE_UNKNOWN &&
      ZSTD_findFrameCompressedSize(input.data(), input.size()) == input.size()) {
    if (content > max_output) return DecodeStatus::too_large;
    auto const expected = static_cast<std::size_t>(content);
    if (!reserve(expected)) return DecodeStatus::too_large;
    std::size_t const got = ZSTD_decompressDCtx(dctx, buffer_.get(), expected, input.data(), input.size());
    if (ZSTD_isError(got) || got != expected) return DecodeStatus::corrupt;
    size_ = got;
    return DecodeStatus::ok;
  }
  // Streaming: unknown sizes, several frames.
  ZSTD_DCtx_reset(dctx, ZSTD_reset_session_only);
  ZSTD_inBuffer in{input.data(), input.size(), 0};
  for (;;) {
    if (size_ == capacity_ && !reserve(capacity_ + 1)) return DecodeStatus::too_large;
    ZSTD_outBuffer out{buffer_.get() + size_, capacity_ - size_, 0};
    std::size_t const hint = ZSTD_decompressStream(dctx, &out, &in);
    if (ZSTD_isError(hint)) return DecodeStatus::corrupt;
    size_ += out.pos;
    if (size_ > max_output) return DecodeStatus::too_large;
    if (in.pos == in.size) {
      if (hint == 0) return DecodeStatus::ok;           // last frame complete
      if (out.pos < out.size) return DecodeStatus::corrupt;  // input ends inside a frame
    }
  }
}

DecodeStatus Decoder::decode_gzip(std::string_view input, std::size_t max_output) noexcept {
  z_stream& zs = contexts_->zlib;
  if (inflateReset(&zs) != Z_OK) return DecodeStatus::corrupt;
  if (input.size() > UINT_MAX) return DecodeStatus::too_large;
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(input.data()));
  zs.avail_in = static_cast<uInt>(input.size());
  if (!reserve(std::min(max_output, input.size() * 8) + 1)) return DecodeStatus::too_large;
  for (;;) {
    if (size_ == capacity_ && !reserve(capacity_ + 1)) return DecodeStatus::too_large;
    std::size_t const room = std::min<std::size_t>(capacity_ - size_, UINT_MAX);
    zs.next_out = reinterpret_cast<Bytef*>(buffer_.get() + size_);
    zs.avail_out = static_cast<uInt>(room);
    int const rc = inflate(&zs, Z_NO_FLUSH);
    size_ += room - zs.avail_out;
    if (size_ > max_output) return DecodeStatus::too_large;
    if (rc == Z_STREAM_END) {
      if (zs.avail_in == 0) return DecodeStatus::ok;
      if (inflateReset(&zs) != Z_OK) return DecodeStatus::corrupt;  // next gzip member
      continue;
    }
    if (rc == Z_BUF_ERROR && zs.avail_out == 0) continue;  // only needs more room
    if (rc != Z_OK) return DecodeStatus::corrupt;
    if (zs.avail_in == 0 && zs.avail_out != 0) return DecodeStatus::corrupt;  // truncated
  }
}

std::string zstd_compress(std::string_view input, int level) {
  std::string out(ZSTD_compressBound(input.size()), '\0');
  std::size_t const n = ZSTD_compress(out.data(), out.size(), input.data(), input.size(), level);
  if (ZSTD_isError(n)) throw std::runtime_error(std::string("collector: ZSTD_compress: ") + ZSTD_getErrorName(n));
  out.resize(n);
  return out;
}

std::string gzip_compress(std::string_view input, int level) {
  z_stream zs{};
  if (deflateInit2(&zs, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    throw std::runtime_error("collector: deflateInit2 failed");
  if (input.size() > UINT_MAX) {
    deflateEnd(&zs);
    throw std::runtime_error("collector: gzip_compress input too large");
  }
  std::string out(deflateBound(&zs, static_cast<uLong>(input.size())), '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(input.data()));
  zs.avail_in = static_cast<uInt>(input.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  int const rc = deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  if (rc != Z_STREAM_END) throw std::runtime_error("collector: deflate failed");
  return out;
}

}  // namespace htevents::collector
