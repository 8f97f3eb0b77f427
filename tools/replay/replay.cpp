#include "replay/replay.hpp"

#include <simdjson.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <optional>
#include <string_view>
#include <utility>

#include "replay/json_input.hpp"

namespace htevents::replay {

namespace od = simdjson::ondemand;

namespace {

bool is_space(char c) noexcept { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

// What became of one document.
enum class Outcome : std::uint8_t {
  sent,     // accepted by the client
  bad,      // a bad line, reason_ says why; the stream around it is sound
  recheck,  // the stream cannot vouch for this document: parse its line again on its own
            // (recheck_contained_ says whether the document ended on its line)
};

// The top-level fields of one message. The views point into the parser's string buffer or the
// input, valid while the document is.
struct Fields {
  std::string_view type, user_id, anonymous_id, event, name, group_id, previous_id, message_id, timestamp;
  bool has_properties = false, has_traits = false, has_context = false, has_integrations = false;
};

template <class Writer, class T>
void put(Writer& writer, std::string_view key, T const& value) noexcept {
  if constexpr (requires { writer.property(key, value); }) {
    writer.property(key, value);
  } else {
    writer.trait(key, value);
  }
}

// One property/trait member into the writer. Scalars go through the typed overloads (no
// allocation); objects and arrays as RawJson of their source text.
template <class Writer>
simdjson::error_code add_member(Writer& writer, std::string_view key, od::value value) noexcept {
  od::json_type type;
  if (auto error = value.type().get(type)) return error;
  switch (type) {
    case od::json_type::string: {
      std::string_view text;
      if (auto error = value.get_string().get(text)) return error;
      put(writer, key, text);
      return simdjson::SUCCESS;
    }
    case od::json_type::number: {
      std::string_view const token = value.raw_json_token();
      od::number number;
      if (value.get_number().get(number) != simdjson::SUCCESS) {
        // Beyond 64 bits: passed through as text (the client checks it is valid JSON).
        put(writer, key, Value(RawJson{std::string(trim(token))}));
        return simdjson::SUCCESS;
      }
      switch (number.get_number_type()) {
        case od::number_type::signed_integer: put(writer, key, number.get_int64()); break;
        case od::number_type::unsigned_integer: put(writer, key, number.get_uint64()); break;
        default: put(writer, key, number.get_double()); break;
      }
      return simdjson::SUCCESS;
    }
    case od::json_type::boolean: {
      bool b = false;
      if (auto error = value.get_bool().get(b)) return error;
      put(writer, key, b);
      return simdjson::SUCCESS;
    }
    case od::json_type::null: {
      bool is_null = false;
      if (auto error = value.is_null().get(is_null)) return error;
      if (!is_null) return simdjson::N_ATOM_ERROR;
      put(writer, key, nullptr);
      return simdjson::SUCCESS;
    }
    case od::json_type::object: {
      od::object object;
      std::string_view text;
      if (auto error = value.get_object().get(object)) return error;
      if (auto error = object.raw_json().get(text)) return error;
      put(writer, key, Value(RawJson{std::string(text)}));
      return simdjson::SUCCESS;
    }
    case od::json_type::array: {
      od::array array;
      std::string_view text;
      if (auto error = value.get_array().get(array)) return error;
      if (auto error = array.raw_json().get(text)) return error;
      put(writer, key, Value(RawJson{std::string(text)}));
      return simdjson::SUCCESS;
    }
  }
  return simdjson::INCORRECT_TYPE;
}

class Replayer {
 public:
  Replayer(Client& client, Options const& options) : client_(client), options_(options) {
    stream_parser_.threaded = false;  // the client's threads use the other cores
    if (options_.progress_interval.count() > 0 && options_.on_progress)
      next_progress_ = std::chrono::steady_clock::now() + options_.progress_interval;
  }

  Result run(Reader const& read);

 private:
  void process_region(char const* begin, char const* end);
  char const* run_stream(char const* begin, char const* end, char const*& fallback_end);
  void run_lines(char const* begin, char const* end);
  Outcome handle(od::document_reference doc, char const* start, char const* line_end,
                 od::document_stream::iterator* stream);
  template <class Writer>
  Outcome send(Writer writer, od::object& object, Fields const& fields, std::string_view fields_key,
               bool has_fields, std::optional<Timestamp> timestamp, bool stream_mode);
  Outcome json_error(simdjson::error_code error, bool stream_mode);
  Outcome bad(std::string_view reason) {
    reason_.assign(reason);
    return Outcome::bad;
  }
  void count(Outcome outcome);
  void progress(bool force);

  Client& client_;
  Options const& options_;
  od::parser stream_parser_;
  od::parser line_parser_;
  char const* buffer_end_ = nullptr;  // end of the current buffer's bytes and padding
  std::uint64_t consumed_ = 0;      // input bytes before buffer_
  std::uint64_t line_ = 1;          // number of the line being handled
  Result result_;
  std::string reason_;
  bool recheck_contained_ = false;  // see Outcome::recheck
  Object context_, integrations_;
  std::chrono::steady_clock::time_point next_progress_{};
  unsigned progress_countdown_ = 0;
};

Outcome Replayer::json_error(simdjson::error_code error, bool stream_mode) {
  if (stream_mode) return Outcome::recheck;
  reason_.assign("invalid JSON: ");
  reason_.append(simdjson::error_message(error));
  return Outcome::bad;
}

void Replayer::count(Outcome outcome) {
  ++result_.totals.lines;
  if (outcome == Outcome::sent) {
    ++result_.totals.sent;
  } else {
    ++result_.totals.rejected;
    if (options_.on_line_error) options_.on_line_error(LineError{line_, reason_});
    if (options_.on_error == OnError::stop) result_.stopped = true;
  }
  if (++progress_countdown_ >= 1024) {
    progress_countdown_ = 0;
    progress(false);
  }
}

void Replayer::progress(bool force) {
  if (next_progress_ == std::chrono::steady_clock::time_point{}) return;
  auto const now = std::chrono::steady_clock::now();
  if (!force && now < next_progress_) return;
  next_progress_ = now + options_.progress_interval;
  options_.on_progress(result_.totals);
}

template <class Writer>
Outcome Replayer::send(Writer writer, od::object& object, Fields const& fields, std::string_view fields_key,
                       bool has_fields, std::optional<Timestamp> timestamp, bool stream_mode) {
  writer.user_id(fields.user_id).anonymous_id(fields.anonymous_id).message_id(fields.message_id);
  if (timestamp) writer.timestamp(*timestamp);
  if (fields.has_context) writer.context(context_);
  if (fields.has_integrations) writer.integrations(integrations_);
  if constexpr (!std::is_same_v<Writer, AliasWriter>) {
    if (has_fields) {
      // Second pass over the top level: the writer wants its top-level fields before the first
      // property, whatever the order in the line.
      if (auto error = object.reset().error()) return json_error(error, stream_mode);
      for (auto member : object) {
        od::field field;
        std::string_view key;
        if (auto error = std::move(member).get(field)) return json_error(error, stream_mode);
        if (auto error = field.unescaped_key().get(key)) return json_error(error, stream_mode);
        if (key != fields_key) continue;
        od::object members;
        if (auto error = field.value().get_object().get(members)) return json_error(error, stream_mode);
        for (auto inner : members) {
          od::field item;
          std::string_view item_key;
          if (auto error = std::move(inner).get(item)) return json_error(error, stream_mode);
          if (auto error = item.unescaped_key().get(item_key)) return json_error(error, stream_mode);
          if (auto error = add_member(writer, item_key, item.value())) return json_error(error, stream_mode);
        }
        break;
      }
    }
  } else {
    (void)object;
    (void)fields_key;
    (void)has_fields;
    (void)stream_mode;
  }
  Status const status = writer.send();
  if (status == Status::ok) return Outcome::sent;
  return bad(to_string(status));
}

Outcome Replayer::handle(od::document_reference doc, char const* start, char const* line_end,
                         od::document_stream::iterator* stream) {
  bool const stream_mode = stream != nullptr;
  recheck_contained_ = false;
  od::object object;
  if (auto error = doc.get_object().get(object)) {
    if (stream_mode) {
      // Not an object, still unconsumed at the root: its extent is known for atoms (they end at
      // whitespace) and arrays (by depth); a string may run across lines.
      if (error == simdjson::INCORRECT_TYPE && *start != '"') {
        if (*start == '[') {
          std::string_view const source = stream->source();
          recheck_contained_ = source.data() + source.size() <= line_end;
        } else {
          recheck_contained_ = *start != '{';
        }
      }
      return Outcome::recheck;
    }
    if (error == simdjson::INCORRECT_TYPE) {
      od::json_type type;
      if (doc.type().get(type) == simdjson::SUCCESS && type != od::json_type::object) {
        // A scalar or an array: say "not an object" only if it is valid JSON at all.
        std::string_view raw;
        bool valid = false;
        if (type == od::json_type::array) {
          valid = doc.raw_json().get(raw) == simdjson::SUCCESS;
        } else {
          od::value scalar;
          Value ignored;
          valid = doc.get_value().get(scalar) == simdjson::SUCCESS && to_value(scalar, ignored) == simdjson::SUCCESS;
        }
        if (valid) return bad("not a JSON object");
      }
    }
    return json_error(error == simdjson::INCORRECT_TYPE ? simdjson::TAPE_ERROR : error, false);
  }

  // First pass: the top-level fields. Semantic problems are noted and the pass goes on, so that
  // the document's extent is known before the line is reported.
  Fields f;
  std::string_view problem;
  context_ = Object{};
  integrations_ = Object{};
  auto string_field = [&](od::field& field, std::string_view& out, std::string_view not_string) {
    auto const error = field.value().get_string().get(out);
    if (error == simdjson::INCORRECT_TYPE) {
      if (problem.empty()) problem = not_string;
      return simdjson::SUCCESS;
    }
    return error;
  };
  for (auto member : object) {
    od::field field;
    std::string_view key;
    if (auto error = std::move(member).get(field)) return json_error(error, stream_mode);
    if (auto error = field.unescaped_key().get(key)) return json_error(error, stream_mode);
    simdjson::error_code error = simdjson::SUCCESS;
    if (key == "type") error = string_field(field, f.type, "\"type\" is not a string");
    else if (key == "userId") error = string_field(field, f.user_id, "\"userId\" is not a string");
    else if (key == "anonymousId") error = string_field(field, f.anonymous_id, "\"anonymousId\" is not a string");
    else if (key == "event") error = string_field(field, f.event, "\"event\" is not a string");
    else if (key == "name") error = string_field(field, f.name, "\"name\" is not a string");
    else if (key == "groupId") error = string_field(field, f.group_id, "\"groupId\" is not a string");
    else if (key == "previousId") error = string_field(field, f.previous_id, "\"previousId\" is not a string");
    else if (key == "messageId") error = string_field(field, f.message_id, "\"messageId\" is not a string");
    else if (key == "timestamp") error = string_field(field, f.timestamp, "\"timestamp\" is not a string");
    else if (key == "properties" || key == "traits") {
      od::json_type type;
      error = field.value().type().get(type);
      if (!error && type == od::json_type::object) {
        (key == "properties" ? f.has_properties : f.has_traits) = true;
      } else if (!error && type != od::json_type::null && problem.empty()) {
        problem = key == "properties" ? "\"properties\" is not an object" : "\"traits\" is not an object";
      }
    } else if (key == "context" || key == "integrations") {
      bool const is_context = key == "context";
      od::json_type type;
      error = field.value().type().get(type);
      if (!error && type == od::json_type::object) {
        od::object nested;
        error = field.value().get_object().get(nested);
        if (!error) error = to_object(nested, is_context ? context_ : integrations_);
        if (!error) (is_context ? f.has_context : f.has_integrations) = true;
      } else if (!error && type != od::json_type::null && problem.empty()) {
        problem = is_context ? "\"context\" is not an object" : "\"integrations\" is not an object";
      }
    }
    if (error) return json_error(error, stream_mode);
  }

  // The extent check: exactly one document on this line.
  char const* next = nullptr;
  auto const location = doc.current_location().get(next);
  if (stream_mode) {
    // `next` is the next document's first byte. Unknown at the end of a batch: recheck (cheap,
    // once per batch).
    if (location != simdjson::SUCCESS) return Outcome::recheck;
    char const* last = next - 1;
    while (is_space(*last)) --last;
    if (last >= line_end) return Outcome::recheck;  // the object closes on a later line
    if (next <= line_end) {  // more on this line after the object
      recheck_contained_ = true;
      return Outcome::recheck;
    }
  } else if (location == simdjson::SUCCESS) {
    return bad("extra text after the JSON object");
  } else if (location != simdjson::OUT_OF_BOUNDS) {
    return json_error(location, false);
  }

  if (!problem.empty()) return bad(problem);
  std::optional<Timestamp> timestamp;
  if (!f.timestamp.empty()) {
    timestamp = parse_rfc3339(f.timestamp);
    if (!timestamp) return bad("\"timestamp\" is not an RFC 3339 date-time");
  }
  std::string_view const type = f.type;
  if (type == "track") return send(client_.track(f.event), object, f, "properties", f.has_properties, timestamp, stream_mode);
  if (type == "identify") return send(client_.identify(), object, f, "traits", f.has_traits, timestamp, stream_mode);
  if (type == "page") return send(client_.page(f.name), object, f, "properties", f.has_properties, timestamp, stream_mode);
  if (type == "screen") return send(client_.screen(f.name), object, f, "properties", f.has_properties, timestamp, stream_mode);
  if (type == "group") return send(client_.group(f.group_id), object, f, "traits", f.has_traits, timestamp, stream_mode);
  if (type == "alias") return send(client_.alias(f.previous_id), object, f, {}, false, timestamp, stream_mode);
  if (type.empty()) return bad("no \"type\"");
  reason_.assign("unknown type \"");
  reason_.append(type.substr(0, 64));
  reason_.append("\"");
  return Outcome::bad;
}

// Lines one by one, each parsed on its own: exact, slower. [begin, end) holds whole lines.
void Replayer::run_lines(char const* begin, char const* end) {
  char const* p = begin;
  while (p < end && !result_.stopped) {
    char const* nl = static_cast<char const*>(std::memchr(p, '\n', static_cast<std::size_t>(end - p)));
    char const* line_end = nl != nullptr ? nl : end;
    std::string_view const line = trim(std::string_view(p, static_cast<std::size_t>(line_end - p)));
    if (!line.empty()) {
      // The buffer goes on past the line (the next lines, then SIMDJSON_PADDING): enough padding.
      std::size_t const capacity = static_cast<std::size_t>(buffer_end_ - line.data());
      od::document doc;
      Outcome outcome;
      if (auto error = line_parser_.iterate(line.data(), line.size(), capacity).get(doc)) {
        outcome = json_error(error, false);
      } else {
        outcome = handle(od::document_reference(doc), line.data(), line.data() + line.size(), nullptr);
      }
      count(outcome);
    }
    ++line_;
    p = line_end + 1;
  }
}

// iterate_many over [begin, end). Returns where it stopped trusting the stream (end when it got
// through); fallback_end is how far the caller should then go line by line.
char const* Replayer::run_stream(char const* begin, char const* end, char const*& fallback_end) {
  std::size_t const batch = options_.stream_batch_bytes;
  fallback_end = begin + std::min<std::size_t>(batch, static_cast<std::size_t>(end - begin));
  od::document_stream stream;
  if (stream_parser_.iterate_many(begin, static_cast<std::size_t>(end - begin), batch).get(stream)) return begin;
  char const* cursor = begin;  // start of the next line not handled yet (line_ is its number)
  for (auto it = stream.begin(); it != stream.end(); ++it) {
    od::document_reference doc;
    // A stage-1 error covers a whole batch, which starts at `cursor`.
    if ((*it).get(doc)) {
      fallback_end = cursor + std::min(batch, static_cast<std::size_t>(end - cursor));
      return cursor;
    }
    char const* const start = begin + it.current_index();
    if (start < cursor) {
      // More documents on a line already handled line-by-line: skip those that end there.
      if (*start == '{' || *start == '[') {
        std::string_view const source = it.source();
        if (source.data() + source.size() <= cursor) continue;
      } else if (*start != '"') {
        continue;  // an atom ends at whitespace
      }
      fallback_end = cursor;  // it runs into lines not handled yet: restart the stream there
      return cursor;
    }
    // Blank lines before the document.
    while (char const* nl = static_cast<char const*>(std::memchr(cursor, '\n', static_cast<std::size_t>(start - cursor)))) {
      ++line_;
      cursor = nl + 1;
    }
    char const* nl = static_cast<char const*>(std::memchr(start, '\n', static_cast<std::size_t>(end - start)));
    char const* const line_end = nl != nullptr ? nl : end;
    Outcome const outcome = handle(doc, start, line_end, &it);
    char const* const next_line = std::min(end, line_end + 1);
    if (outcome == Outcome::recheck) {
      if (!recheck_contained_) {
        fallback_end = next_line;
        return cursor;
      }
      // The document ended on its line and the stream is sound: only this line, on its own.
      run_lines(cursor, next_line);
    } else {
      count(outcome);
      ++line_;
    }
    cursor = next_line;
    if (result_.stopped) return end;
  }
  fallback_end = end;  // a trailing incomplete document: the rest line by line
  return cursor;
}

void Replayer::process_region(char const* begin, char const* end) {
  bool const use_stream = options_.stream_batch_bytes > 0;
  char const* p = begin;
  while (p < end && !result_.stopped) {
    char const* fallback_end = end;
    p = use_stream ? run_stream(p, end, fallback_end) : p;
    if (p < end && !result_.stopped && fallback_end > p) {
      // Round up to a whole line, and always make progress.
      char const* stop = std::max(fallback_end, p + 1);
      if (stop < end && stop[-1] != '\n') {
        auto const* nl = static_cast<char const*>(std::memchr(stop, '\n', static_cast<std::size_t>(end - stop)));
        stop = nl != nullptr ? nl + 1 : end;
      }
      run_lines(p, std::min(stop, end));
      p = std::min(stop, end);
    }
  }
}

Result Replayer::run(Reader const& read) {
  std::size_t const chunk = std::max<std::size_t>(options_.read_bytes, 4096);
  std::size_t capacity = chunk * 2;
  std::unique_ptr<char[]> storage(new char[capacity + simdjson::SIMDJSON_PADDING]);
  std::size_t filled = 0;
  bool eof = false;
  while (!result_.stopped) {
    // Fill up to `chunk` new bytes (pipes return less per read).
    std::size_t const target = std::min(capacity, filled + chunk);
    while (!eof && filled < target) {
      std::ptrdiff_t const n = read(storage.get() + filled, target - filled, result_.io_error);
      if (n < 0) return std::move(result_);
      if (n == 0) eof = true;
      filled += static_cast<std::size_t>(n);
    }
    char* const data = storage.get();
    std::memset(data + filled, ' ', simdjson::SIMDJSON_PADDING);
    buffer_end_ = data + filled + simdjson::SIMDJSON_PADDING;
    std::size_t region = filled;
    if (!eof) {
      std::size_t const newline = std::string_view(data, filled).rfind('\n');  // memrchr is GNU's
      char const* last = newline == std::string_view::npos ? nullptr : data + newline;
      if (last == nullptr) {
        // One line longer than the buffer: grow and read on.
        if (filled == capacity) {
          std::unique_ptr<char[]> bigger(new char[capacity * 2 + simdjson::SIMDJSON_PADDING]);
          std::memcpy(bigger.get(), data, filled);
          storage = std::move(bigger);
          capacity *= 2;
        }
        continue;
      }
      region = static_cast<std::size_t>(last - data) + 1;
    }
    process_region(data, data + region);
    consumed_ += region;
    result_.totals.bytes = consumed_;
    std::memmove(data, data + region, filled - region);
    filled -= region;
    if (eof && filled == 0) break;
  }
  return std::move(result_);
}

}  // namespace

Result replay(Reader const& read, Client& client, Options const& options) {
  return Replayer(client, options).run(read);
}

Result replay_fd(int fd, Client& client, Options const& options) {
  return replay(
      [fd](char* data, std::size_t size, std::string& error) -> std::ptrdiff_t {
        for (;;) {
          ssize_t const n = ::read(fd, data, size);
          if (n >= 0) return n;
          if (errno == EINTR) continue;
          error = std::string("read failed: ") + std::strerror(errno);
          return -1;
        }
      },
      client, options);
}

Result replay(std::istream& in, Client& client, Options const& options) {
  return replay(
      [&in](char* data, std::size_t size, std::string& error) -> std::ptrdiff_t {
        in.read(data, static_cast<std::streamsize>(size));
        std::streamsize const n = in.gcount();
        if (n == 0 && in.bad()) {
          error = "read failed";
          return -1;
        }
        return n;
      },
      client, options);
}

Result replay(std::string_view text, Client& client, Options const& options) {
  return replay(
      [&text](char* data, std::size_t size, std::string&) -> std::ptrdiff_t {
        std::size_t const n = std::min(size, text.size());
        std::memcpy(data, text.data(), n);
        text.remove_prefix(n);
        return static_cast<std::ptrdiff_t>(n);
      },
      client, options);
}

}  // namespace htevents::replay
