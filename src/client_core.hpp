#pragma once
// The client: builds the pipeline's stages, runs their threads, and runs flush() and close().
// Nothing else knows every stage. Client (client.cpp) is a thin facade over it; the writers
// reach the intake through it (ClientCore::intake()).
//
//   producers --Intake--> Serializer --BatchChannel--> Sender --HttpTransport--> server
//
// Each stage gets only the references it uses and its own options, derived here from Config.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "batch/batch_channel.hpp"
#include "batch/progress.hpp"
#include "common/callbacks.hpp"
#include "common/counters.hpp"
#include "common/fork_guard.hpp"
#include "common/last_error.hpp"
#include "common/logger.hpp"
#include "htevents/config.hpp"
#include "htevents/message.hpp"
#include "htevents/stats.hpp"
#include "queue/intake.hpp"
#include "spool/spool.hpp"

namespace htevents::inline v0::detail {

class Serializer;
class Sender;

class ClientCore final : ForkAware {
 public:
  // Throws ConfigError (an invalid Config, before anything starts), std::runtime_error (curl
  // cannot start), std::system_error (no thread could be started) and std::bad_alloc.
  ClientCore(std::string write_key, Config config);
  ~ClientCore();
  ClientCore(ClientCore const&) = delete;
  ClientCore& operator=(ClientCore const&) = delete;

  template <class Message>
  Status enqueue(Message const& message) noexcept;
  bool flush(std::chrono::milliseconds timeout) noexcept;
  bool close(std::chrono::milliseconds timeout) noexcept;
  Stats stats() const noexcept;

  // The producer side, for the fast-path writers.
  Intake& intake() noexcept { return intake_; }
  // True in a child process forked while this client existed: nothing of it runs there.
  bool forked() const noexcept { return intake_.forked(); }

 private:
  // fork(): the child keeps none of the client's threads (ForkAware, see fork_guard.hpp).
  void before_fork() noexcept override;
  void after_fork_in_parent() noexcept override;
  void after_fork_in_child() noexcept override;

  // close(): the first caller runs it; the others wait for it, each until its own deadline.
  bool run_close(std::chrono::steady_clock::time_point deadline) noexcept;
  void stop_threads(std::chrono::steady_clock::time_point deadline) noexcept;

  Config const config_;
  Logger const logger_;
  PipelineCounters counters_;
  Progress progress_;
  Callbacks callbacks_;
  LastError last_error_;
  std::unique_ptr<Spool> spool_;  // with Config::spool_dir; outlives intake_ (its blocks live in the arena)
  Intake intake_;
  IntakeConsumer consumer_;  // the serializer's view of intake_
  BatchChannel batches_;

  enum class CloseState : std::uint8_t { open, closing, closed };
  std::mutex close_mutex_;
  std::condition_variable close_finished_;
  CloseState close_state_ = CloseState::open;  // guarded by close_mutex_
  bool close_result_ = false;                  // guarded by close_mutex_

  std::unique_ptr<Sender> sender_;
  std::unique_ptr<Serializer> serializer_;
  // Started last in the constructor, joined first in close(): everything they touch exists.
  std::thread serializer_thread_;
  std::thread sender_thread_;
};

}  // namespace htevents::inline v0::detail
