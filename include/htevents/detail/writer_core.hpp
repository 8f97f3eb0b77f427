#pragma once
// Not part of the API: the state behind the fast-path writers of htevents/writer.hpp, and the
// inline members that write scalars straight into the block. May change in any release.

#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <type_traits>

#include "htevents/detail/json_write.hpp"
#include "htevents/detail/wire_fragments.hpp"
#include "htevents/export.hpp"
#include "htevents/status.hpp"
#include "htevents/value.hpp"

namespace htevents {
inline namespace v0 {

namespace detail {
class ClientCore;
class MessageArena;
struct Producer;

/// The state of one message being written. Out-of-line members live in src/message/writer.cpp;
/// those the inline members and the writers call are exported (HTEVENTS_EXPORT), the others
/// stay inside the library.
class WriterCore {
 public:
  WriterCore() noexcept = default;
  // Called only by Client (the writers' constructors are private to it): not exported.
  WriterCore(ClientCore* client, MessageType type, std::string_view head) noexcept;
  // The same for a head given as a char array, usually a literal (`client.track("Order
  // completed")`): inline, so that the type's prefix and a literal's bytes are constants here.
  template <std::size_t N>
  WriterCore(ClientCore* client, MessageType type, char const (&head)[N]) noexcept : client_(client), type_(type) {
    bool const has_head = head[0] != '\0';
    if (open(has_head, wire::max_head_prefix + max_json_string_size(N - 1))) {
      char* const p = write_head_prefix(cur_, type, has_head);
      cur_ = has_head ? write_json_string_fixed<N - 1>(p, head) : p;  // page and screen may have no name
    } else if (owner_) {
      open_slow(std::string_view(head));
    }
  }
  HTEVENTS_EXPORT WriterCore(WriterCore&& other) noexcept;
  WriterCore(WriterCore const&) = delete;
  WriterCore& operator=(WriterCore const&) = delete;
  WriterCore& operator=(WriterCore&&) = delete;
  // Inline: after send() (the usual end) there is nothing to do, and the test is all it costs.
  ~WriterCore() {
    if (owner_) discard_unsent();
  }

  HTEVENTS_EXPORT void top_string(std::string_view key, std::string_view value) noexcept;
  HTEVENTS_EXPORT void top_object(std::string_view key, Object const& value) noexcept;
  HTEVENTS_EXPORT void timestamp(Timestamp t) noexcept;
  void user_id(std::string_view id) noexcept {
    if (!id.empty() && inline_top(wire::user_id_key, id)) {
      has_user_ = true;
    } else {
      user_id_slow(id);
    }
  }
  void anonymous_id(std::string_view id) noexcept {
    if (!id.empty() && inline_top(wire::anonymous_id_key, id)) {
      has_anonymous_ = true;
    } else {
      anonymous_id_slow(id);
    }
  }
  HTEVENTS_EXPORT void message_id(std::string_view id) noexcept;

  // Scalars are written inline when the block has room; otherwise (block full, error, a
  // Timestamp or Value) the out-of-line *_slow path runs. `Key` is std::string_view or, for a
  // literal, `char const[N]`: a literal's few bytes are checked and copied inline.
  template <class Key>
  void member(Key const& key, std::string_view value) noexcept {
    if (char* p = inline_key(key, max_json_string_size(value.size()))) {
      cur_ = write_json_string_inline(p, value);
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
      cur_ = write_integer_inline(p, value);
    } else {
      member_slow(key_view(key), value);
    }
  }
  template <class Key>
  void member(Key const& key, std::uint64_t value) noexcept {
    if (char* p = inline_key(key, max_integer_size)) {
      cur_ = write_integer_inline(p, value);
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

  [[nodiscard]] HTEVENTS_EXPORT Status send() noexcept;

 private:
  bool top_level_allowed() noexcept;
  Status send_in_place() noexcept;
  Status send_general() noexcept;

  // A new message for this thread's producer: the checks (client open, no other writer, the
  // head the type requires), then the draft. True when the block has `room` bytes at the
  // cursor for the head (cur_ and end_ set; the caller writes it); false otherwise, with
  // status_ set when the message cannot be written, or with owner_ set when it can but
  // open_slow must write the head.
  HTEVENTS_EXPORT bool open(bool has_head, std::size_t room) noexcept;
  HTEVENTS_EXPORT void open_slow(std::string_view head) noexcept;
  // open()'s other cases (src/message/writer.cpp): every check, in order, and the hold.
  bool open_general(bool has_head, std::size_t room) noexcept;
  bool open_held(std::size_t room) noexcept;
  bool take_room(Producer const& producer, std::size_t room) noexcept;
  // The message's opening up to its head string: `{"type":"track","event":`, and for page and
  // screen `,"name":` only when they have a name. identify has no head.
  static char* write_head_prefix(char* p, MessageType type, bool has_head) noexcept {
    auto put = [&p](std::string_view fragment) { p = copy_fragment(p, fragment); };
    switch (type) {
      case MessageType::identify: put(wire::identify_head); break;
      case MessageType::track: put(wire::track_head); break;
      case MessageType::page:
        put(wire::page_head);
        if (has_head) put(wire::name_key);
        break;
      case MessageType::screen:
        put(wire::screen_head);
        if (has_head) put(wire::name_key);
        break;
      case MessageType::group: put(wire::group_head); break;
      case MessageType::alias: put(wire::alias_head); break;
    }
    return p;
  }
  // A wire fragment: a constant, so the copy is of a fixed size once inlined.
  static char* copy_fragment(char* p, std::string_view fragment) noexcept {
    std::memcpy(p, fragment.data(), fragment.size());
    return p + fragment.size();
  }
  void release() noexcept;
  // release() for a writer known to hold the draft of `producer` (producer_).
  void release_owned(Producer& producer) noexcept;
  // Whoever the message is about: a userId, or an anonymousId for every type but alias.
  [[nodiscard]] bool has_required_user() const noexcept {
    return has_user_ || (has_anonymous_ && type_ != MessageType::alias);
  }
  // A writer destroyed without send(): its draft is dropped (nothing was accepted).
  HTEVENTS_EXPORT void discard_unsent() noexcept;
  // The message cannot be sent (or has been): the status, and no room left at the cursor, so
  // that the inline members' room test alone sends every later call to the out-of-line path,
  // which sees the status. Every status other than ok is set through here.
  void stop(Status status) noexcept {
    status_ = status;
    end_ = cur_;
  }

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
  static char* write_key(char* p, std::string_view key) noexcept { return write_json_string_inline(p, key); }
  template <std::size_t N>
  static char* write_key(char* p, char const (&key)[N]) noexcept {
    return write_json_string_fixed<N - 1>(p, key);
  }

  // No status test: an error takes the room away (stop()), so the room test fails for it too.
  template <class Key>
  char* inline_key(Key const& key, std::size_t value_room) noexcept {
    if (static_cast<std::size_t>(end_ - cur_) < wire::max_fields_open + key_room(key) + 2 + value_room) return nullptr;
    char* p = cur_;
    if (fields_open_) {
      *p++ = ',';
    } else {
      // Fixed-size copies (wire::fields_open(type_) has a run-time size: a memcpy call).
      p = wire::has_traits(type_) ? copy_fragment(p, wire::traits_open) : copy_fragment(p, wire::properties_open);
      fields_open_ = true;
    }
    p = write_key(p, key);
    *p++ = ':';
    return p;
  }
  // `<key_and_colon>"value"` at the cursor for a top-level string, when the fields object is
  // not open yet and the block has room; false otherwise (the out-of-line path takes over).
  bool inline_top(std::string_view key_and_colon, std::string_view value) noexcept {
    if (fields_open_) return false;  // and no status test, as in inline_key
    if (static_cast<std::size_t>(end_ - cur_) < key_and_colon.size() + max_json_string_size(value.size())) return false;
    std::memcpy(cur_, key_and_colon.data(), key_and_colon.size());
    cur_ = write_json_string_inline(cur_ + key_and_colon.size(), value);
    return true;
  }
  // `<key_and_colon>"value"` out of line: a wire fragment and a string, when the fields object
  // is not open yet.
  void top_fragment(std::string_view key_and_colon, std::string_view value) noexcept;
  HTEVENTS_EXPORT void user_id_slow(std::string_view id) noexcept;
  HTEVENTS_EXPORT void anonymous_id_slow(std::string_view id) noexcept;

  template <class WriteValue>
  void slow_member(std::string_view key, WriteValue&& write_value) noexcept;
  // Takes the draft back from an out-of-line step (src/message/writer.cpp).
  void keep(MessageArena& out) noexcept;
  HTEVENTS_EXPORT void member_slow(std::string_view key, std::string_view value) noexcept;
  HTEVENTS_EXPORT void member_slow(std::string_view key, bool value) noexcept;
  HTEVENTS_EXPORT void member_slow(std::string_view key, std::int64_t value) noexcept;
  HTEVENTS_EXPORT void member_slow(std::string_view key, std::uint64_t value) noexcept;
  HTEVENTS_EXPORT void member_slow(std::string_view key, double value) noexcept;
  HTEVENTS_EXPORT void member_slow(std::string_view key, std::nullptr_t) noexcept;
  HTEVENTS_EXPORT void member_slow(std::string_view key, Timestamp value) noexcept;
  HTEVENTS_EXPORT void member_slow(std::string_view key, Value const& value) noexcept;

  ClientCore* client_ = nullptr;
  Producer* producer_ = nullptr;
  char* cur_ = nullptr;  // the draft's end inside the producer's block, while owner_
  char* end_ = nullptr;  // the block's end; cur_ once status_ is not ok (stop())
  Status status_ = Status::closed;
  MessageType type_ = MessageType::track;
  bool owner_ = false;        // this writer holds the producer's draft
  bool fields_open_ = false;  // the properties/traits object has been opened
  bool has_user_ = false;
  bool has_anonymous_ = false;
  bool has_message_id_ = false;
  bool has_timestamp_ = false;
};
}  // namespace detail
}  // namespace v0
}  // namespace htevents
