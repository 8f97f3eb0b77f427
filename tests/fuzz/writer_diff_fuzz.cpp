// Differential libFuzzer target: the fast path (htevents/writer.hpp) and the struct API
// (Client::enqueue) must give the same JSON for the same message.
//
// Build: tests/fuzz/CMakeLists.txt (cmake --preset fuzz && cmake --build --preset fuzz), then
//   mkdir -p /tmp/writer_diff_corpus && ./build-fuzz/tests/fuzz/writer_diff_fuzz -max_total_time=60 /tmp/writer_diff_corpus
//
// The input bytes pick a message type and drive a generator: user_id, anonymous_id, the head
// argument (event, name, group_id, previous_id), context, integrations, and properties or
// traits whose values are every kind the writers take: std::string_view, std::string, char
// arrays of several sizes (the inline write_json_string_fixed path, NULs and escapes
// included), bool, int, int64, uint64, doubles of any bit pattern, nullptr, Timestamp, and
// nested Values. Keys are string_views or char arrays too; strings may be invalid UTF-8.
// messageId and timestamp are set explicitly on both sides (nothing is generated): the
// struct message gets "s" + id, the writer "f" + id, so that the two can be told apart.
//
// One Client for the whole run, pointed at a local port that refuses connections and allowed
// one attempt: every accepted message comes back through on_failure with its message_json
// within a flush. Checks, per input:
//   - both sides accept, or both refuse (invalid_number, invalid_message_id, missing_*...;
//     with several problems in one message each side may name a different one);
//   - when accepted, both message_json parse and are equal as parsed JSON, key order ignored,
//     messageId aside (it must be the given id, sanitized, behind its prefix).

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <simdjson.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "htevents/client.hpp"
#include "support/reference_json.hpp"
#include "support/wire_json.hpp"

namespace {

using namespace std::chrono_literals;
using htevents::Array;
using htevents::Client;
using htevents::Object;
using htevents::Status;
using htevents::Timestamp;
using htevents::Value;
using htevents::testing::reference_sanitize;

[[noreturn]] void fail(std::string const& what) {
  std::fprintf(stderr, "writer_diff_fuzz: %s\n", what.c_str());
  std::abort();
}

// A char array that the writer receives as `char const (&)[N]`, the type of a literal.
template <std::size_t N>
struct Chars {
  char a[N];
};

// The std::string alternative of a field's value (held in Field::owned).
struct OwnedString {};

// Reads the fuzz input front to back; yields zeros once it runs out.
class Bytes {
 public:
  Bytes(std::uint8_t const* data, std::size_t size) : p_(data), end_(data + size) {}
  bool empty() const { return p_ == end_; }
  std::uint8_t byte() { return p_ < end_ ? *p_++ : 0; }
  template <class T>
  T pod() {
    T value{};
    std::size_t const n = std::min(sizeof(T), static_cast<std::size_t>(end_ - p_));
    std::memcpy(&value, p_, n);
    p_ += n;
    return value;
  }
  std::string string(std::size_t max = 40) {
    std::size_t const n = std::min<std::size_t>(byte() % (max + 1), static_cast<std::size_t>(end_ - p_));
    std::string s(reinterpret_cast<char const*>(p_), n);
    p_ += n;
    return s;
  }
  // A char[N] as a literal would be: N - 1 bytes of input (NULs possible), then a NUL.
  template <std::size_t N>
  Chars<N> chars() {
    Chars<N> c{};
    for (std::size_t i = 0; i + 1 < N; ++i) c.a[i] = static_cast<char>(byte());
    c.a[N - 1] = '\0';
    return c;
  }

 private:
  std::uint8_t const* p_;
  std::uint8_t const* end_;
};

// Nested Values, with keys unique after sanitizing (the JSON comparison rejects duplicates,
// and "\xff" and "\xfe" both become U+FFFD).
struct ValueGenerator {
  Bytes& in;
  int nodes = 0;

