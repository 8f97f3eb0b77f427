#include "common/failure_log.hpp"

namespace htevents::inline v0::detail {

std::string describe_failure(FailureReason reason, int http_status, std::string_view detail) {
  std::string s = "reason=";
  s += to_string(reason);
  s += " http_status=";
  s += std::to_string(http_status);
  s += " detail=";
  s += detail.empty() ? std::string_view("(none)") : detail;
  return s;
}

void FailureLog::failed(Logger const& logger, FailureReason reason, int http_status, std::string_view detail) noexcept {
  if (!logger.enabled(LogLevel::error)) return;
  try {
    auto const now = std::chrono::steady_clock::now();
    std::string line;
    {
      std::lock_guard lock(mutex_);
      if (now - window_start_ >= interval) summarize(logger, now);
      if (lines_in_window_ >= lines_per_interval) {
        ++suppressed_;
        last_ = describe_failure(reason, http_status, detail);
        pending_.store(true, std::memory_order_relaxed);
        return;
      }
      ++lines_in_window_;
    }
    line = "an event was not delivered (no on_failure set): " + describe_failure(reason, http_status, detail);
    logger.log(LogLevel::error, line);
  } catch (...) {
  }
}

void FailureLog::tick(Logger const& logger, std::chrono::steady_clock::time_point now) noexcept {
  if (!pending_.load(std::memory_order_relaxed)) return;
  try {
    std::lock_guard lock(mutex_);
    if (now - window_start_ >= interval) summarize(logger, now);
  } catch (...) {
  }
}

void FailureLog::flush(Logger const& logger) noexcept {
  if (!pending_.load(std::memory_order_relaxed)) return;
  try {
    std::lock_guard lock(mutex_);
    summarize(logger, std::chrono::steady_clock::now());
  } catch (...) {
  }
}

void FailureLog::summarize(Logger const& logger, std::chrono::steady_clock::time_point now) {
  if (suppressed_ > 0) {
    // Logged under mutex_: the Logger has its own lock and never calls back into this.
    logger.log(LogLevel::error,
               std::to_string(suppressed_) + " more events were not delivered (no on_failure set); last: " + last_);
  }
  suppressed_ = 0;
  last_.clear();
  pending_.store(false, std::memory_order_relaxed);
  lines_in_window_ = 0;
  window_start_ = now;
}

}  // namespace htevents::inline v0::detail
