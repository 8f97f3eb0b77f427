// write_json_string_fixed (include/htevents/detail/json_write.hpp), the inline writer of the
// fast path's literal keys and values, pinned exhaustively against write_json_string: every
// size it handles inline (0..16) and a few it hands over (17 and up), every byte value at
// every position on backgrounds chosen next to its word-at-a-time tests' edges, every byte
// value filling the whole string, and every pair of byte values where a multi-byte sequence
// crosses its 8-byte word boundary or ends the string. Each output must equal
// write_json_string's byte for byte, and nothing past its returned end may be touched.

#include <gtest/gtest.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <utility>

#include "htevents/detail/json_write.hpp"

namespace {

namespace hd = htevents::detail;

constexpr char guard = '\x5a';
constexpr std::size_t guard_size = 32;

// Plain ASCII backgrounds beside the edges of the word-at-a-time check: 0x20 (the lowest byte
// that is not a control byte), the neighbours of '"' (0x22) and '\' (0x5c), the highest ASCII
// byte (0x7e) and DEL (0x7f, copied as is).
constexpr std::array<char, 8> backgrounds = {'a', ' ', '!', '#', '[', ']', '~', '\x7f'};

std::string reference(char const* s) {
  std::string_view const view(s);  // up to the first NUL, as the fixed writer promises
  std::string out(hd::max_json_string_size(view.size()), '\0');
  char* const end = hd::write_json_string(out.data(), view);
  out.resize(static_cast<std::size_t>(end - out.data()));
  return out;
}

// Writes `s` (a char[Size + 1]) with write_json_string_fixed<Size> into a guarded buffer and
// compares it with write_json_string's output; fails when they differ or a guard byte changed.
template <std::size_t Size>
::testing::AssertionResult same_as_reference(std::array<char, Size + 1> const& s) {
  std::string buffer(hd::max_json_string_size(Size) + guard_size, guard);
  char* const end = hd::write_json_string_fixed<Size>(buffer.data(), s.data());
  auto const written = static_cast<std::size_t>(end - buffer.data());
  std::string const expected = reference(s.data());
  auto hex = [&] {
    std::string text;
    for (std::size_t i = 0; i < Size; ++i) {
      char cell[4];
      std::snprintf(cell, sizeof cell, "%02x ", static_cast<unsigned char>(s[i]));
      text += cell;
    }
    return text;
  };
  if (written > hd::max_json_string_size(Size)) {
    return ::testing::AssertionFailure() << "size " << Size << ": wrote " << written << " bytes for " << hex();
  }
  if (buffer.compare(0, written, expected) != 0) {
    return ::testing::AssertionFailure() << "size " << Size << ": input " << hex() << "\n  fixed:     "
                                         << buffer.substr(0, written) << "\n  reference: " << expected;
  }
  for (std::size_t i = written; i < buffer.size(); ++i) {
    if (buffer[i] != guard) {
      return ::testing::AssertionFailure() << "size " << Size << ": byte " << i << " past the end touched for "
                                           << hex();
    }
  }
  return ::testing::AssertionSuccess();
}

template <std::size_t Size>
std::array<char, Size + 1> filled(char background) {
  std::array<char, Size + 1> s{};
  for (std::size_t i = 0; i < Size; ++i) s[i] = background;
  s[Size] = '\0';
  return s;
}

template <std::size_t Size>
void every_byte_at_every_position() {
  SCOPED_TRACE("size " + std::to_string(Size));
  ASSERT_TRUE(same_as_reference<Size>(filled<Size>('a')));
  for (char const background : backgrounds) {
    ASSERT_TRUE(same_as_reference<Size>(filled<Size>(background)));
    for (std::size_t pos = 0; pos < Size; ++pos) {
      for (int byte = 0; byte < 256; ++byte) {
        auto s = filled<Size>(background);
        s[pos] = static_cast<char>(byte);
        ASSERT_TRUE(same_as_reference<Size>(s));
      }
    }
  }
}

template <std::size_t Size>
void every_byte_filling_the_string() {
  for (int byte = 0; byte < 256; ++byte) {
    ASSERT_TRUE(same_as_reference<Size>(filled<Size>(static_cast<char>(byte))));
  }
}

template <std::size_t Size>
void every_pair_at(std::size_t pos) {
  for (int first = 0; first < 256; ++first) {
    for (int second = 0; second < 256; ++second) {
      auto s = filled<Size>('a');
      s[pos] = static_cast<char>(first);
      s[pos + 1] = static_cast<char>(second);
      ASSERT_TRUE(same_as_reference<Size>(s));
    }
  }
}

template <std::size_t Size>
void every_pair_at_the_edges() {
  if constexpr (Size >= 2) {
    SCOPED_TRACE("size " + std::to_string(Size));
    every_pair_at<Size>(Size - 2);  // a sequence cut by the end of the string
    if constexpr (Size >= 9 && Size - 2 != 7) every_pair_at<Size>(7);  // across the word boundary
  }
}

template <std::size_t... Sizes>
void for_sizes(std::index_sequence<Sizes...>, int which) {
  switch (which) {
    case 0: (every_byte_at_every_position<Sizes>(), ...); break;
    case 1: (every_byte_filling_the_string<Sizes>(), ...); break;
    default: (every_pair_at_the_edges<Sizes>(), ...); break;
  }
}

// 0..16: the inline path; 17..20, 31..33 and 64: handed to write_json_string.
using InlineSizes = std::make_index_sequence<17>;
using LongerSizes = std::index_sequence<17, 18, 19, 20, 31, 32, 33, 64>;

TEST(JsonStringFixed, EveryByteAtEveryPositionMatchesWriteJsonString) {
  for_sizes(InlineSizes{}, 0);
  for_sizes(LongerSizes{}, 0);
}

TEST(JsonStringFixed, EveryByteFillingTheStringMatchesWriteJsonString) {
  for_sizes(InlineSizes{}, 1);
  for_sizes(LongerSizes{}, 1);
}

TEST(JsonStringFixed, EveryPairAtTheWordAndStringEdgesMatchesWriteJsonString) {
  for_sizes(InlineSizes{}, 2);
  for_sizes(std::index_sequence<17, 18>{}, 2);
}

TEST(JsonStringFixed, ACharArrayLongerThanItsTextStopsAtTheFirstNul) {
  // A char[16] holding "k": the fixed writer sees 15 bytes, the NUL among them.
  std::array<char, 16> s{};
  s[0] = 'k';
  EXPECT_TRUE(same_as_reference<15>(s));
  std::string out(hd::max_json_string_size(15), '\0');
  char* const end = hd::write_json_string_fixed<15>(out.data(), s.data());
  EXPECT_EQ(std::string_view(out.data(), static_cast<std::size_t>(end - out.data())), R"("k")");
}

// String literals straight at the call, as the fast path's keys are: the compiler folds their
// bytes and the plain-ASCII test at compile time, so this is where a wrongly folded test would
// show. Plain, escaped, control, DEL, invalid and valid UTF-8, 8 and 16 bytes, empty.
template <std::size_t N>
std::string literal_out(char const (&s)[N]) {
  std::string out(hd::max_json_string_size(N - 1), '\0');
  char* const end = hd::write_json_string_fixed<N - 1>(out.data(), s);
  out.resize(static_cast<std::size_t>(end - out.data()));
  return out;
}

TEST(JsonStringFixed, LiteralsAtTheCallMatchWriteJsonString) {
  EXPECT_EQ(literal_out("total"), R"("total")");
  EXPECT_EQ(literal_out("total"), reference("total"));
  EXPECT_EQ(literal_out("a\"b"), reference("a\"b"));
  EXPECT_EQ(literal_out("a\"b"), R"("a\"b")");
  EXPECT_EQ(literal_out("back\\slash"), reference("back\\slash"));
  EXPECT_EQ(literal_out("tab\there"), R"("tab\there")");
  EXPECT_EQ(literal_out("\x01"), R"("\u0001")");
  EXPECT_EQ(literal_out("del\x7f"), reference("del\x7f"));
  EXPECT_EQ(literal_out("caf\xc3\xa9"), "\"caf\xc3\xa9\"");
  EXPECT_EQ(literal_out("bad\xff"), "\"bad\xef\xbf\xbd\"");
  EXPECT_EQ(literal_out("eight_b!"), R"("eight_b!")");
  EXPECT_EQ(literal_out("sixteen_bytes_16"), R"("sixteen_bytes_16")");
  EXPECT_EQ(literal_out("seventeen_bytes17"), R"("seventeen_bytes17")");
  EXPECT_EQ(literal_out("sixteen_bytes_1\""), reference("sixteen_bytes_1\""));
  EXPECT_EQ(literal_out(""), R"("")");
}

}  // namespace
