#pragma once

#include <string>
#include <variant>
#include <vector>

#include "svc/clients.hpp"

namespace emporium::order {

// The product service as the order service uses it: svc::ProductApi in
// production, a fake in tests. Failures to get an answer throw core::Error.
class Products {
 public:
  virtual ~Products() = default;
  // Takes stock for every line at once, or none. Idempotent per order id.
  virtual std::variant<std::vector<svc::ReservedLine>, svc::Shortage> reserve(
      const std::string& order_id, const std::vector<svc::Line>& lines,
      const std::string& request_id) = 0;
  // Returns an order's reserved stock. Idempotent: stock comes back once.
  virtual void release(const std::string& order_id, const std::string& request_id) = 0;
};

// The cart service as the order service uses it (svc::CartApi in production).
class Carts {
 public:
  virtual ~Carts() = default;
  virtual std::vector<svc::Line> items(const std::string& user_id,
                                       const std::string& request_id) = 0;
  // Empties the cart. Idempotent.
  virtual void clear(const std::string& user_id, const std::string& request_id) = 0;
  // Takes what order `order_id` bought out of its user's cart, leaving what
  // was added since. Idempotent: once per order id.
  virtual void remove_bought(const std::string& user_id, const std::string& order_id,
                             const std::vector<svc::Line>& lines,
                             const std::string& request_id) = 0;
};

}  // namespace emporium::order
