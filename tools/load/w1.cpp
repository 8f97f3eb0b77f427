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
  event.properties.set("product_id", std::string(ids.product_id()));
  event.properties.set("quantity", i % 10);
}

}  // namespace htevents::load
