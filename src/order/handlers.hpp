#pragma once

#include <functional>
#include <optional>
#include <string>

#include "auth/auth.hpp"
#include "core/result.hpp"
#include "http/message.hpp"
#include "obs/metrics.hpp"
#include "order/domain.hpp"
#include "order/errors.hpp"
#include "order/peers.hpp"
#include "order/store.hpp"
#include "order/tasks.hpp"

namespace emporium::order {

// The order API: request (+ identity, + typed input) -> response. Stock is
// reserved through `products`, carts read and emptied through `carts`, and
// follow-up work (emptying the cart, giving stock back) goes through `tasks`,
// tried inline first and retried by the runner when that fails.
class Handlers {
 public:
  struct Hooks {
    obs::Counter& orders_placed;
    // Called after a commit that added outbox events.
    std::function<void()> events_written;
  };

  Handlers(Store& store, Products& products, Carts& carts, Tasks& tasks, Hooks hooks)
      : store_(store),
        products_(products),
        carts_(carts),
        tasks_(tasks),
        hooks_(std::move(hooks)) {}

  // POST /api/orders: the buyer's cart becomes an order (201 with Location),
  // or the same order again for a repeated Idempotency-Key (201 with
  // Idempotent-Replayed: true).
  http::Response place(const http::Request& req, const auth::Identity& who, PlaceOrder in);
  // GET /api/orders (?userId, ?page, ?limit)
  http::Response list(const http::Request& req, const auth::Identity& who);
  // GET /api/orders/{id}
  http::Response get(const http::Request& req, const auth::Identity& who);
  // PUT /api/orders/{id}/status (admins)
  http::Response set_status(const http::Request& req, Status to);
  // DELETE /api/orders/{id}: cancels it (stock goes back).
  http::Response cancel(const http::Request& req, const auth::Identity& who);

 private:
  // The stock for `cart`, taken under an insurance task that gives it back
  // should the order not be stored in time.
  struct Reservation {
    Task insurance;
    std::vector<svc::ReservedLine> lines;
  };

  // The earlier answer for `key`, if that order exists.
  std::optional<http::Response> replay(const std::string& user_id,
                                       const std::optional<std::string>& key);
  core::Result<Reservation, Failure> reserve(const std::string& order_id,
                                             const std::vector<svc::Line>& cart,
                                             const std::string& request_id);
  // Stores `order` with its event and the clear-cart task; gives the stock
  // back when it is not stored (unless the insurance did already).
  core::Result<void, PlaceConflict> store(const Order& order, const std::optional<std::string>& key,
                                          const Task& insurance, const Task& take_from_cart,
                                          const std::string& request_id);
  // The answer when `order` was not stored: the winner's order for a lost
  // Idempotency-Key race, 503 for an expired reservation.
  http::Response not_stored(PlaceConflict why, const Order& order,
                            const std::optional<std::string>& key, const http::Request& req);
  // After the commit: counts and logs the order, tries to empty the cart, and
  // answers 201 from what was stored.
  http::Response placed(const Order& order, const Task& take_from_cart, const http::Request& req);
  http::Response transition(const std::string& id, Status to, const http::Request& req,
                            const auth::Identity* owner);

  Store& store_;
  Products& products_;
  Carts& carts_;
  Tasks& tasks_;
  Hooks hooks_;
};

}  // namespace emporium::order
