#pragma once
// A cheap monotonic counter for timing single enqueue calls: two clock_gettime calls per event
// would cost more than a third of the call being measured. The TSC on x86, the virtual counter on
// aarch64, steady_clock's count elsewhere and in the HTEVENTS_PORTABLE build. Callers convert to
// nanoseconds with a rate measured against steady_clock over the whole run.

#include <chrono>
#include <cstdint>

#if !defined(HTEVENTS_PORTABLE) && (defined(__x86_64__) || defined(__i386__))
#include <x86intrin.h>
#endif

namespace htevents::cli {

inline std::uint64_t ticks() noexcept {
#if !defined(HTEVENTS_PORTABLE) && (defined(__x86_64__) || defined(__i386__))
  return __rdtsc();
#elif !defined(HTEVENTS_PORTABLE) && defined(__aarch64__) && (defined(__GNUC__) || defined(__clang__))
  std::uint64_t value;
  asm volatile("mrs %0, cntvct_el0" : "=r"(value));
  return value;
#else
  return static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
#endif
}

}  // namespace htevents::cli