  Value value(int depth) {
    ++nodes;
    std::uint8_t const kind = in.byte();
    bool const may_nest = depth < 6 && nodes < 200;
    switch (kind % (may_nest ? 10 : 8)) {
      case 0: return nullptr;
      case 1: return (kind & 0x80) != 0;
      case 2: return in.pod<std::int64_t>();
      case 3: return in.pod<std::uint64_t>();
      case 4: return in.pod<double>();
      case 5:
      case 6: return in.string();
      case 7: return Timestamp(Timestamp::duration(in.pod<std::int64_t>()));
      case 8: {
        Array a;
        for (int n = in.byte() % 6; n > 0 && !in.empty(); --n) a.push_back(value(depth + 1));
        return a;
      }
      default: return object(depth + 1);
    }
  }

  Object object(int depth) {
    Object o;
    std::set<std::string> seen;
    for (int n = in.byte() % 6; n > 0 && !in.empty(); --n) {
      std::string key = in.string(24);
      Value v = value(depth);
      if (seen.insert(reference_sanitize(key)).second) o.set(std::move(key), std::move(v));
    }
    return o;
  }
};

// One property or trait: the key and value as the writer gets them.
using Key = std::variant<std::string, Chars<1>, Chars<5>, Chars<9>,
                         Chars<17>, Chars<20>>;
using FieldValue = std::variant<std::string,                          // as std::string_view
                                Chars<1>, Chars<4>, Chars<8>,
                                Chars<9>, Chars<16>, Chars<17>,
                                Chars<30>,  // as char arrays
                                bool, int, std::int64_t, std::uint64_t, double, std::nullptr_t, Timestamp,
                                Value, OwnedString>;

struct Field {
  Key key;
  FieldValue value;
  std::string owned{};  // the std::string argument, for the OwnedString alternative
};

template <std::size_t N>
std::string_view text(Chars<N> const& c) {
  return std::string_view(c.a);  // up to the first NUL, as for a literal
}

std::string key_text(Key const& key) {
  return std::visit(
      [](auto const& k) -> std::string {
        if constexpr (std::is_same_v<std::decay_t<decltype(k)>, std::string>) {
          return k;
        } else {
          return std::string(text(k));
        }
      },
      key);
}

Key make_key(Bytes& in) {
  switch (in.byte() % 6) {
    case 0: return in.chars<1>();
    case 1: return in.chars<5>();
    case 2: return in.chars<9>();
    case 3: return in.chars<17>();
    case 4: return in.chars<20>();
    default: return in.string(24);
  }
}

Field make_field(Bytes& in, ValueGenerator& values) {
  Key key = make_key(in);
  std::uint8_t const kind = in.byte();
  switch (kind % 17) {
    case 0: return {key, in.string()};
    case 1: return {key, in.chars<1>()};
    case 2: return {key, in.chars<4>()};
    case 3: return {key, in.chars<8>()};
    case 4: return {key, in.chars<9>()};
    case 5: return {key, in.chars<16>()};
    case 6: return {key, in.chars<17>()};
    case 7: return {key, in.chars<30>()};
    case 8: return {key, (kind & 0x80) != 0};
    case 9: return {key, in.pod<int>()};
    case 10: return {key, in.pod<std::int64_t>()};
    case 11: return {key, in.pod<std::uint64_t>()};
    case 12: return {key, in.pod<double>()};
    case 13: return {key, nullptr};
    case 14: return {key, Timestamp(Timestamp::duration(in.pod<std::int64_t>()))};
    case 15: return {key, values.value(1)};
    default: {
      Field f{key, OwnedString{}};
      f.owned = in.string();
      return f;
    }
  }
}

// The struct API's Value for a field.
Value struct_value(Field const& f) {
  return std::visit(
      [&](auto const& v) -> Value {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, OwnedString>) {
          return f.owned;
        } else if constexpr (std::is_same_v<T, std::string>) {
          return v;
        } else if constexpr (std::is_same_v<T, Value>) {
          return v;
        } else if constexpr (requires { v.a; }) {
          return std::string(text(v));
        } else {
          return v;
        }
      },
      f.value);
}

