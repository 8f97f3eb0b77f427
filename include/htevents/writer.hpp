#pragma once
/// The zero-allocation fast path: a message written field by field straight into the calling
/// thread's arena, without building a struct.
///
///   Status s = client.track("Order completed").user_id(uid).property("total", 29.99)
///                    .property("currency", "USD").property("quantity", 3).send();
///
/// Rules, checked at send():
/// - Top-level fields (user_id, anonymous_id, message_id, timestamp, context, integrations)
///   come before the first property()/trait(); one after it makes send() return
///   Status::invalid_usage.
/// - Every argument is copied (encoded) when the call is made; nothing needs to outlive it.
/// - A writer belongs to the thread that created it and lives for one message; one writer per
///   client and thread at a time (a second one returns Status::invalid_usage at send()).
/// - Dropping a writer without send() discards the message; nothing was accepted.
/// Allocates nothing in steady state (Value arguments holding objects or arrays are encoded
/// without allocating too; building them is the caller's cost).

#include <chrono>
#include <cmath>
#include <cstring>
#include <concepts>
#include <cstdint>
#include <string_view>
#include <type_traits>

#include "htevents/detail/json_write.hpp"
#include "htevents/status.hpp"
#include "htevents/value.hpp"

namespace htevents {
inline namespace v0 {

namespace detail {
class ClientCore;
class MessageArena;
struct Producer;

enum class MessageType : std::uint8_t { identify, track, page, screen, group, alias };

/// The state of one message being written. Out-of-line members live in src/message/writer.cpp.
class WriterCore {
 public:
  WriterCore() noexcept = default;
  WriterCore(ClientCore* client, MessageType type, std::string_view head) noexcept;
  WriterCore(WriterCore&& other) noexcept;
  WriterCore(WriterCore const&) = delete;
  WriterCore& operator=(WriterCore const&) = delete;
  WriterCore& operator=(WriterCore&&) = delete;
  ~WriterCore();

  void top_string(std::string_view key, std::string_view value) noexcept;
  void top_object(std::string_view key, Object const& value) noexcept;
  void timestamp(Timestamp t) noexcept;
  void user_id(std::string_view id) noexcept {
    if (!id.empty() && inline_top(R"(,"userId":)", id)) {
      has_user_ = true;
    } else {
      user_id_slow(id);
    }
  }
  void anonymous_id(std::string_view id) noexcept {
    if (!id.empty() && inline_top(R"(,"anonymousId":)", id)) {
      has_anonymous_ = true;
    } else {
      anonymous_id_slow(id);
    }
  }
  void message_id(std::string_view id) noexcept;

  // Scalars are written inline when the block has room; otherwise (block full, error, a
  // Timestamp or Value) the out-of-line *_slow path runs. `Key` is std::string_view or, for a
  // literal, `char const[N]`: a literal's few bytes are checked and copied inline.
  template <class Key>
  void member(Key const& key, std::string_view value) noexcept {
    if (char* p = inline_key(key, max_json_string_size(value.size()))) {
      cur_ = write_json_string(p, value);
    } else {
      member_slow(key_view(key), value);
    }
  }
  template <class Key, std::size_t N>
  void member(Key const& key, char const (&value)[N]) noexcept {
    if (char* p = inline_key(key, max_json_string_size(N - 1))) {
      cur_ = write_json_string_fixed<N - 1>(p, value);
    } else {
      member_slow(key_view(key), std::string_view(value));
    }
  }
  template <class Key>
  void member(Key const& key, bool value) noexcept {
    if (char* p = inline_key(key, 5)) {
      std::memcpy(p, value ? "true" : "false", value ? 4 : 5);
      cur_ = p + (value ? 4 : 5);
    } else {
      member_slow(key_view(key), value);
    }
  }
  template <class Key>
  void member(Key const& key, std::int64_t value) noexcept {
    if (char* p = inline_key(key, max_integer_size)) {
      cur_ = write_integer(p, value);
    } else {
      member_slow(key_view(key), value);
    }
  }
  template <class Key>
  void member(Key const& key, std::uint64_t value) noexcept {
    if (char* p = inline_key(key, max_integer_size)) {
      cur_ = write_integer(p, value);
    } else {
      member_slow(key_view(key), value);
    }
  }
  template <class Key>
  void member(Key const& key, double value) noexcept {
    char* p = std::isfinite(value) ? inline_key(key, max_double_size) : nullptr;
    if (p != nullptr) {
      cur_ = write_double(p, value);
    } else {
      member_slow(key_view(key), value);  // also where NaN and infinity become Status::invalid_number
    }
  }
  template <class Key>
  void member(Key const& key, std::nullptr_t) noexcept {
    if (char* p = inline_key(key, 4)) {
      std::memcpy(p, "null", 4);
      cur_ = p + 4;
    } else {
      member_slow(key_view(key), nullptr);
    }
  }
  template <class Key>
  void member(Key const& key, Timestamp value) noexcept {
    member_slow(key_view(key), value);
  }
  template <class Key>
  void member(Key const& key, Value const& value) noexcept {
    member_slow(key_view(key), value);
  }

  template <class Key, class T>
  void any_member(Key const& key, T const& value) noexcept {
    using U = std::remove_cvref_t<T>;
    if constexpr (std::same_as<U, bool>) {
      member(key, static_cast<bool>(value));
    } else if constexpr (std::signed_integral<U>) {
      member(key, static_cast<std::int64_t>(value));
    } else if constexpr (std::unsigned_integral<U>) {
      member(key, static_cast<std::uint64_t>(value));
    } else if constexpr (std::floating_point<U>) {
      member(key, static_cast<double>(value));
    } else if constexpr (std::same_as<U, std::nullptr_t>) {
      member(key, nullptr);
    } else if constexpr (std::same_as<U, Timestamp>) {
      member(key, value);
    } else if constexpr (std::is_array_v<U> && std::same_as<std::remove_cv_t<std::remove_extent_t<U>>, char>) {
      member(key, value);  // a char array: usually a literal
    } else if constexpr (std::convertible_to<T const&, std::string_view>) {
      member(key, std::string_view(value));
    } else {
      member(key, static_cast<Value const&>(value));
    }
  }

  [[nodiscard]] Status send() noexcept;

 private:
  bool top_level_allowed() noexcept;
  void release() noexcept;

  // `,"key":` at the cursor, when the fields object is open and the block has room for the key
  // and `value_room` more bytes; nullptr otherwise. The message's size limit is checked at send().
  static std::string_view key_view(std::string_view key) noexcept { return key; }
  template <std::size_t N>
  static std::string_view key_view(char const (&key)[N]) noexcept {
    return std::string_view(key);
  }
  static std::size_t key_room(std::string_view key) noexcept { return max_json_string_size(key.size()); }
  template <std::size_t N>
  static constexpr std::size_t key_room(char const (&)[N]) noexcept {
    return max_json_string_size(N - 1);
  }
  static char* write_key(char* p, std::string_view key) noexcept { return write_json_string(p, key); }
  template <std::size_t N>
  static char* write_key(char* p, char const (&key)[N]) noexcept {
    return write_json_string_fixed<N - 1>(p, key);
  }

  template <class Key>
  char* inline_key(Key const& key, std::size_t value_room) noexcept {
    constexpr std::size_t opening = 15;  // `,"properties":{`
    if (status_ != Status::ok) return nullptr;
    if (static_cast<std::size_t>(end_ - cur_) < opening + key_room(key) + 2 + value_room) return nullptr;
    char* p = cur_;
    if (fields_open_) {
      *p++ = ',';
    } else {
      bool const traits = type_ == MessageType::identify || type_ == MessageType::group;
      std::string_view const open = traits ? std::string_view(R"(,"traits":{)") : std::string_view(R"(,"properties":{)");
      std::memcpy(p, open.data(), open.size());
      p += open.size();
      fields_open_ = true;
    }
    p = write_key(p, key);
    *p++ = ':';
    return p;
  }
  // `<key_and_colon>"value"` at the cursor for a top-level string, when the fields object is
  // not open yet and the block has room; false otherwise (the out-of-line path takes over).
  bool inline_top(std::string_view key_and_colon, std::string_view value) noexcept {
    if (status_ != Status::ok || fields_open_) return false;
    if (static_cast<std::size_t>(end_ - cur_) < key_and_colon.size() + max_json_string_size(value.size())) return false;
    std::memcpy(cur_, key_and_colon.data(), key_and_colon.size());
    cur_ = write_json_string(cur_ + key_and_colon.size(), value);
    return true;
  }
  void user_id_slow(std::string_view id) noexcept;
  void anonymous_id_slow(std::string_view id) noexcept;

  template <class WriteValue>
  void slow_member(std::string_view key, WriteValue&& write_value) noexcept;
  // Takes the draft back from an out-of-line step (src/message/writer.cpp).
  void keep(MessageArena& out) noexcept;
  void member_slow(std::string_view key, std::string_view value) noexcept;
  void member_slow(std::string_view key, bool value) noexcept;
  void member_slow(std::string_view key, std::int64_t value) noexcept;
  void member_slow(std::string_view key, std::uint64_t value) noexcept;
  void member_slow(std::string_view key, double value) noexcept;
  void member_slow(std::string_view key, std::nullptr_t) noexcept;
  void member_slow(std::string_view key, Timestamp value) noexcept;
  void member_slow(std::string_view key, Value const& value) noexcept;

  ClientCore* client_ = nullptr;
  Producer* producer_ = nullptr;
  char* cur_ = nullptr;  // the draft's end inside the producer's block, while owner_
  char* end_ = nullptr;  // the block's end
  Status status_ = Status::closed;
  MessageType type_ = MessageType::track;
  bool owner_ = false;            // this writer holds the producer's draft
  bool fields_open_ = false;      // the properties/traits object has been opened
  bool has_user_ = false;
  bool has_anonymous_ = false;
  bool has_message_id_ = false;
  bool has_timestamp_ = false;
};
}  // namespace detail

/// Shared by all writers: the top-level fields and send().
template <class Derived>
class MessageWriter {
 public:
  Derived& user_id(std::string_view id) noexcept {
    core_.user_id(id);
    return self();
  }
  Derived& anonymous_id(std::string_view id) noexcept {
    core_.anonymous_id(id);
    return self();
  }
  /// Default: a random UUID v4.
  Derived& message_id(std::string_view id) noexcept {
    core_.message_id(id);
    return self();
  }
  /// Default: the time of send().
  Derived& timestamp(Timestamp t) noexcept {
    core_.timestamp(t);
    return self();
  }
  Derived& context(Object const& context) noexcept {
    core_.top_object("context", context);
    return self();
  }
  Derived& integrations(Object const& integrations) noexcept {
    core_.top_object("integrations", integrations);
    return self();
  }
  /// Validates and queues the message. Thread: the one that created the writer. Blocks only under
  /// Backpressure::block, at most Config::enqueue_timeout.
  [[nodiscard]] Status send() noexcept { return core_.send(); }

 protected:
  MessageWriter(detail::ClientCore* client, detail::MessageType type, std::string_view head) noexcept
      : core_(client, type, head) {}
  detail::WriterCore core_;

 private:
  Derived& self() noexcept { return static_cast<Derived&>(*this); }
};

/// track(event): properties.
class TrackWriter : public MessageWriter<TrackWriter> {
 public:
  TrackWriter(detail::ClientCore* client, std::string_view event) noexcept
      : MessageWriter(client, detail::MessageType::track, event) {}
  /// Value: string (view), bool, any integer, double, nullptr, Timestamp, or a Value.
  template <class T>
  TrackWriter& property(std::string_view key, T const& value) noexcept {
    core_.any_member(key, value);
    return *this;
  }
  /// The same for a key given as a literal (or char array): checked and copied inline.
  template <std::size_t N, class T>
  TrackWriter& property(char const (&key)[N], T const& value) noexcept {
    core_.any_member(key, value);
    return *this;
  }
};

/// page(name) and screen(name): properties.
class PageWriter : public MessageWriter<PageWriter> {
 public:
  PageWriter(detail::ClientCore* client, detail::MessageType type, std::string_view name) noexcept
      : MessageWriter(client, type, name) {}
  template <class T>
  PageWriter& property(std::string_view key, T const& value) noexcept {
    core_.any_member(key, value);
    return *this;
  }
  /// The same for a key given as a literal (or char array): checked and copied inline.
  template <std::size_t N, class T>
  PageWriter& property(char const (&key)[N], T const& value) noexcept {
    core_.any_member(key, value);
    return *this;
  }
};
using ScreenWriter = PageWriter;

/// identify() and group(group_id): traits.
class TraitsWriter : public MessageWriter<TraitsWriter> {
 public:
  TraitsWriter(detail::ClientCore* client, detail::MessageType type, std::string_view head) noexcept
      : MessageWriter(client, type, head) {}
  template <class T>
  TraitsWriter& trait(std::string_view key, T const& value) noexcept {
    core_.any_member(key, value);
    return *this;
  }
  /// The same for a key given as a literal (or char array): checked and copied inline.
  template <std::size_t N, class T>
  TraitsWriter& trait(char const (&key)[N], T const& value) noexcept {
    core_.any_member(key, value);
    return *this;
  }
};
using IdentifyWriter = TraitsWriter;
using GroupWriter = TraitsWriter;

/// alias(previous_id): user_id is required.
class AliasWriter : public MessageWriter<AliasWriter> {
 public:
  AliasWriter(detail::ClientCore* client, std::string_view previous_id) noexcept
      : MessageWriter(client, detail::MessageType::alias, previous_id) {}
};

}  // namespace v0
}  // namespace htevents
