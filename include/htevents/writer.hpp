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
/// Writers come from Client (track(), identify(), ...); their constructors are private.

#include <cstddef>
#include <string_view>

#include "htevents/detail/writer_core.hpp"
#include "htevents/status.hpp"
#include "htevents/value.hpp"

namespace htevents {
inline namespace v0 {

class Client;

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
  template <std::size_t N>
  MessageWriter(detail::ClientCore* client, detail::MessageType type, char const (&head)[N]) noexcept
      : core_(client, type, head) {}
  detail::WriterCore core_;

 private:
  Derived& self() noexcept { return static_cast<Derived&>(*this); }
};

/// track(event): properties.
class TrackWriter : public MessageWriter<TrackWriter> {
 public:
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

 private:
  friend class Client;
  TrackWriter(detail::ClientCore* client, std::string_view event) noexcept
      : MessageWriter(client, detail::MessageType::track, event) {}
  template <std::size_t N>
  TrackWriter(detail::ClientCore* client, char const (&event)[N]) noexcept
      : MessageWriter(client, detail::MessageType::track, event) {}
};

/// page(name) and screen(name): properties.
class PageWriter : public MessageWriter<PageWriter> {
 public:
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

 private:
  friend class Client;
  PageWriter(detail::ClientCore* client, detail::MessageType type, std::string_view name) noexcept
      : MessageWriter(client, type, name) {}
  template <std::size_t N>
  PageWriter(detail::ClientCore* client, detail::MessageType type, char const (&name)[N]) noexcept
      : MessageWriter(client, type, name) {}
};
using ScreenWriter = PageWriter;

/// identify() and group(group_id): traits.
class TraitsWriter : public MessageWriter<TraitsWriter> {
 public:
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

 private:
  friend class Client;
  TraitsWriter(detail::ClientCore* client, detail::MessageType type, std::string_view head) noexcept
      : MessageWriter(client, type, head) {}
  template <std::size_t N>
  TraitsWriter(detail::ClientCore* client, detail::MessageType type, char const (&head)[N]) noexcept
      : MessageWriter(client, type, head) {}
};
using IdentifyWriter = TraitsWriter;
using GroupWriter = TraitsWriter;

/// alias(previous_id): user_id is required.
class AliasWriter : public MessageWriter<AliasWriter> {
 private:
  friend class Client;
  AliasWriter(detail::ClientCore* client, std::string_view previous_id) noexcept
      : MessageWriter(client, detail::MessageType::alias, previous_id) {}
  template <std::size_t N>
  AliasWriter(detail::ClientCore* client, char const (&previous_id)[N]) noexcept
      : MessageWriter(client, detail::MessageType::alias, previous_id) {}
};

}  // namespace v0
}  // namespace htevents
