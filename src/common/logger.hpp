#pragma once
// The library's log sink: Config::logger filtered by Config::log_level. The write key never
// reaches it: nothing the library logs is built from the key.

#include <atomic>
#include <functional>
#include <mutex>
#include <string_view>

#include "htevents/config.hpp"

namespace htevents::inline v0::detail {

class Logger {
 public:
  Logger(std::function<void(LogLevel, std::string_view)> sink, LogLevel level);
  bool enabled(LogLevel level) const noexcept { return level >= level_; }
  // Thread-safe: calls to the sink are serialized. Never throws (a throwing sink is swallowed).
  void log(LogLevel level, std::string_view message) const noexcept;

 private:
  std::function<void(LogLevel, std::string_view)> sink_;
  LogLevel level_;
  mutable std::mutex mutex_;  // the sink sees one line at a time, from whichever thread
};

}  // namespace htevents::inline v0::detail
