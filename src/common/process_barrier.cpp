#include "common/process_barrier.hpp"

#include <atomic>
#include <cerrno>
#include <mutex>

#if defined(__linux__) && !defined(HTEVENTS_PORTABLE)
#include <sys/syscall.h>
#include <unistd.h>
#if defined(__NR_membarrier)
#define HTEVENTS_HAVE_MEMBARRIER 1
#endif
#endif

namespace htevents::inline v0::detail {

std::atomic<bool> process_barrier_registered{false};

#if defined(HTEVENTS_HAVE_MEMBARRIER)
namespace {

// The kernel ABI's command numbers (include/uapi/linux/membarrier.h), spelled out so that the
// library builds against kernel headers older than the expedited commands (4.14) and runs on
// kernels that lack them (QUERY then says so).
constexpr int cmd_query = 0;
constexpr int cmd_global = 1 << 0;  // every thread of every process: slow, needs no registration
constexpr int cmd_private_expedited = 1 << 3;
constexpr int cmd_register_private_expedited = 1 << 4;

long membarrier(int command) noexcept { return syscall(__NR_membarrier, command, 0, 0); }

bool register_private_expedited() noexcept {
  long const commands = membarrier(cmd_query);
  if (commands < 0 || (commands & cmd_private_expedited) == 0) return false;
  return membarrier(cmd_register_private_expedited) == 0;
}

}  // namespace

void register_process_barrier() noexcept {
  static std::once_flag once;
  std::call_once(once, [] {
    if (register_private_expedited()) process_barrier_registered.store(true, std::memory_order_seq_cst);
  });
}

void heavy_barrier() noexcept {
  if (process_barrier_registered.load(std::memory_order_acquire)) {
    if (membarrier(cmd_private_expedited) == 0) return;
    // Registered, and now refused: registration lost (EPERM) or the call filtered. From here on
    // light sides use real fences; the ones already past their compiler barrier are ordered by
    // the fallbacks below, which need no registration.
    if (errno == EPERM && membarrier(cmd_register_private_expedited) == 0 && membarrier(cmd_private_expedited) == 0) {
      return;
    }
    process_barrier_registered.store(false, std::memory_order_seq_cst);
    if (membarrier(cmd_global) == 0) return;
  }
  std::atomic_thread_fence(std::memory_order_seq_cst);
}

#else

void register_process_barrier() noexcept {}

void heavy_barrier() noexcept { std::atomic_thread_fence(std::memory_order_seq_cst); }

#endif

}  // namespace htevents::inline v0::detail
