#pragma once
/// The client: accepts messages on any thread, batches them on a serializer thread and sends them
/// on a sender thread (libcurl multi). See docs/architecture.md.

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "htevents/config.hpp"
#include "htevents/export.hpp"
#include "htevents/message.hpp"
#include "htevents/stats.hpp"
#include "htevents/status.hpp"
#include "htevents/writer.hpp"

namespace htevents {
inline namespace v0 {

class HTEVENTS_EXPORT Client {
 public:
  /// Validates the write key and config as validate() does (throws ConfigError naming the
  /// field), then starts the serializer and sender threads. Throws std::runtime_error when
  /// libcurl cannot start (its global init, a handle, the request headers), and if the system
  /// refuses a thread, the std::system_error of std::thread, after stopping and joining the
  /// thread already started. Either way nothing is left running or allocated. Nothing else
  /// throws, here or later, but std::bad_alloc for the client's buffers.
  explicit Client(std::string write_key, Config config = {});
  /// close(config.request_timeout): bounded, never hangs.
  ~Client();
  Client(Client const&) = delete;
  Client& operator=(Client const&) = delete;

  /// Validates and encodes the message on the calling thread and queues it. Thread-safe. Never
  /// waits for the network; waits only under Backpressure::block, at most enqueue_timeout.
  /// Allocates nothing in steady state. Status::ok means accepted: from then on the message is
  /// either delivered or handed to on_failure, never lost silently.
  [[nodiscard]] Status enqueue(Identify const& message) noexcept;
  [[nodiscard]] Status enqueue(Track const& message) noexcept;
  [[nodiscard]] Status enqueue(Page const& message) noexcept;
  [[nodiscard]] Status enqueue(Screen const& message) noexcept;
  [[nodiscard]] Status enqueue(Group const& message) noexcept;
  [[nodiscard]] Status enqueue(Alias const& message) noexcept;

  /// Fast path: see writer.hpp. Thread-safe (each writer stays on its thread).
  [[nodiscard]] TrackWriter track(std::string_view event) noexcept;
  [[nodiscard]] IdentifyWriter identify() noexcept;
  [[nodiscard]] PageWriter page(std::string_view name) noexcept;
  [[nodiscard]] ScreenWriter screen(std::string_view name) noexcept;
  [[nodiscard]] GroupWriter group(std::string_view group_id) noexcept;
  [[nodiscard]] AliasWriter alias(std::string_view previous_id) noexcept;
  /// The same for a head given as a char array, usually a literal (`client.track("Order
  /// completed")`): the message's opening is written inline, a literal's bytes checked at
  /// compile time. The text is the array up to its first NUL, as std::string_view(array) reads it.
  template <std::size_t N>
  [[nodiscard]] TrackWriter track(char const (&event)[N]) noexcept {
    return TrackWriter(core_.get(), event);
  }
  template <std::size_t N>
  [[nodiscard]] PageWriter page(char const (&name)[N]) noexcept {
    return PageWriter(core_.get(), detail::MessageType::page, name);
  }
  template <std::size_t N>
  [[nodiscard]] ScreenWriter screen(char const (&name)[N]) noexcept {
    return ScreenWriter(core_.get(), detail::MessageType::screen, name);
  }
  template <std::size_t N>
  [[nodiscard]] GroupWriter group(char const (&group_id)[N]) noexcept {
    return GroupWriter(core_.get(), detail::MessageType::group, group_id);
  }
  template <std::size_t N>
  [[nodiscard]] AliasWriter alias(char const (&previous_id)[N]) noexcept {
    return AliasWriter(core_.get(), previous_id);
  }

  /// Sends everything enqueued before the call and waits until each of those messages is
  /// delivered or failed (on_failure called). False on timeout, after close, or from a callback.
  bool flush(std::chrono::milliseconds timeout) noexcept;
  /// Stops accepting (enqueue returns Status::closed), sends what is queued, waits for in-flight
  /// requests and retries until the deadline, then hands what is left to on_failure with
  /// FailureReason::deadline and joins the threads. True when everything was delivered or
  /// failed by the server's answer before the deadline. Idempotent; from a callback it only
  /// stops accepting and returns false.
  bool close(std::chrono::milliseconds timeout = std::chrono::seconds(30)) noexcept;

  /// A snapshot of the counters. Thread-safe; takes a short lock.
  [[nodiscard]] Stats stats() const noexcept;

 private:
  std::unique_ptr<detail::ClientCore> core_;
};

/// The library version, from CMake's project(): "X.Y.Z".
[[nodiscard]] HTEVENTS_EXPORT std::string_view version() noexcept;

}  // namespace v0
}  // namespace htevents
