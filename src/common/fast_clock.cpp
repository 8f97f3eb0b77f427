#include "common/fast_clock.hpp"

#include <atomic>
#include <cstdint>

namespace htevents::inline v0::detail {

#if HTEVENTS_HAVE_TSC
namespace {

using std::chrono::system_clock;

std::int64_t wall_ns() noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(system_clock::now().time_since_epoch()).count();
}

// Process-wide TSC rate, measured between the first slow call and one >= 10 ms later. Until
// then every call takes the slow path, which is exactly system_clock::now().
struct Calibration {
  std::atomic<std::uint64_t> start_tsc{0};
  std::atomic<std::int64_t> start_ns{0};
  std::atomic<double> ns_per_tick{0.0};
};
Calibration calibration;

double calibrate(std::uint64_t tsc, std::int64_t ns) noexcept {
  double rate = calibration.ns_per_tick.load(std::memory_order_acquire);
  if (rate > 0) return rate;
  std::uint64_t expected = 0;
  if (calibration.start_tsc.compare_exchange_strong(expected, tsc, std::memory_order_acq_rel)) {
    calibration.start_ns.store(ns, std::memory_order_release);
    return 0;
  }
  std::int64_t const start_ns = calibration.start_ns.load(std::memory_order_acquire);
  if (start_ns == 0 || ns - start_ns < 10'000'000 || tsc <= expected) return 0;
  rate = static_cast<double>(ns - start_ns) / static_cast<double>(tsc - expected);
  // A rate far from any real TSC (0.1-10 GHz) means the counter is unusable: keep the slow path.
  if (rate < 0.1 || rate > 10.0) return 0;
  calibration.ns_per_tick.store(rate, std::memory_order_release);
  return rate;
}

struct Anchor {
  std::uint64_t tsc = 0;
  std::int64_t ns = 0;
  std::uint64_t span = 0;  // ticks the anchor stays good for; 0 until calibrated
  double rate = 0;
};
thread_local Anchor anchor;

}  // namespace

system_clock::time_point fast_now() noexcept {
  Anchor& a = anchor;
  std::uint64_t const tsc = __rdtsc();
  std::uint64_t const elapsed = tsc - a.tsc;  // a TSC going backwards wraps: slow path
  if (elapsed < a.span) {
    auto const ns = a.ns + static_cast<std::int64_t>(static_cast<double>(elapsed) * a.rate);
    return system_clock::time_point(std::chrono::duration_cast<system_clock::duration>(std::chrono::nanoseconds(ns)));
  }
  std::int64_t const ns = wall_ns();
  a.tsc = __rdtsc();
  a.ns = ns;
  a.rate = calibrate(a.tsc, ns);
  a.span = a.rate > 0 ? static_cast<std::uint64_t>(1'000'000.0 / a.rate) : 0;  // ~1 ms
  return system_clock::time_point(std::chrono::duration_cast<system_clock::duration>(std::chrono::nanoseconds(ns)));
}

double fast_clock_ns_per_tick() noexcept { return anchor.span > 0 ? anchor.rate : 0.0; }
#else
std::chrono::system_clock::time_point fast_now() noexcept { return std::chrono::system_clock::now(); }

double fast_clock_ns_per_tick() noexcept { return 0.0; }
#endif

std::string_view fast_clock_source() noexcept { return HTEVENTS_HAVE_TSC ? "tsc" : "system_clock"; }

}  // namespace htevents::inline v0::detail
