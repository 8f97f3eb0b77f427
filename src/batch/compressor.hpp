#pragma once
// Request body compression with contexts reused across batches (zstd CCtx, zlib stream).

#include <string_view>

#include <zlib.h>
#include <zstd.h>

#include "batch/batch.hpp"
#include "htevents/config.hpp"

namespace htevents::inline v0::detail {

class Compressor {
 public:
  // `level` is Config::compression_level: zstd uses it as is, gzip clamps it to 1..9.
  explicit Compressor(int level);
  ~Compressor();
  Compressor(Compressor const&) = delete;
  Compressor& operator=(Compressor const&) = delete;

  // Compresses `in` into `out` (grown if its capacity is short). False on a library error.
  // Not for Compression::none. Not thread-safe: one per thread.
  bool compress(Compression encoding, std::string_view in, ByteBuffer& out) noexcept;

 private:
  bool compress_zstd(std::string_view in, ByteBuffer& out);
  bool compress_gzip(std::string_view in, ByteBuffer& out);

  int level_;
  ZSTD_CCtx* zstd_ = nullptr;
  z_stream gzip_{};
  bool gzip_ready_ = false;
};

// "zstd", "gzip" or "" (none): the Content-Encoding value.
std::string_view content_encoding(Compression encoding) noexcept;

}  // namespace htevents::inline v0::detail
