// The compressor alone: every zstd level and gzip round-trips a W1-like request body, and level
// 1's tuned parameters (minMatch 7) never make a request-sized body larger than zstd's own level 1.

#include "batch/compressor.hpp"

#include <gtest/gtest.h>
#include <zlib.h>
#include <zstd.h>

#include <cstdint>
#include <string>
#include <vector>

namespace htevents::inline v0::detail {
namespace {

// A request body shaped like the pipeline's: W1 track events with per-event ids, timestamps
// and messageIds (so the input is neither random nor one repeated record).
std::string w1_like_body(std::uint64_t first, int events) {
  std::string body = R"({"batch":[)";
  std::uint64_t x = first * 0x9E3779B97F4A7C15ULL + 1;
  for (int i = 0; i < events; ++i) {
    std::uint64_t const n = first + static_cast<std::uint64_t>(i);
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    if (i > 0) body += ',';
    body += R"({"type":"track","event":"Order completed","userId":"user-)" + std::to_string(n) +
            R"(","properties":{"total":29.99,"currency":"USD","product_id":"sku-)" + std::to_string(n % 1000) +
            R"(","quantity":)" + std::to_string(n % 10) + R"(,"coupon":null},"timestamp":"2026-12-01T19:)" +
            std::to_string(10 + (n / 1000) % 50) + ":" + std::to_string(10 + n % 50) + "." +
            std::to_string(100 + n % 900) + R"(Z","messageId":")" + std::to_string(x) + "-" +
            std::to_string(x >> 17) + R"("})";
  }
  body += R"(],"sentAt":"2026-12-01T19:20:21.123Z"})";
  return body;
}

std::string zstd_decompress(std::string_view wire) {
  unsigned long long const size = ZSTD_getFrameContentSize(wire.data(), wire.size());
  EXPECT_NE(size, ZSTD_CONTENTSIZE_ERROR);
  EXPECT_NE(size, ZSTD_CONTENTSIZE_UNKNOWN);
  std::string out(static_cast<std::size_t>(size), '\0');
  std::size_t const n = ZSTD_decompress(out.data(), out.size(), wire.data(), wire.size());
  EXPECT_FALSE(ZSTD_isError(n)) << ZSTD_getErrorName(n);
  out.resize(ZSTD_isError(n) ? 0 : n);
  return out;
}

std::string gzip_decompress(std::string_view wire) {
  z_stream z{};
  EXPECT_EQ(inflateInit2(&z, 15 + 16), Z_OK);
  std::string out;
  char chunk[16384];
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(wire.data()));
  z.avail_in = static_cast<uInt>(wire.size());
  int rc = Z_OK;
  while (rc == Z_OK) {
    z.next_out = reinterpret_cast<Bytef*>(chunk);
    z.avail_out = sizeof chunk;
    rc = inflate(&z, Z_NO_FLUSH);
    out.append(chunk, sizeof chunk - z.avail_out);
  }
  EXPECT_EQ(rc, Z_STREAM_END);
  inflateEnd(&z);
  return out;
}

TEST(Compressor, EveryZstdLevelRoundTripsAndReusesItsContext) {
  for (int level = -5; level <= 19; ++level) {
    Compressor compressor(level);
    ByteBuffer out(16);  // too small: the compressor grows it
    for (std::uint64_t first : {0ULL, 5000ULL}) {  // the second call reuses the context
      std::string const body = w1_like_body(first, 200);
      ASSERT_TRUE(compressor.compress(Compression::zstd, body, out)) << "level " << level;
      EXPECT_LT(out.view().size(), body.size()) << "level " << level;
      EXPECT_EQ(zstd_decompress(out.view()), body) << "level " << level;
    }
  }
}

TEST(Compressor, GzipRoundTripsAtEveryLevelItAccepts) {
  for (int level : {-5, 0, 1, 6, 9, 19}) {  // clamped to 1..9
    Compressor compressor(level);
    ByteBuffer out(16);
    for (std::uint64_t first : {0ULL, 5000ULL}) {
      std::string const body = w1_like_body(first, 200);
      ASSERT_TRUE(compressor.compress(Compression::gzip, body, out)) << "level " << level;
      EXPECT_EQ(gzip_decompress(out.view()), body) << "level " << level;
    }
  }
}

// Request-sized bodies (a batch is tens of kB). A body of one or ten events may come out a
// couple of bytes larger (238 against 236 for one event): not what the parameter is for.
TEST(Compressor, TunedLevelOneIsNeverLargerThanZstdsOwnLevelOneOnRequestSizedBodies) {
  Compressor compressor(1);
  ByteBuffer out(16);
  ZSTD_CCtx* plain = ZSTD_createCCtx();
  ASSERT_NE(plain, nullptr);
  ZSTD_CCtx_setParameter(plain, ZSTD_c_compressionLevel, 1);
  std::vector<char> reference;
  for (int events : {100, 250, 500, 1000}) {
    std::string const body = w1_like_body(static_cast<std::uint64_t>(events) * 7919, events);
    ASSERT_TRUE(compressor.compress(Compression::zstd, body, out));
    reference.resize(ZSTD_compressBound(body.size()));
    std::size_t const plain_size = ZSTD_compress2(plain, reference.data(), reference.size(), body.data(), body.size());
    ASSERT_FALSE(ZSTD_isError(plain_size));
    EXPECT_LE(out.view().size(), plain_size) << events << " events";
    EXPECT_EQ(zstd_decompress(out.view()), body);
  }
  ZSTD_freeCCtx(plain);
}

}  // namespace
}  // namespace htevents::inline v0::detail
