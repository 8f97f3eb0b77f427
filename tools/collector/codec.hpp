// Content-Encoding handling for the local collector: decoding request bodies with reused
// contexts, and one-shot compression helpers for tests and benchmarks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace htevents::collector {

/// The request body encodings the collector understands.
enum class Encoding : std::uint8_t { identity, gzip, zstd };

/// Parses a Content-Encoding header value: "" and "identity" give identity, "gzip" and "zstd"
/// their encoding (case-insensitive, surrounding spaces ignored); anything else is nullopt.
/// Pure, thread-safe, never allocates.
[[nodiscard]] std::optional<Encoding> parse_encoding(std::string_view header) noexcept;

/// "identity", "gzip" or "zstd". Pure, thread-safe; the view points to a static string.
[[nodiscard]] std::string_view to_string(Encoding encoding) noexcept;

/// Outcome of Decoder::decode.
enum class DecodeStatus : std::uint8_t {
  ok,         ///< output() holds the decoded body
  corrupt,    ///< not a valid (complete) gzip/zstd stream
  too_large,  ///< would decode to more than the allowed size
};

/// Decodes request bodies into one reused buffer, with a reused zstd context and zlib stream.
/// Not thread-safe: use one per thread. Allocates only when a body is larger than any before.
class Decoder {
 public:
  /// `padding`: spare bytes kept readable (contents unspecified) after the decoded bytes, as
  /// simdjson needs. Throws std::bad_alloc or std::runtime_error if zstd/zlib cannot start.
  explicit Decoder(std::size_t padding = 64);
  ~Decoder();
  Decoder(Decoder const&) = delete;
  Decoder& operator=(Decoder const&) = delete;

  /// Decodes `input` (identity is copied) into the buffer that output() shows. At most
  /// `max_output` decoded bytes are accepted. Invalidates the previous output(). noexcept:
  /// an allocation failure is reported as too_large.
  [[nodiscard]] DecodeStatus decode(Encoding encoding, std::string_view input,
                                    std::size_t max_output) noexcept;

  /// The bytes decoded by the last successful decode(); valid until the next decode().
  /// At least `padding` readable bytes follow it.
  [[nodiscard]] std::string_view output() const noexcept { return {buffer_.get(), size_}; }

 private:
  bool reserve(std::size_t bytes) noexcept;  ///< capacity for `bytes` + padding_, keeps data
  DecodeStatus decode_zstd(std::string_view input, std::size_t max_output) noexcept;
  DecodeStatus decode_gzip(std::string_view input, std::size_t max_output) noexcept;

  struct Contexts;  // zstd and zlib state, kept out of this header
  std::size_t padding_;
  std::unique_ptr<char[]> buffer_;
  std::size_t capacity_ = 0;  ///< usable bytes of buffer_, padding excluded
  std::size_t size_ = 0;
  std::unique_ptr<Contexts> contexts_;
};

/// Compresses `input` into one zstd frame (content size recorded). Thread-safe (own context);
/// allocates. Throws std::runtime_error on a zstd error.
[[nodiscard]] std::string zstd_compress(std::string_view input, int level = 1);

/// Compresses `input` into one gzip member. Thread-safe; allocates. Throws std::runtime_error
/// on a zlib error.
[[nodiscard]] std::string gzip_compress(std::string_view input, int level = 6);

}  // namespace htevents::collector
