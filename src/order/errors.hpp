#pragma once

#include "http/problem.hpp"

namespace emporium::order {

// Every expected failure the order service answers.
enum class Error {
  foreign_user,          // 403: placing an order for someone else
  bad_idempotency_key,   // 400: Idempotency-Key empty or longer than 200
  cart_empty,            // 422: nothing to order
  out_of_stock,          // 409: a line the stock cannot cover (detail names it)
  reservation_expired,   // 503 + Retry-After: the stock went back before the order was stored
  orders_forbidden,      // 403: listing another user's orders
  not_found,             // 404: no such order
  order_forbidden,       // 403: another user's order
  transition_refused,    // 409: a status change the life cycle does not allow (detail names it)
  changed_concurrently,  // 409: the status changed while this change was made
};

using Failure = http::Failure<Error>;

// The one table: code -> status, title (the reason phrase) and `error` text.
const http::ErrorSpec& spec(Error code) noexcept;

// The answer for `failure`, with the headers its code calls for
// (Retry-After on a 503).
http::Response problem(const Failure& failure);

}  // namespace emporium::order
