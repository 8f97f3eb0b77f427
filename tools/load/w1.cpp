#include "load/w1.hpp"

#include <string>

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

void refill_w1_event(Track& event, W1Ids const& ids, std::uint64_t i) {
  event.user_id.assign(ids.user_id());
  // In place when `event` is W1's shape (Object::find, Value::get_if): no key or Value built.
  Value* const product = event.properties.find("product_id");
  if (std::string* text = product != nullptr ? product->get_if<std::string>() : nullptr) {
    text->assign(ids.product_id());
  } else {
    event.properties.set("product_id", std::string(ids.product_id()));
  }
  Value* const quantity = event.properties.find("quantity");
  if (std::uint64_t* number = quantity != nullptr ? quantity->get_if<std::uint64_t>() : nullptr) {
    *number = i % 10;
  } else {
    event.properties.set("quantity", i % 10);
  }
}

}  // namespace htevents::load
