#include "common/callbacks.hpp"

#include "common/callback_scope.hpp"

namespace htevents::inline v0::detail {

Callbacks::Callbacks(Config const& config, Logger const& logger, PipelineCounters& counters,
                     std::function<Stats()> stats)
    : on_failure_(config.on_failure),
      on_success_(config.on_success),
      on_stats_(config.on_stats),
      stats_(std::move(stats)),
      logger_(logger),
      counters_(counters) {}

void Callbacks::fail_message(FailureReason reason, int http_status, std::string_view detail,
                             std::string_view message_json) noexcept {
  counters_.failed.fetch_add(1, std::memory_order_relaxed);
  if (!on_failure_) {
    failure_log_.failed(logger_, reason, http_status, detail);
    return;
  }
  std::lock_guard lock(mutex_);
  CallbackScope scope;
  try {
    on_failure_(Failure{reason, http_status, detail, message_json});
  } catch (...) {
    logger_.log(LogLevel::error, "on_failure threw an exception; ignored");
  }
}

void Callbacks::notify_success(Delivery const& delivery) noexcept {
  if (!on_success_) return;
  std::lock_guard lock(mutex_);
  CallbackScope scope;
  try {
    on_success_(delivery);
  } catch (...) {
    logger_.log(LogLevel::error, "on_success threw an exception; ignored");
  }
}

void Callbacks::notify_stats() noexcept {
  if (!on_stats_ || !stats_) return;
  Stats const snapshot = stats_();
  std::lock_guard lock(mutex_);
  CallbackScope scope;
  try {
    on_stats_(snapshot);
  } catch (...) {
    logger_.log(LogLevel::error, "on_stats threw an exception; ignored");
  }
}

}  // namespace htevents::inline v0::detail
