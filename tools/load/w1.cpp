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

}  // namespace htevents::load
