#pragma once
// Independent references for the JSON string writer (src/message/json_primitives.hpp), shared by
// the unit tests and the fuzzers: Go's replacement of invalid UTF-8 and the exact escaped bytes
// we promise. Header-only (the fuzzers compile without the test support library). Allocate.

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

namespace htevents::testing {

/// Decodes code points arithmetically (not by range table); a byte that does not start a
/// well-formed sequence becomes U+FFFD and decoding resumes at the next byte, as Go does.
inline std::string reference_sanitize(std::string_view s) {
  std::string out;
  std::size_t i = 0;
  while (i < s.size()) {
    auto const c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      out += s[i++];
      continue;
    }
    std::size_t len = 0;
    std::uint32_t cp = 0;
    std::uint32_t min = 0;
    if ((c & 0xE0) == 0xC0) {
      len = 2, cp = c & 0x1Fu, min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3, cp = c & 0x0Fu, min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4, cp = c & 0x07u, min = 0x10000;
    }
    bool ok = len != 0 && i + len <= s.size();
    for (std::size_t k = 1; ok && k < len; ++k) {
      auto const cc = static_cast<unsigned char>(s[i + k]);
      ok = (cc & 0xC0) == 0x80;
      cp = (cp << 6) | (cc & 0x3Fu);
    }
    ok = ok && cp >= min && cp <= 0x10FFFF && !(cp >= 0xD800 && cp <= 0xDFFF);
    if (ok) {
      out.append(s.substr(i, len));
      i += len;
    } else {
      out += "\xEF\xBF\xBD";
      ++i;
    }
  }
  return out;
}

/// The quoted JSON string of reference_sanitize(s): '"' and '\\' escaped, \b \t \n \f \r by
/// name, other control characters as \u00XX, everything else (DEL, '/', UTF-8) as is.
inline std::string reference_json(std::string_view s) {
  std::string const clean = reference_sanitize(s);
  std::string out(1, '"');
  for (char ch : clean) {
    auto const c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\t': out += "\\t"; break;
      case '\n': out += "\\n"; break;
      case '\f': out += "\\f"; break;
      case '\r': out += "\\r"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += ch;
        }
    }
  }
  out += '"';
  return out;
}

}  // namespace htevents::testing
