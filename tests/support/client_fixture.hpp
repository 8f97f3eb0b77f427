#pragma once
// A local collector on 127.0.0.1 (port 0) and a Config pointing a Client at it.

#include <gtest/gtest.h>

#include <memory>

#include "collector/collector.hpp"
#include "htevents/htevents.hpp"
#include "load/w1.hpp"

namespace htevents::testing {

inline constexpr char const* write_key = "test-write-key";

inline Config local_config(collector::Collector const& collector) {
  Config config;
  config.endpoint = collector.endpoint();
  config.interval = std::chrono::milliseconds(50);
  config.retry_base = std::chrono::milliseconds(5);
  config.retry_max = std::chrono::milliseconds(50);
  config.request_timeout = std::chrono::milliseconds(5000);
  return config;
}

class ClientWithCollector : public ::testing::Test {
 protected:
  explicit ClientWithCollector(collector::Options options = keep_bodies()) : collector_(std::move(options)) {}
  static collector::Options keep_bodies() {
    collector::Options o;
    o.keep_bodies = true;
    o.max_kept_bodies = 100'000;
    return o;
  }
  Config config() const { return local_config(collector_); }

  collector::Collector collector_;
};

// The W1 workload's event i (docs/benchmarks.md), as a struct and through the fast path.
using load::send_w1_fast;
using load::w1_event;

}  // namespace htevents::testing
