#include "load/w1.hpp"

#include <string>
#include <string_view>

namespace htevents::load {

Track w1_event(std::uint64_t i) {
  return Track{.user_id = "user-" + std::to_string(i),
               .event = "Order completed",
               .properties = {{"total", 29.99},
                              {"currency", "USD"},
                              {"product_id", "sku-" + std::to_string(i % 1000)},
                              {"quantity", i % 10},
                              {"coupon", nullptr}}};
}

namespace {

// The property `key` of `event` as a T, set (to T{}) first when it is missing or holds another
// type: a Track not of w1_event's shape still ends up with W1's fields.
template <class T>
T& w1_property(Track& event, std::string_view key) {
  Value* value = event.properties.find(key);
  if (value == nullptr || value->get_if<T>() == nullptr) {
    event.properties.set(std::string(key), T{});
    value = event.properties.find(key);
  }
  return *value->get_if<T>();
}

}  // namespace

// Both found before either is kept: a set() for the second could move the first.
W1Refill::W1Refill(Track& event) : event_(event), product_id_(nullptr), quantity_(nullptr) {
  (void)w1_property<std::string>(event, "product_id");
  (void)w1_property<std::uint64_t>(event, "quantity");
  product_id_ = &w1_property<std::string>(event, "product_id");
  quantity_ = &w1_property<std::uint64_t>(event, "quantity");
}

void W1Refill::operator()(W1Ids const& ids) {
  event_.user_id.assign(ids.user_id());
  product_id_->assign(ids.product_id());
  *quantity_ = ids.quantity;
}

}  // namespace htevents::load
