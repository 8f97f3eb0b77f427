#include "collector/request_dump.hpp"

#include <simdjson.h>
#include <strings.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <stdexcept>

namespace htevents::collector {
namespace {

// A JSON string of `text` (valid UTF-8 is passed through; only quotes, backslashes and control
// bytes are escaped). The collector stays independent of the htevents library, so it has its own.
void append_json_string(std::string& out, std::string_view text) {
  out.push_back('"');
  for (char const c : text) {
    auto const byte = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (byte < 0x20) {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\u%04x", byte);
      out.append(escaped);
    } else {
      out.push_back(c);
    }
  }
  out.push_back('"');
}

// A header may hold any byte; one that is not UTF-8 is replaced by a note, so that the line
// stays valid JSON.
void append_header_value(std::string& out, std::string_view value) {
  if (simdjson::validate_utf8(value.data(), value.size())) {
    append_json_string(out, value);
  } else {
    append_json_string(out, "(not UTF-8)");
  }
}

std::string utc_now() {
  auto const now = std::chrono::system_clock::now();
  std::time_t const seconds = std::chrono::system_clock::to_time_t(now);
  auto const ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char text[96];  // room for any int GCC's format check can imagine
  std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
  return text;
}

// "body": the decoded body as JSON, or null with "body_error" (and "body_text" when it is text).
void append_body(std::string& out, DumpedRequest const& request, std::size_t max_body_bytes) {
  thread_local Decoder decoder;
  thread_local simdjson::dom::parser parser;
  char const* error = nullptr;
  if (request.overflow) {
    error = "over max_body_bytes (not kept)";
  } else if (!request.encoding) {
    error = "unknown Content-Encoding";
  } else {
    switch (decoder.decode(*request.encoding, request.wire_body, max_body_bytes)) {
      case DecodeStatus::ok: break;
      case DecodeStatus::corrupt: error = "corrupt Content-Encoding stream"; break;
      case DecodeStatus::too_large: error = "decodes to more than max_body_bytes"; break;
    }
  }
  if (error == nullptr) {
    std::string_view const decoded = decoder.output();
    simdjson::dom::element root;
    // The decoder keeps padding after its output, as simdjson needs (no copy).
    if (parser.parse(decoded.data(), decoded.size(), false).get(root) == simdjson::SUCCESS) {
      out += R"("body":)";
      out += simdjson::minify(root);  // one line whatever the client's formatting
      return;
    }
    out += R"("body":null,"body_error":"invalid JSON")";
    if (simdjson::validate_utf8(decoded.data(), decoded.size())) {
      out += R"(,"body_text":)";
      append_json_string(out, decoded);
    }
    return;
  }
  out += R"("body":null,"body_error":)";
  append_json_string(out, error);
}

}  // namespace

std::string dump_line(DumpedRequest const& request, std::size_t max_body_bytes) {
  std::string out;
  out.reserve(512 + request.wire_body.size() * 2);
  out += R"({"time":")" + utc_now() + R"(","method":)";
  append_json_string(out, request.method);
  out += R"(,"path":)";
  append_json_string(out, request.path);
  out += R"(,"status":)" + std::to_string(request.status) + R"(,"headers":{)";
  // Same-named headers joined, in first-seen order (HTTP names are case-insensitive).
  std::vector<std::pair<std::string, std::string>> merged;
  // Not a structured binding: clang before 16 cannot capture one in a lambda.
  for (auto const& header : request.headers) {
    auto same = [&header](auto const& entry) { return strcasecmp(entry.first.c_str(), header.first.c_str()) == 0; };
    auto const it = std::find_if(merged.begin(), merged.end(), same);
    if (it == merged.end()) {
      merged.emplace_back(header.first, header.second);
    } else {
      it->second += ", " + header.second;
    }
  }
  for (std::size_t i = 0; i < merged.size(); ++i) {
    if (i != 0) out.push_back(',');
    append_header_value(out, merged[i].first);
    out.push_back(':');
    append_header_value(out, merged[i].second);
  }
  out += R"(},"encoding":)";
  if (request.encoding) {
    append_json_string(out, to_string(*request.encoding));
  } else {
    out += "null";
  }
  out += R"(,"wire_bytes":)" + std::to_string(request.wire_body.size()) + ",";
  append_body(out, request, max_body_bytes);
  out.push_back('}');
  return out;
}

RequestDump::RequestDump(std::string const& path, std::size_t max_body_bytes) : max_body_bytes_(max_body_bytes) {
  file_ = std::fopen(path.c_str(), "ab");
  if (file_ == nullptr)
    throw std::runtime_error("collector: cannot open request dump '" + path + "': " + std::strerror(errno));
}

RequestDump::~RequestDump() { std::fclose(file_); }

void RequestDump::write(DumpedRequest const& request) {
  std::string line = dump_line(request, max_body_bytes_);  // built outside the lock
  line.push_back('\n');
  std::lock_guard lock(mutex_);
  std::fwrite(line.data(), 1, line.size(), file_);
  std::fflush(file_);
}

}  // namespace htevents::collector
