#pragma once
// Failed events logged for a user who set no on_failure: otherwise a failure would be silent.
// Rate-limited so that an outage does not flood the log: the first few failures of each
// interval get a line each, the rest are counted and summed up in one line per interval.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>

#include "common/logger.hpp"
#include "htevents/config.hpp"

namespace htevents::inline v0::detail {

class FailureLog {
 public:
  static constexpr int lines_per_interval = 5;
  static constexpr std::chrono::seconds interval{10};

  // One failed event: a line at `error`, or counted for the interval's summary. Thread-safe.
  void failed(Logger const& logger, FailureReason reason, int http_status, std::string_view detail) noexcept;
  // Writes the summary of the interval when it is over (any thread, cheap when nothing waits).
  void tick(Logger const& logger, std::chrono::steady_clock::time_point now) noexcept;
  // Writes what is counted and not yet summed up, now (the client is stopping).
  void flush(Logger const& logger) noexcept;

 private:
  void summarize(Logger const& logger, std::chrono::steady_clock::time_point now);  // holds mutex_

  std::mutex mutex_;
  std::chrono::steady_clock::time_point window_start_{};  // guarded by mutex_
  int lines_in_window_ = 0;                               // guarded by mutex_
  std::uint64_t suppressed_ = 0;                          // guarded by mutex_
  std::string last_;                                      // guarded by mutex_: last suppressed
  std::atomic<bool> pending_{false};                      // suppressed_ > 0, read without the lock
};

// "reason=deadline http_status=0 detail=...": the words of one failure, for a log line.
std::string describe_failure(FailureReason reason, int http_status, std::string_view detail);

}  // namespace htevents::inline v0::detail
