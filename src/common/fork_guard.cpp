#include "common/fork_guard.hpp"

#include <pthread.h>

#include <algorithm>
#include <mutex>
#include <vector>

namespace htevents::inline v0::detail {
namespace {

// Leaked on purpose: a static's destructor could run while another thread still forks.
std::mutex& registry_mutex() {
  static auto* mutex = new std::mutex;
  return *mutex;
}
std::vector<ForkAware*>& clients() {
  static auto* list = new std::vector<ForkAware*>;
  return *list;
}

void prepare() noexcept {
  registry_mutex().lock();
  for (ForkAware* client : clients()) client->before_fork();
}
void in_parent() noexcept {
  for (ForkAware* client : clients()) client->after_fork_in_parent();
  registry_mutex().unlock();
}
void in_child() noexcept {
  for (ForkAware* client : clients()) client->after_fork_in_child();
  registry_mutex().unlock();
}

}  // namespace

void watch_fork(ForkAware* client) {
  static std::once_flag once;
  std::call_once(once, [] { pthread_atfork(prepare, in_parent, in_child); });
  std::lock_guard lock(registry_mutex());
  clients().push_back(client);
}

void unwatch_fork(ForkAware* client) noexcept {
  std::lock_guard lock(registry_mutex());
  std::erase(clients(), client);
}

}  // namespace htevents::inline v0::detail
