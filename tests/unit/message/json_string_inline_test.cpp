// write_json_string_inline (include/htevents/detail/json_write.hpp), the inline writer of the
// runtime strings of the fast path and the struct encoder, pinned against write_json_string:
// every length 0..40 (0 and 17 and up are handed over, 1..16 are checked and copied inline with
// overlapping loads), every byte value at every position on backgrounds beside the edges of
// its word-at-a-time test, every byte value filling the whole string, and random strings.
// Each input sits at the very end of its own heap allocation and each output fills its own
// allocation exactly, so AddressSanitizer reports a read past the string or a write past the
// output; a guarded copy of the output catches stray writes in the other builds too.

#include <gtest/gtest.h>

#include <array>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <string_view>

#include "htevents/detail/json_write.hpp"

namespace {

namespace hd = htevents::detail;

constexpr char guard = '\x5a';
constexpr std::size_t guard_size = 32;
constexpr std::size_t max_length = 40;

// Plain ASCII backgrounds beside the edges of the word-at-a-time test: 0x20 (the lowest byte
// that is not a control byte), the neighbours of '"' (0x22) and '\' (0x5c), the highest ASCII
// byte (0x7e) and DEL (0x7f, copied as is).
constexpr std::array<char, 8> backgrounds = {'a', ' ', '!', '#', '[', ']', '~', '\x7f'};

std::string hex(std::string_view s) {
  std::string text;
  for (char const c : s) {
    char cell[4];
    std::snprintf(cell, sizeof cell, "%02x ", static_cast<unsigned char>(c));
    text += cell;
  }
  return text;
}

// Compares write_json_string_inline(s) with write_json_string(s): the input is copied to the
// end of a heap block of its exact size, the output goes into a heap block of exactly
// json_string_size(s) bytes, and once more into a buffer with guard bytes after that size.
::testing::AssertionResult same_as_reference(std::string_view text) {
  std::unique_ptr<char[]> const input(new char[text.size()]);
  if (!text.empty()) std::memcpy(input.get(), text.data(), text.size());
  std::string_view const s(input.get(), text.size());

  std::size_t const size = hd::json_string_size(s);
  std::string expected(size, '\0');
  if (hd::write_json_string(expected.data(), s) != expected.data() + size) {
    return ::testing::AssertionFailure() << "write_json_string's size differs for " << hex(text);
  }

  std::unique_ptr<char[]> const exact(new char[size]);
  char* const end = hd::write_json_string_inline(exact.get(), s);
  if (end != exact.get() + size) {
    return ::testing::AssertionFailure() << "length " << text.size() << ": wrote " << (end - exact.get())
                                         << " bytes, expected " << size << " for " << hex(text);
  }
  if (std::string_view(exact.get(), size) != expected) {
    return ::testing::AssertionFailure() << "length " << text.size() << ": input " << hex(text)
                                         << "\n  inline:    " << std::string_view(exact.get(), size)
                                         << "\n  reference: " << expected;
  }

  std::string guarded(size + guard_size, guard);
  hd::write_json_string_inline(guarded.data(), s);
  for (std::size_t i = size; i < guarded.size(); ++i) {
    if (guarded[i] != guard) {
      return ::testing::AssertionFailure()
             << "length " << text.size() << ": byte " << i << " past the end touched for " << hex(text);
    }
  }
  return ::testing::AssertionSuccess();
}

TEST(JsonStringInline, EveryByteAtEveryPositionMatchesWriteJsonString) {
  for (std::size_t length = 0; length <= max_length; ++length) {
    SCOPED_TRACE("length " + std::to_string(length));
    for (char const background : backgrounds) {
      ASSERT_TRUE(same_as_reference(std::string(length, background)));
      for (std::size_t pos = 0; pos < length; ++pos) {
        for (int byte = 0; byte < 256; ++byte) {
          std::string s(length, background);
          s[pos] = static_cast<char>(byte);
          ASSERT_TRUE(same_as_reference(s));
        }
      }
    }
  }
}

TEST(JsonStringInline, EveryByteFillingTheStringMatchesWriteJsonString) {
  for (std::size_t length = 0; length <= max_length; ++length) {
    for (int byte = 0; byte < 256; ++byte) {
      ASSERT_TRUE(same_as_reference(std::string(length, static_cast<char>(byte))));
    }
  }
}

TEST(JsonStringInline, RandomStringsMatchWriteJsonString) {
  std::mt19937_64 rng(20250612);
  // Multi-byte sequences (valid, truncated, invalid) mixed into plain text, so that they land
  // on every position of the overlapping words, the end of the string included.
  std::string const pieces[] = {
      "\"",   "\\",       "\n",           "\x01",     "\x1f", "\x7f", "\xC3\xA9", "\xE2\x82\xAC", "\xF0\x9F\x98\x80",
      "\x80", "\xC0\x80", "\xED\xA0\x80", "\xE2\x82", "\xFF"};
  for (int iteration = 0; iteration < 200000; ++iteration) {
    auto const length = static_cast<std::size_t>(rng() % (max_length + 1));
    int const mode = static_cast<int>(rng() % 3);
    std::string s;
    while (s.size() < length) {
      if (mode == 0) {
        s += static_cast<char>(rng() & 0xff);  // raw bytes
      } else if (mode == 1 || rng() % 16 == 0) {
        s += pieces[rng() % std::size(pieces)];
      } else {
        s += static_cast<char>(0x20 + rng() % 0x60);  // plain ASCII (and DEL)
      }
    }
    s.resize(length);  // may cut a sequence short: also a case to cover
    ASSERT_TRUE(same_as_reference(s)) << "iteration " << iteration;
  }
}

TEST(JsonStringInline, WritesTypicalIdsInline) {
  std::string out(hd::max_json_string_size(16), '\0');
  for (std::string_view const s : {"u", "ab", "USD", "sku-7", "user-123", "Order completed", "0123456789abcdef"}) {
    char* const end = hd::write_json_string_inline(out.data(), s);
    std::string expected = "\"";
    expected.append(s).push_back('"');
    EXPECT_EQ(std::string_view(out.data(), static_cast<std::size_t>(end - out.data())), expected);
  }
}

}  // namespace
