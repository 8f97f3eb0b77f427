#pragma once
// The core of `htevents-cpp replay`: NDJSON of Segment-spec messages, one per line, into a Client.
//
// Input is read in large chunks and parsed with simdjson's On Demand document stream
// (iterate_many). Good lines go through the client's zero-allocation writers: top-level fields
// first, then properties/traits member by member, nested values as RawJson of their source text.
// A line the stream cannot vouch for (a JSON error, two documents on one line, a document across
// lines) is parsed again on its own, so that every bad line is reported with its number and the
// lines around it are still sent.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <istream>
#include <string>
#include <string_view>

#include "htevents/client.hpp"

namespace htevents::replay {

enum class OnError : std::uint8_t {
  skip,  ///< report the line and go on
  stop,  ///< report the line and return
};

/// Where a replay stands; passed to Options::on_progress.
struct Progress {
  std::uint64_t bytes = 0;     ///< input consumed so far
  std::uint64_t lines = 0;     ///< non-blank lines handled (good or bad)
  std::uint64_t sent = 0;      ///< messages the client accepted
  std::uint64_t rejected = 0;  ///< bad lines: not a valid message, or refused by enqueue
};

/// One bad line: its 1-based number and why. The reason is valid during the callback only.
struct LineError {
  std::uint64_t line = 0;
  std::string_view reason{};
};

struct Options {
  OnError on_error = OnError::skip;
  /// Bytes asked from the input per read; the buffer grows beyond it only for longer lines.
  std::size_t read_bytes = std::size_t{8} << 20;
  /// iterate_many's batch size: longer lines are parsed on their own. A batch that simdjson's
  /// first stage rejects (e.g. a line with an unclosed string) is parsed line by line. 0: every
  /// line on its own, without the document stream (slower; for tests and comparisons).
  std::size_t stream_batch_bytes = std::size_t{256} << 10;
  /// Called on the replaying thread for every bad line.
  std::function<void(LineError const&)> on_line_error{};
  /// Called on the replaying thread about every progress_interval (never when it is zero).
  std::function<void(Progress const&)> on_progress{};
  std::chrono::milliseconds progress_interval{0};
};

struct Result {
  Progress totals{};
  bool stopped = false;    ///< OnError::stop ended the replay at a bad line
  std::string io_error{};  ///< non-empty when reading the input failed
};

/// Reads up to `size` bytes into `data`: the count, 0 at the end, or -1 on error (`error` says why).
using Reader = std::function<std::ptrdiff_t(char* data, std::size_t size, std::string& error)>;

/// Replays everything `read` yields. Runs on the calling thread, which becomes the client's
/// producer; enqueue blocks as Config::backpressure says. Does not call flush or close.
Result replay(Reader const& read, Client& client, Options const& options);
/// From a file descriptor (a file, a pipe, stdin).
Result replay_fd(int fd, Client& client, Options const& options);
Result replay(std::istream& in, Client& client, Options const& options);
Result replay(std::string_view text, Client& client, Options const& options);

}  // namespace htevents::replay
