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

/// "user-<i>" and "sku-<i % 1000>" formatted into stack buffers, and the quantity i % 10: W1's
/// per-event values without allocating, as a careful caller of the fast path would. Does not
/// allocate.
struct W1Ids {
  explicit W1Ids(std::uint64_t i) noexcept {
    std::memcpy(user, "user-", 5);
    user_len = static_cast<std::size_t>(std::to_chars(user + 5, user + sizeof user, i).ptr - user);
    std::memcpy(sku, "sku-", 4);
    sku_len = static_cast<std::size_t>(std::to_chars(sku + 4, sku + sizeof sku, i % 1000).ptr - sku);
    quantity = i % 10;
  }
  [[nodiscard]] std::string_view user_id() const noexcept { return {user, user_len}; }
  [[nodiscard]] std::string_view product_id() const noexcept { return {sku, sku_len}; }

  char user[32];
  char sku[16];
  std::size_t user_len;
  std::size_t sku_len;
  std::uint64_t quantity;
};

/// W1Ids for events first, first + 1, ...: the ids' text stepped by one in place (a carry
/// through the decimal digits) and the quantity counted round, rather than formatted and divided
/// from scratch, as a caller numbering its events in sequence would. The same as W1Ids(index()).
/// Does not allocate.
class W1Sequence {
 public:
  explicit W1Sequence(std::uint64_t first) noexcept : ids_(first), index_(first), sku_number_(first % 1000) {}
  [[nodiscard]] W1Ids const& ids() const noexcept { return ids_; }
  [[nodiscard]] std::uint64_t index() const noexcept { return index_; }
  void advance() noexcept {
    ++index_;
    if (++ids_.quantity == 10) ids_.quantity = 0;
    step(ids_.user, ids_.user_len, 5);
    if (++sku_number_ == 1000) {
      sku_number_ = 0;
      ids_.sku[4] = '0';
      ids_.sku_len = 5;
    } else {
      step(ids_.sku, ids_.sku_len, 4);
    }
  }

 private:
  // Adds one to the decimal digits text[first, len): nines roll over to zeros, and a carry out
  // of the first digit shifts them right for a leading '1' (user-99 -> user-100).
  static void step(char* text, std::size_t& len, std::size_t first) noexcept {
    std::size_t d = len;
    while (d > first && text[d - 1] == '9') text[--d] = '0';
    if (d > first) {
      ++text[d - 1];
      return;
    }
    std::memmove(text + first + 1, text + first, len - first);
    text[first] = '1';
    ++len;
  }

  W1Ids ids_;
  std::uint64_t index_;
  std::uint64_t sku_number_;  // index_ % 1000
};

/// W1 event i through the fast path (client.track(...)...send()), with its values already
/// made (`ids` holds W1Ids(i)). Allocates nothing itself; thread-safe as Client::track is.
[[nodiscard]] inline Status send_w1_fast(Client& client, W1Ids const& ids) noexcept {
  return client.track("Order completed")
      .user_id(ids.user_id())
      .property("total", 29.99)
      .property("currency", "USD")
      .property("product_id", ids.product_id())
      .property("quantity", ids.quantity)
      .property("coupon", nullptr)
      .send();
}

/// W1 event i through the fast path, formatting its ids first.
[[nodiscard]] inline Status send_w1_fast(Client& client, std::uint64_t i) noexcept {
  return send_w1_fast(client, W1Ids(i));
}

/// W1 event i as a struct for Client::enqueue. Allocates (strings, properties).
[[nodiscard]] Track w1_event(std::uint64_t i);

/// Turns one Track, a W1 event as w1_event made it, into W1 event i (`ids` holds W1Ids(i)) in
/// place, as a caller reusing one struct per thread would: it finds the two
/// properties that change once (Object::find, Value::get_if), then each refill assigns the
/// fields that differ into their own storage, with no key search and no Value built. Allocates
/// nothing once the event has held ids as long. The event must outlive it and keep its
/// properties (no set or erase on them in between: the pointers would dangle).
class W1Refill {
 public:
  explicit W1Refill(Track& event);
  void operator()(W1Ids const& ids);

 private:
  Track& event_;
  std::string* product_id_;
  std::uint64_t* quantity_;
};

}  // namespace htevents::load
