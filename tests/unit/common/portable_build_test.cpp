// Which implementation each platform fast path uses in this build: the HTEVENTS_PORTABLE build
// (docs/platforms.md) must run every fallback, and the default x86-64 build the fast paths.

#include <gtest/gtest.h>

#include <chrono>
#include <string_view>

#include "common/fast_clock.hpp"
#include "common/process_barrier.hpp"
#include "htevents/htevents.hpp"
#include "message/sse2.hpp"
#include "spool/crc32c.hpp"
#include "spool/format.hpp"

namespace htevents::inline v0::detail {
namespace {

#if defined(HTEVENTS_PORTABLE)
constexpr bool portable = true;
#else
constexpr bool portable = false;
#endif
#if defined(__x86_64__)
constexpr bool x86_64 = true;
#else
constexpr bool x86_64 = false;
#endif

TEST(PortableBuild, ClockIsTheSystemClockOrTheTsc) {
  if (portable || !x86_64) {
    EXPECT_EQ(fast_clock_source(), "system_clock");
  } else {
    EXPECT_EQ(fast_clock_source(), "tsc");
  }
  auto const before = std::chrono::system_clock::now();
  auto const now = fast_now();
  EXPECT_LE(before - std::chrono::milliseconds(5), now);
}

TEST(PortableBuild, StringScanningIsScalarOrSse2) { EXPECT_EQ(HTEVENTS_JSON_SSE2 != 0, !portable && x86_64); }

TEST(PortableBuild, Crc32cIsTheTableOrHardware) {
  if (portable) {
    EXPECT_EQ(spool::crc32c_implementation(), "table");
  }
  EXPECT_EQ(spool::crc32c("123456789", 9), 0xE3069283U);  // the CRC-32C check value
}

TEST(PortableBuild, BarrierIsFencesOnBothSidesWithoutMembarrier) {
  Config config;
  config.endpoint = "http://127.0.0.1:1";
  Client client("key", config);
  if (portable) {
    EXPECT_FALSE(process_barrier_registered.load());
  }
  light_barrier();
  heavy_barrier();
  client.close(std::chrono::milliseconds(0));
}

}  // namespace
}  // namespace htevents::inline v0::detail