// Hands the field to the writer's property() or trait() exactly as a caller would: a literal
// key as a char array reference, a string key as std::string_view, a value by its own type.
template <class Add>
void write_field(Field const& f, Add&& add) {
  std::visit(
      [&](auto const& k) {
        auto with_key = [&](auto const& key) {
          std::visit(
              [&](auto const& v) {
                using T = std::decay_t<decltype(v)>;
                if constexpr (std::is_same_v<T, OwnedString>) {
                  add(key, f.owned);  // std::string const&
                } else if constexpr (std::is_same_v<T, std::string>) {
                  add(key, std::string_view(v));
                } else if constexpr (requires { v.a; }) {
                  add(key, v.a);  // char const (&)[N]
                } else {
                  add(key, v);
                }
              },
              f.value);
        };
        using K = std::decay_t<decltype(k)>;
        if constexpr (std::is_same_v<K, std::string>) {
          with_key(std::string_view(k));
        } else {
          with_key(k.a);
        }
      },
      f.key);
}

// The client every input goes through, and what on_failure hands back.
struct Harness {
  int socket_fd = -1;
  std::mutex mutex;
  std::vector<std::string> failed;  // message_json of every failed message, in arrival order
  Client* client = nullptr;

  Harness() {
    // A bound, never listening socket: connections to its port are refused at once, and the
    // port stays ours for the whole run.
    socket_fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (socket_fd < 0 || ::bind(socket_fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::getsockname(socket_fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      fail("cannot bind a local port");
    }
    htevents::Config config;
    config.endpoint = "http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
    config.max_attempts = 1;
    config.interval = 10ms;
    config.compression = htevents::Compression::none;
    config.request_timeout = 2000ms;
    if (std::getenv("WRITER_DIFF_FUZZ_LOG") != nullptr) {  // the client's log lines on stderr
      config.log_level = htevents::LogLevel::debug;
    } else {
      config.logger = [](htevents::LogLevel, std::string_view) {};
    }
    config.on_failure = [this](htevents::Failure const& f) {
      std::lock_guard lock(mutex);
      failed.emplace_back(f.message_json);
    };
    client = new Client("fuzz-write-key", std::move(config));  // kept for the whole run
  }

  std::vector<std::string> take() {
    std::lock_guard lock(mutex);
    return std::exchange(failed, {});
  }
};

Harness& harness() {
  static Harness* h = new Harness;
  return *h;
}

struct Message {
  int type = 0;  // 0 identify, 1 track, 2 page, 3 screen, 4 group, 5 alias
  std::string user_id, anonymous_id, head, message_id;
  Timestamp timestamp{};
  Object context, integrations;
  std::vector<Field> fields;
};

Message make_message(Bytes& in) {
  Message m;
  m.type = in.byte() % 6;
  std::uint8_t const flags = in.byte();
  if (flags & 1) m.user_id = in.string();
  if (flags & 2) m.anonymous_id = in.string();
  if ((flags & 4) == 0) m.head = in.string();
  m.message_id = in.string(60);
  if (flags & 8) {  // around Segment's limit of 100 characters
    std::string const more = in.string(60);
    while (m.message_id.size() < 90 && !more.empty()) m.message_id += more;
  }
  m.timestamp = Timestamp(Timestamp::duration(in.pod<std::int64_t>()));
  ValueGenerator values{in};
  if (flags & 16) m.context = values.object(1);
  if (flags & 32) m.integrations = values.object(1);
  std::set<std::string> seen;
  for (int n = in.byte() % 16; n > 0 && !in.empty(); --n) {
    Field f = make_field(in, values);
    if (seen.insert(reference_sanitize(key_text(f.key))).second) m.fields.push_back(std::move(f));
  }
  return m;
}

Object fields_object(Message const& m) {
  Object o;
  for (Field const& f : m.fields) o.set(key_text(f.key), struct_value(f));
  return o;
}

Status send_struct(Client& client, Message const& m, std::string const& id) {
  Object const fields = fields_object(m);
  switch (m.type) {
    case 0:
      return client.enqueue(htevents::Identify{.user_id = m.user_id, .anonymous_id = m.anonymous_id, .traits = fields,
                                               .context = m.context, .timestamp = m.timestamp,
                                               .integrations = m.integrations, .message_id = id});
    case 1:
      return client.enqueue(htevents::Track{.user_id = m.user_id, .anonymous_id = m.anonymous_id, .event = m.head,
                                            .properties = fields, .context = m.context, .timestamp = m.timestamp,
                                            .integrations = m.integrations, .message_id = id});
    case 2:
      return client.enqueue(htevents::Page{.user_id = m.user_id, .anonymous_id = m.anonymous_id, .name = m.head,
                                           .properties = fields, .context = m.context, .timestamp = m.timestamp,
                                           .integrations = m.integrations, .message_id = id});
    case 3:
      return client.enqueue(htevents::Screen{.user_id = m.user_id, .anonymous_id = m.anonymous_id, .name = m.head,
                                             .properties = fields, .context = m.context, .timestamp = m.timestamp,
                                             .integrations = m.integrations, .message_id = id});
    case 4:
      return client.enqueue(htevents::Group{.user_id = m.user_id, .anonymous_id = m.anonymous_id, .group_id = m.head,
                                            .traits = fields, .context = m.context, .timestamp = m.timestamp,
                                            .integrations = m.integrations, .message_id = id});
    default:
      return client.enqueue(htevents::Alias{.user_id = m.user_id, .previous_id = m.head, .context = m.context,
                                            .timestamp = m.timestamp, .integrations = m.integrations,
                                            .message_id = id});
  }
}

// Top-level fields first (the writer's rule), then the fields in order.
template <class Writer>
Status finish_writer(Writer&& w, Message const& m, std::string const& id, bool has_anonymous) {
  w.user_id(m.user_id);
  if (has_anonymous) w.anonymous_id(m.anonymous_id);
  w.message_id(id).timestamp(m.timestamp).context(m.context).integrations(m.integrations);
  for (Field const& f : m.fields) {
    write_field(f, [&](auto const& key, auto const& value) {
      if constexpr (requires { w.property(key, value); }) {
        w.property(key, value);
      } else if constexpr (requires { w.trait(key, value); }) {
        w.trait(key, value);
      }
    });
  }
  return w.send();
}

Status send_writer(Client& client, Message const& m, std::string const& id) {
  switch (m.type) {
    case 0: return finish_writer(client.identify(), m, id, true);
    case 1: return finish_writer(client.track(m.head), m, id, true);
    case 2: return finish_writer(client.page(m.head), m, id, true);
    case 3: return finish_writer(client.screen(m.head), m, id, true);
    case 4: return finish_writer(client.group(m.head), m, id, true);
    default: return finish_writer(client.alias(m.head), m, id, false);
  }
}

std::string message_id_of(std::string const& json) {
  htevents::testing::JsonDocument const doc(json);
  std::string_view id;
  if (!doc.ok() || doc.root()["messageId"].get_string().get(id) != simdjson::SUCCESS) {
    fail("no messageId in " + json);
  }
  return std::string(id);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Harness& h = harness();
  Bytes in(data, size);
  Message const m = make_message(in);
  Status const by_struct = send_struct(*h.client, m, "s" + m.message_id);
  Status const by_writer = send_writer(*h.client, m, "f" + m.message_id);
  // A message with several problems may be refused for a different one of them by each
  // side (the writer checks its head argument when it is created, the struct API checks the
  // user first): refusals must agree, and be equal when only one of them is refused.
  if ((by_struct == Status::ok) != (by_writer == Status::ok)) {
    fail("status differs: struct " + std::string(htevents::to_string(by_struct)) + ", writer " +
         std::string(htevents::to_string(by_writer)));
  }
  if (by_struct != Status::ok) return 0;
  // flush() answers false here: the messages failed. It returns once both were handed to
  // on_failure (or after 10 s, when the count below tells).
  (void)h.client->flush(10s);
  std::vector<std::string> const failed = h.take();
  if (failed.size() != 2) fail("expected 2 messages back, got " + std::to_string(failed.size()));
  std::string const* s = nullptr;
  std::string const* f = nullptr;
  std::string const want = reference_sanitize(m.message_id);
  for (std::string const& json : failed) {
    std::string const id = message_id_of(json);
    if (id == "s" + want) s = &json;
    if (id == "f" + want) f = &json;
  }
  if (s == nullptr || f == nullptr) fail("messageIds not as given:\n" + failed[0] + "\n" + failed[1]);
  std::string const diff = htevents::testing::json_diff(*s, *f, {.ignored = {"$.messageId"}});
  if (!diff.empty()) fail(diff + "\nstruct: " + *s + "\nwriter: " + *f);
  return 0;
}
