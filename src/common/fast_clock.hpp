#pragma once
// A cheaper system_clock::now() for message timestamps on the hot path.

#include <chrono>
#include <cstdint>
#include <string_view>

// HTEVENTS_PORTABLE (CMake option): the plain clock, as on every target without a TSC.
#if !defined(HTEVENTS_PORTABLE) && (defined(__x86_64__) || defined(__i386__))
#include <x86intrin.h>
#define HTEVENTS_HAVE_TSC 1
#else
#define HTEVENTS_HAVE_TSC 0
#endif

namespace htevents::inline v0::detail {

// The wall-clock time, within a few microseconds of system_clock::now() at well under half its
// cost on x86 (a TSC read and a multiply instead of a clock_gettime call, 13 vs 30 ns here).
// Each thread re-anchors on the real clock after ~1 ms of ticks, so drift never accumulates and
// a wall-clock step shows within a millisecond. Thread-safe; never allocates.
std::chrono::system_clock::time_point fast_now() noexcept;

// The counter fast_now() reads between anchors (the TSC); 0 where there is none.
inline std::uint64_t fast_clock_ticks() noexcept {
#if HTEVENTS_HAVE_TSC
  return __rdtsc();
#else
  return 0;
#endif
}

// Nanoseconds per fast_clock_ticks() tick as this thread's last fast_now() used it; 0 until the
// rate is calibrated (the first ~10 ms of the process) and where there is no TSC.
double fast_clock_ns_per_tick() noexcept;

// What fast_now() reads between anchors: "tsc", or "system_clock" (no TSC on the target, or the
// HTEVENTS_PORTABLE build: every call is system_clock::now()). For tests and diagnostics.
std::string_view fast_clock_source() noexcept;

}  // namespace htevents::inline v0::detail
