#pragma once
// The user's callbacks (on_failure, on_success, on_stats) and the failure log used when no
// on_failure is set. Callbacks never run concurrently, and their exceptions never reach a
// pipeline thread. Every failed message is counted here (PipelineCounters::failed).

#include <chrono>
#include <functional>
#include <mutex>
#include <string_view>

#include "common/counters.hpp"
#include "common/failure_log.hpp"
#include "common/logger.hpp"
#include "htevents/config.hpp"
#include "htevents/stats.hpp"

namespace htevents::inline v0::detail {

class Callbacks {
 public:
  // `stats` takes the snapshot on_stats is called with. Copies the callbacks out of `config`.
  Callbacks(Config const& config, Logger const& logger, PipelineCounters& counters, std::function<Stats()> stats);

  // Calls on_failure for one message (or logs it, rate-limited); counts it failed.
  void fail_message(FailureReason reason, int http_status, std::string_view detail,
                    std::string_view message_json) noexcept;
  void notify_success(Delivery const& delivery) noexcept;
  void notify_stats() noexcept;
  bool wants_stats() const noexcept { return static_cast<bool>(on_stats_); }
  // The failure log's interval summary (cheap when nothing is counted), and its last line.
  void tick(std::chrono::steady_clock::time_point now) noexcept { failure_log_.tick(logger_, now); }
  void flush_log() noexcept { failure_log_.flush(logger_); }

 private:
  std::function<void(Failure const&)> const on_failure_;
  std::function<void(Delivery const&)> const on_success_;
  std::function<void(Stats const&)> const on_stats_;
  std::function<Stats()> const stats_;
  Logger const& logger_;
  PipelineCounters& counters_;
  FailureLog failure_log_;  // failed events, when no on_failure is set
  std::mutex mutex_;        // one callback at a time
};

}  // namespace htevents::inline v0::detail
