#pragma once
// The local collector that `htevents-cpp load` and its paced mode send to: the htevents-cpp-collector
// program as a child process when it is found next to this one (its CPU is then not ours), else
// a collector inside this process (whose threads the caller must not charge to the client).

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "collector/collector.hpp"

namespace htevents::cli {

class LocalCollector {
 public:
  /// stall: every batch is answered 503. refuse_for > 0: refuse mode for that long from the
  /// collector's start (every batch answered 503 without Retry-After), then normal answers.
  /// expected_ids > 0: the collector makes room for that many unique ids at its start, so that
  /// it never stalls mid-run to grow its id set (collector::Options::expected_ids).
  explicit LocalCollector(bool stall, std::chrono::milliseconds refuse_for = std::chrono::milliseconds(0),
                          std::uint64_t expected_ids = 0);
  ~LocalCollector();
  LocalCollector(LocalCollector const&) = delete;
  LocalCollector& operator=(LocalCollector const&) = delete;

  std::string const& endpoint() const { return endpoint_; }
  std::string const& description() const { return description_; }
  bool in_process() const { return in_process_ != nullptr; }
  /// The in-process collector's threads (empty for a child process).
  std::vector<long> const& in_process_threads() const { return collector_threads_; }

  /// The collector's unique messageId count; nullopt when it cannot be read.
  std::optional<std::uint64_t> unique_ids() const { return counter("unique_message_ids"); }
  /// One top-level counter of collector::Stats::to_json() ("outage_refusals", ...); nullopt
  /// when it cannot be read.
  std::optional<std::uint64_t> counter(std::string_view name) const;

  /// CPU seconds of the in-process collector's threads (0 for a child process).
  double in_process_cpu_seconds() const;

 private:
  bool start_child(std::string const& program, bool stall, std::chrono::milliseconds refuse_for,
                   std::uint64_t expected_ids);

  std::unique_ptr<collector::Collector> in_process_;
  std::vector<long> collector_threads_;
  pid_t child_ = -1;
  std::string port_file_;
  std::string endpoint_;
  std::string description_;
};

}  // namespace htevents::cli
