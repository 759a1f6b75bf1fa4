#include "order/domain.hpp"

namespace emporium::order {

bool valid_status(std::string_view s) noexcept {
  return s == "pending" || s == "processing" || s == "shipped" || s == "delivered" ||
         s == "cancelled";
}

bool transition_allowed(std::string_view from, std::string_view to) noexcept {
  return (from == "pending" && (to == "processing" || to == "cancelled")) ||
         (from == "processing" && (to == "shipped" || to == "cancelled")) ||
         (from == "shipped" && to == "delivered");
}

}  // namespace emporium::order
