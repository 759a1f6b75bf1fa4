#pragma once

#include <boost/json.hpp>
#include <string>

#include "auth/auth.hpp"
#include "fakes.hpp"
#include "http/json.hpp"
#include "obs/metrics.hpp"
#include "order/handlers.hpp"
#include "order/tasks.hpp"

namespace emporium::order::testing {

// The order handlers on fakes: a catalogue with "mug" (9.99, 5 in stock)
// and "lamp" (25.00, 2 in stock), and empty carts.
struct Shop {
  Shop();

  obs::Registry metrics;
  FakeStore store;
  FakeProducts products;
  FakeCarts carts;
  Tasks tasks;
  int events_written = 0;
  Handlers handlers;

  // POST /api/orders as `who`, through the JSON-body adapter.
  http::Response place(const auth::Identity& who, const std::string& body,
                       const std::string& idempotency_key = {});
  // POST /api/orders for `who` with a valid address.
  http::Response place_for(const auth::Identity& who, const std::string& idempotency_key = {});
  http::Response get(const auth::Identity& who, const std::string& id);
  http::Response list(const auth::Identity& who, const std::string& user_id = {});
  http::Response set_status(const std::string& id, const std::string& body);
  http::Response cancel(const auth::Identity& who, const std::string& id);
};

auth::Identity customer(const std::string& id);
auth::Identity admin();
// A valid place-order body for `user_id`.
std::string order_body(const std::string& user_id);
boost::json::object body_of(const http::Response& res);

}  // namespace emporium::order::testing
