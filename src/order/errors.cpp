#include "order/errors.hpp"

#include <array>
#include <utility>

namespace emporium::order {

namespace {

constexpr std::array<std::pair<Error, http::ErrorSpec>, 10> kTable{{
    {Error::foreign_user, {403, {}, "Cannot place an order for another user"}},
    {Error::bad_idempotency_key, {400, {}, "Idempotency-Key must be 1 to 200 characters"}},
    {Error::cart_empty, {422, {}, "Cart is empty"}},
    {Error::out_of_stock, {409, {}, "Insufficient stock"}},
    {Error::reservation_expired, {503, {}, "Service temporarily unavailable"}},
    {Error::orders_forbidden, {403, {}, "Access denied to these orders"}},
    {Error::not_found, {404, {}, "Order not found"}},
    {Error::order_forbidden, {403, {}, "Access denied to this order"}},
    {Error::transition_refused, {409, {}, "Cannot change the order's status"}},
    {Error::changed_concurrently, {409, {}, "Order changed concurrently; try again"}},
}};

constexpr http::ErrorSpec kUnknown{500, {}, "Internal server error"};

}  // namespace

const http::ErrorSpec& spec(Error code) noexcept {
  for (const auto& [c, s] : kTable) {
    if (c == code) {
      return s;
    }
  }
  return kUnknown;
}

http::Response problem(const Failure& failure) {
  auto res = http::problem(failure);
  if (res.status == 503) {
    res.headers.set("Retry-After", "1");
  }
  return res;
}

}  // namespace emporium::order
