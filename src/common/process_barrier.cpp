#include "common/process_barrier.hpp"

#include <atomic>

#if defined(__linux__)
#include <linux/membarrier.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

namespace htevents::inline v0::detail {
namespace {

bool register_once() noexcept {
#if defined(__linux__) && defined(__NR_membarrier)
  long const commands = syscall(__NR_membarrier, MEMBARRIER_CMD_QUERY, 0, 0);
  if (commands < 0 || (commands & MEMBARRIER_CMD_PRIVATE_EXPEDITED) == 0) return false;
  return syscall(__NR_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) == 0;
#else
  return false;
#endif
}

}  // namespace

// Registers the process for expedited membarriers once, at load time.
bool const process_barrier_registered = register_once();

void heavy_barrier() noexcept {
#if defined(__linux__) && defined(__NR_membarrier)
  if (process_barrier_registered && syscall(__NR_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0) == 0) return;
#endif
  std::atomic_thread_fence(std::memory_order_seq_cst);
}

}  // namespace htevents::inline v0::detail
