#include "common/logger.hpp"

#include <cstdio>

#include "common/callback_scope.hpp"

namespace htevents::inline v0::detail {
namespace {

std::string_view level_name(LogLevel level) noexcept {
  switch (level) {
    case LogLevel::debug: return "debug";
    case LogLevel::info: return "info";
    case LogLevel::warn: return "warn";
    case LogLevel::error: return "error";
  }
  return "?";
}

}  // namespace

Logger::Logger(std::function<void(LogLevel, std::string_view)> sink, LogLevel level)
    : sink_(std::move(sink)), level_(level) {
  if (!sink_) {
    // The documented default: one line per message on stderr.
    sink_ = [](LogLevel l, std::string_view message) {
      std::fprintf(stderr, "htevents %.*s: %.*s\n", static_cast<int>(level_name(l).size()), level_name(l).data(),
                   static_cast<int>(message.size()), message.data());
    };
  }
}

void Logger::log(LogLevel level, std::string_view message) const noexcept {
  if (!enabled(level)) return;
  std::lock_guard lock(mutex_);
  // The sink is user code, like a callback: if it calls close() or flush() from a pipeline
  // thread, they must not try to join that thread.
  CallbackScope scope;
  try {
    sink_(level, message);
  } catch (...) {
  }
}

}  // namespace htevents::inline v0::detail
