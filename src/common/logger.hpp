#pragma once
// The library's log sink: Config::logger filtered by Config::log_level. The write key never
// reaches it: nothing the library logs is built from the key.

#include <atomic>
#include <functional>
#include <string_view>

#include "htevents/config.hpp"

namespace htevents::inline v0::detail {

class Logger {
 public:
  Logger(std::function<void(LogLevel, std::string_view)> sink, LogLevel level);
  bool enabled(LogLevel level) const noexcept { return level >= level_; }
  // Thread-safe if the user's sink is; never throws (a throwing sink is swallowed).
  void log(LogLevel level, std::string_view message) const noexcept;

 private:
  std::function<void(LogLevel, std::string_view)> sink_;
  LogLevel level_;
};

}  // namespace htevents::inline v0::detail
