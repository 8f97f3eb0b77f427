// Raw JSON validation: simdjson, with a grammar-only fallback for numbers it cannot hold.
#include "message/json_validation.hpp"

#include <simdjson.h>

// simdjson's classes change layout with SIMDJSON_THREADS_ENABLED, and their inline members are
// merged across translation units at link time: every TU that includes <simdjson.h> must agree
// (we saw a crash in dom::parser when a test TU built with -pthread met one built without).
// The simdjson::simdjson CMake target defines it for all its users; insist on the same here.
#ifndef SIMDJSON_THREADS_ENABLED
#error "Build with simdjson::simdjson's usage requirements (SIMDJSON_THREADS_ENABLED=1, or -pthread)"
#endif

#include "message/utf8.hpp"

namespace htevents::inline v0::detail {
namespace {

// Grammar-only RFC 8259 check, used when simdjson rejects a number that is valid JSON but that
// it cannot represent (integers beyond 64 bits, 1e400). Strings must be valid UTF-8; \u
// escapes are checked for form only (lone surrogate escapes pass, as with Go's json.Valid).
// Nesting is limited to max_depth, like simdjson's default.
class GrammarCheck {
 public:
  explicit GrammarCheck(std::string_view text) noexcept
      : p_(reinterpret_cast<const uchar*>(text.data())), end_(p_ + text.size()) {}

  bool run() noexcept {
    std::size_t depth = 0;
  value:
    skip_whitespace();
    if (p_ == end_) return false;
    switch (*p_) {
      case '{':
        ++p_;
        skip_whitespace();
        if (p_ != end_ && *p_ == '}') {
          ++p_;
          goto after_value;
        }
        if (depth == max_depth) return false;
        stack_[depth++] = '{';
        goto key;
      case '[':
        ++p_;
        skip_whitespace();
        if (p_ != end_ && *p_ == ']') {
          ++p_;
          goto after_value;
        }
        if (depth == max_depth) return false;
        stack_[depth++] = '[';
        goto value;
      case '"':
        if (!string()) return false;
        goto after_value;
      case 't':
        if (!literal("true")) return false;
        goto after_value;
      case 'f':
        if (!literal("false")) return false;
        goto after_value;
      case 'n':
        if (!literal("null")) return false;
        goto after_value;
      default:
        if (!number()) return false;
        goto after_value;
    }
  key:
    skip_whitespace();
    if (p_ == end_ || *p_ != '"' || !string()) return false;
    skip_whitespace();
    if (p_ == end_ || *p_ != ':') return false;
    ++p_;
    goto value;
  after_value:
    skip_whitespace();
    if (depth == 0) return p_ == end_;
    if (p_ == end_) return false;
    if (*p_ == ',') {
      ++p_;
      if (stack_[depth - 1] == '{') goto key;
      goto value;
    }
    if (*p_ != (stack_[depth - 1] == '{' ? '}' : ']')) return false;
    ++p_;
    --depth;
    goto after_value;
  }

 private:
  static constexpr std::size_t max_depth = 1024;

  void skip_whitespace() noexcept {
    while (p_ != end_ && (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t')) ++p_;
  }
  bool literal(std::string_view word) noexcept {
    if (static_cast<std::size_t>(end_ - p_) < word.size() || std::memcmp(p_, word.data(), word.size()) != 0)
      return false;
    p_ += word.size();
    return true;
  }
  static bool is_digit(uchar c) noexcept { return c >= '0' && c <= '9'; }
  static bool is_hex(uchar c) noexcept { return is_digit(c) || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f'); }
  bool digits() noexcept {  // one or more
    if (p_ == end_ || !is_digit(*p_)) return false;
    while (p_ != end_ && is_digit(*p_)) ++p_;
    return true;
  }
  bool number() noexcept {
    if (*p_ == '-') ++p_;
    if (p_ == end_) return false;
    if (*p_ == '0') {
      ++p_;
    } else if (!digits()) {
      return false;
    }
    if (p_ != end_ && *p_ == '.') {
      ++p_;
      if (!digits()) return false;
    }
    if (p_ != end_ && (*p_ == 'e' || *p_ == 'E')) {
      ++p_;
      if (p_ != end_ && (*p_ == '+' || *p_ == '-')) ++p_;
      if (!digits()) return false;
    }
    return true;
  }
  bool string() noexcept {
    ++p_;  // opening quote
    while (p_ != end_) {
      uchar const c = *p_;
      if (c == '"') {
        ++p_;
        return true;
      }
      if (c < 0x20) return false;
      if (c == '\\') {
        if (++p_ == end_) return false;
        uchar const e = *p_++;
        if (e == 'u') {
          if (end_ - p_ < 4 || !is_hex(p_[0]) || !is_hex(p_[1]) || !is_hex(p_[2]) || !is_hex(p_[3])) return false;
          p_ += 4;
        } else if (std::memchr("\"\\/bfnrt", e, 8) == nullptr) {
          return false;
        }
      } else if (c < 0x80) {
        ++p_;
      } else if (std::size_t const n = utf8_sequence_size(p_, static_cast<std::size_t>(end_ - p_)); n != 0) {
        p_ += n;
      } else {
        return false;
      }
    }
    return false;
  }

  const uchar* p_;
  const uchar* const end_;
  char stack_[max_depth];
};

}  // namespace

bool is_valid_json(std::string_view text) noexcept {
  if (text.empty()) return false;
  simdjson::error_code error = simdjson::SUCCESS;
  try {
    // Reused across calls: keeps its tape and padded input copy (grows only for larger inputs).
    thread_local simdjson::dom::parser parser;
    simdjson::dom::element root;
    error = parser.parse(text.data(), text.size(), /*realloc_if_needed=*/true).get(root);
  } catch (...) {
    return false;  // allocation failure building the thread's parser
  }
  if (error == simdjson::SUCCESS) return true;
  // Valid JSON that simdjson cannot represent: decide on the grammar alone.
  return error == simdjson::NUMBER_ERROR && GrammarCheck(text).run();
}

}  // namespace htevents::inline v0::detail
