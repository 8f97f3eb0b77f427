#pragma once
// fork() and live clients. A child process gets a copy of each client's memory but none of its
// threads; a mutex some other thread held at the fork stays locked there for good. Clients
// register here; pthread_atfork handlers (installed with the first client) take each client's
// locks before the fork, so that the child finds them consistent and free, and then tell the
// child's copy that it is one.

namespace htevents::inline v0::detail {

class ForkAware {
 public:
  // All three run in the thread that calls fork(); the registry lock is held throughout.
  virtual void before_fork() noexcept = 0;           // take the locks the child may need
  virtual void after_fork_in_parent() noexcept = 0;  // release them
  virtual void after_fork_in_child() noexcept = 0;   // release them and stop being usable

 protected:
  ~ForkAware() = default;
};

// Thread-safe. watch() may allocate (std::bad_alloc).
void watch_fork(ForkAware* client);
void unwatch_fork(ForkAware* client) noexcept;

}  // namespace htevents::inline v0::detail
