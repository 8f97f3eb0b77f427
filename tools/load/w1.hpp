#pragma once
// The W1 workload of docs/benchmarks.md, one definition for the load command, the benchmarks and
// the tests: event i is track "Order completed" by "user-<i>" with properties total 29.99,
// currency "USD", product_id "sku-<i % 1000>", quantity i % 10 and coupon null.
// The htevents_w1 library (tools/load/CMakeLists.txt): the tools, tests and benchmarks link it.
// send_w1_fast stays inline here so that what a benchmark times is the SDK's fast path, not a
// call into this library.

#include <charconv>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "htevents/htevents.hpp"

namespace htevents::load {

/// "user-<i>" and "sku-<i % 1000>" formatted into stack buffers: W1's per-event strings without
/// allocating, as a careful caller of the fast path would. Does not allocate.
struct W1Ids {
  explicit W1Ids(std::uint64_t i) noexcept {
    std::memcpy(user, "user-", 5);
    user_len = static_cast<std::size_t>(std::to_chars(user + 5, user + sizeof user, i).ptr - user);
    std::memcpy(sku, "sku-", 4);
    sku_len = static_cast<std::size_t>(std::to_chars(sku + 4, sku + sizeof sku, i % 1000).ptr - sku);
  }
  [[nodiscard]] std::string_view user_id() const noexcept { return {user, user_len}; }
  [[nodiscard]] std::string_view product_id() const noexcept { return {sku, sku_len}; }

  char user[32];
  char sku[16];
  std::size_t user_len;
  std::size_t sku_len;
};

/// W1 event i through the fast path (client.track(...)...send()). Allocates nothing itself;
/// thread-safe as Client::track is.
[[nodiscard]] inline Status send_w1_fast(Client& client, std::uint64_t i) noexcept {
  W1Ids const ids(i);
  return client.track("Order completed")
      .user_id(ids.user_id())
      .property("total", 29.99)
      .property("currency", "USD")
      .property("product_id", ids.product_id())
      .property("quantity", i % 10)
      .property("coupon", nullptr)
      .send();
}

/// W1 event i as a struct for Client::enqueue. Allocates (strings, properties).
[[nodiscard]] Track w1_event(std::uint64_t i);

}  // namespace htevents::load
