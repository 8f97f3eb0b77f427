#include "e2e/run.hpp"

#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <optional>
#include <thread>

#include "htevents/client.hpp"
#include "htevents/detail/json_write.hpp"
#include "replay/replay.hpp"

namespace htevents::e2e {
namespace {

// What went wrong, from this thread and the pipeline's: the first problem is the output's
// error (the one a suite's log should show), the others are only counted.
class Problems {
 public:
  void add(std::string what) {
    std::lock_guard lock(mutex_);
    if (count_++ == 0) first_ = std::move(what);
  }
  [[nodiscard]] std::string summary() const {
    std::lock_guard lock(mutex_);
    if (count_ <= 1) return first_;
    return first_ + " (and " + std::to_string(count_ - 1) + " more)";
  }
  [[nodiscard]] bool empty() const {
    std::lock_guard lock(mutex_);
    return count_ == 0;
  }

 private:
  mutable std::mutex mutex_;
  std::string first_;
  std::uint64_t count_ = 0;
};

std::string event_name(std::size_t sequence, std::uint64_t line) {
  return "sequences[" + std::to_string(sequence) + "].events[" + std::to_string(line - 1) + "]";
}

}  // namespace

Config make_config(Input const& input) {
  Config config;
  if (!input.api_host.empty()) config.endpoint = endpoint_of(input.api_host);
  if (input.flush_at) config.batch_size = *input.flush_at;
  if (input.flush_interval) config.interval = *input.flush_interval;
  if (input.max_retries) config.max_attempts = *input.max_retries + 1;
  if (input.timeout) config.request_timeout = *input.timeout;
  // The e2e run must not shed events the suite counts: wait for room rather than refuse.
  config.enqueue_timeout = std::chrono::seconds(30);
  return config;
}

std::chrono::milliseconds close_budget(Config const& config) {
  using std::chrono::milliseconds;
  // Capped at a day: the sums below are in range for every config the client accepts, and no
  // suite waits longer.
  milliseconds const day = std::chrono::hours(24);
  milliseconds const per_attempt = std::min(day, config.request_timeout + config.retry_max);
  auto const attempts = static_cast<std::int64_t>(std::max(1, config.max_attempts));
  if (per_attempt.count() > 0 && attempts > day / per_attempt) return day;
  return std::min(day, per_attempt * attempts + config.interval + std::chrono::seconds(1));
}

Output run(Input const& input, std::function<void(std::string_view)> const& log) {
  std::mutex log_mutex;  // lines come from this thread and the pipeline's
  auto say = [&](std::string_view line) {
    std::lock_guard lock(log_mutex);
    log(line);
  };
  Output output;
  Problems problems;
  std::atomic<std::uint64_t> batches{0};

  Config config = make_config(input);
  config.on_success = [&](Delivery const& d) {
    batches.fetch_add(1, std::memory_order_relaxed);  // read after close() joined the sender
    say("delivered a batch of " + std::to_string(d.events) + " events: HTTP " + std::to_string(d.http_status) +
        ", attempt " + std::to_string(d.attempts));
  };
  config.on_failure = [&](Failure const& f) {
    std::string what = "not delivered (" + std::string(to_string(f.reason)) + ")";
    if (!f.detail.empty()) what += ": " + std::string(f.detail);
    say(what);
    problems.add(std::move(what));
  };
  // Retries and splits are logged at debug: the suite's log then shows each attempt.
  config.log_level = LogLevel::debug;
  config.logger = [&](LogLevel, std::string_view line) { say(line); };

  std::optional<Client> client;
  try {
    client.emplace(input.write_key, config);
  } catch (std::exception const& error) {  // ConfigError, or curl/zstd failing to start
    output.error = error.what();
    return output;
  }
  say("endpoint " + config.endpoint + ", flushAt " + std::to_string(config.batch_size) + ", flushInterval " +
      std::to_string(config.interval.count()) + " ms, max_attempts " + std::to_string(config.max_attempts) +
      ", request timeout " + std::to_string(config.request_timeout.count()) + " ms");

  std::uint64_t accepted = 0;
  for (std::size_t i = 0; i < input.sequences.size(); ++i) {
    Sequence const& sequence = input.sequences[i];
    if (sequence.delay.count() > 0) {
      say("sequence " + std::to_string(i) + ": waiting " + std::to_string(sequence.delay.count()) + " ms");
      std::this_thread::sleep_for(sequence.delay);
    }
    say("sequence " + std::to_string(i) + ": enqueueing " + std::to_string(sequence.events) + " events");
    // Events go through the replay reader (one per line), so that they are read exactly as
    // `htevents-cpp replay` reads a file, and a bad one is named and the others still sent.
    replay::Options options;
    options.read_bytes = sequence.ndjson.size() + 1;
    options.on_line_error = [&](replay::LineError const& e) {
      std::string what = event_name(i, e.line) + ": " + std::string(e.reason);
      say("not enqueued: " + what);
      problems.add(std::move(what));
    };
    replay::Result const result = replay::replay(std::string_view(sequence.ndjson), *client, options);
    accepted += result.totals.sent;
  }

  std::chrono::milliseconds const budget = close_budget(config);
  say("closing: " + std::to_string(accepted) + " events accepted, waiting at most " + std::to_string(budget.count()) +
      " ms for their delivery");
  bool const closed = client->close(budget);
  Stats const stats = client->stats();
  output.sent_batches = batches.load(std::memory_order_relaxed);
  if (!closed && problems.empty()) problems.add("close() did not finish by its deadline");
  if (stats.delivered != accepted && problems.empty())
    problems.add(std::to_string(accepted - std::min(accepted, stats.delivered)) + " accepted events not delivered");
  output.success = problems.empty();
  output.error = problems.summary();
  say("delivered " + std::to_string(stats.delivered) + " of " + std::to_string(accepted) + " events in " +
      std::to_string(output.sent_batches) + " batches, " + std::to_string(stats.retries) + " retries");
  return output;
}

std::string to_json(Output const& output) {
  std::string out = output.success ? R"({"success":true,"sentBatches":)" : R"({"success":false,"sentBatches":)";
  out += std::to_string(output.sent_batches);
  if (!output.error.empty()) {
    out += R"(,"error":)";
    std::size_t const at = out.size();
    out.resize(at + detail::max_json_string_size(output.error.size()));
    char* const end = detail::write_json_string(out.data() + at, output.error);
    out.resize(static_cast<std::size_t>(end - out.data()));
  }
  out += '}';
  return out;
}

}  // namespace htevents::e2e
