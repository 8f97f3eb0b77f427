#pragma once
// on_failure calls copied out of the callback (its views die with the call), for tests.

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "htevents/htevents.hpp"

namespace htevents::testing {

struct Recorded {
  FailureReason reason = FailureReason::rejected;
  int http_status = 0;
  std::string detail;
  std::string json;
};

inline Recorded record(Failure const& f) {
  return Recorded{f.reason, f.http_status, std::string(f.detail), std::string(f.message_json)};
}

// Counts on_failure calls; lives longer than the client.
struct FailureCount {
  std::atomic<std::uint64_t> calls{0};
  std::function<void(Failure const&)> callback() {
    return [this](Failure const&) { calls.fetch_add(1, std::memory_order_relaxed); };
  }
};

// Collects on_failure calls; shared between the Config's callback and the test body.
class FailureLog {
 public:
  void add(Failure const& f) {
    std::lock_guard lock(mutex_);
    items_.push_back(record(f));
  }
  std::vector<Recorded> items() const {
    std::lock_guard lock(mutex_);
    return items_;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<Recorded> items_;
};

inline std::function<void(Failure const&)> record_into(std::shared_ptr<FailureLog> const& log) {
  return [log](Failure const& f) { log->add(f); };
}

}  // namespace htevents::testing
