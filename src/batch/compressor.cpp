#include "batch/compressor.hpp"

#include <algorithm>

namespace htevents::inline v0::detail {

Compressor::Compressor(int level) : level_(level) {}

Compressor::~Compressor() {
  if (zstd_ != nullptr) ZSTD_freeCCtx(zstd_);
  if (gzip_ready_) deflateEnd(&gzip_);
}

bool Compressor::compress(Compression encoding, std::string_view in, ByteBuffer& out) noexcept {
  try {
    switch (encoding) {
      case Compression::zstd: return compress_zstd(in, out);
      case Compression::gzip: return compress_gzip(in, out);
      case Compression::none: break;
    }
  } catch (...) {  // std::bad_alloc from growing `out`
  }
  return false;
}

bool Compressor::compress_zstd(std::string_view in, ByteBuffer& out) {
  if (zstd_ == nullptr) {
    zstd_ = ZSTD_createCCtx();
    if (zstd_ == nullptr) return false;
    ZSTD_CCtx_setParameter(zstd_, ZSTD_c_compressionLevel, level_);
    // Level 1 with a minimum match of 7 bytes instead of its default 6: on W1's ~60 kB JSON
    // bodies (many repeated keys and fragments), fewer, longer matches cost fewer instructions
    // and make smaller output (tuned on 80 real W1 bodies: 2,872 -> 2,774 instructions and
    // 26.20 -> 25.38 bytes per event). Other levels keep zstd's own parameters.
    if (level_ == 1) ZSTD_CCtx_setParameter(zstd_, ZSTD_c_minMatch, 7);
  }
  out.reserve_discard(ZSTD_compressBound(in.size()));
  std::size_t const n = ZSTD_compress2(zstd_, out.data(), out.capacity(), in.data(), in.size());
  if (ZSTD_isError(n)) return false;
  out.resize(n);
  return true;
}

bool Compressor::compress_gzip(std::string_view in, ByteBuffer& out) {
  if (!gzip_ready_) {
    // windowBits 15 + 16: a gzip wrapper rather than zlib's.
    if (deflateInit2(&gzip_, std::clamp(level_, 1, 9), Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
      return false;
    }
    gzip_ready_ = true;
  } else if (deflateReset(&gzip_) != Z_OK) {
    return false;
  }
  out.reserve_discard(deflateBound(&gzip_, static_cast<uLong>(in.size())));
  gzip_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  gzip_.avail_in = static_cast<uInt>(in.size());
  gzip_.next_out = reinterpret_cast<Bytef*>(out.data());
  gzip_.avail_out = static_cast<uInt>(out.capacity());
  if (deflate(&gzip_, Z_FINISH) != Z_STREAM_END) return false;
  out.resize(out.capacity() - gzip_.avail_out);
  return true;
}

std::string_view content_encoding(Compression encoding) noexcept {
  switch (encoding) {
    case Compression::zstd: return "zstd";
    case Compression::gzip: return "gzip";
    case Compression::none: break;
  }
  return "";
}

}  // namespace htevents::inline v0::detail
