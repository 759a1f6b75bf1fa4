#pragma once

#include <string_view>

namespace emporium::order {

// Order life cycle: pending -> processing -> shipped -> delivered, and
// pending|processing -> cancelled. Everything else is refused.
bool valid_status(std::string_view status) noexcept;
bool transition_allowed(std::string_view from, std::string_view to) noexcept;
// Whether stock goes back when an order moves to `to`.
inline bool releases_stock(std::string_view to) noexcept {
  return to == "cancelled";
}

}  // namespace emporium::order
