#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "cart/errors.hpp"
#include "core/result.hpp"
#include "http/json.hpp"
#include "svc/clients.hpp"

namespace emporium::cart {

// The most of one product a cart holds.
inline constexpr std::int64_t kMaxQuantity = 1000;

// One product in a cart and how many of it.
struct Line {
  std::string product_id;
  std::int64_t quantity = 0;
};

// The body of POST /api/cart/{userId}/items.
struct AddItem {
  std::string product_id;     // 1 to 64 characters
  std::int64_t quantity = 0;  // 1 to kMaxQuantity
};

// The body of PUT /api/cart/{userId}/items/{productId}.
struct SetQuantity {
  std::int64_t quantity = 0;  // 0 (remove) to kMaxQuantity
};

// Reads {"productId","quantity"}; 400 naming every missing, mistyped, out of
// range or unknown field.
http::Parsed<AddItem> read_add_item(const boost::json::object& body);

// Reads {"quantity"}; 400 as read_add_item.
http::Parsed<SetQuantity> read_set_quantity(const boost::json::object& body);

// The body of POST /internal/carts/{userId}/checkouts: an order and the
// lines it bought, to take out of the cart.
struct Checkout {
  std::string order_id;     // 1 to 64 characters
  std::vector<Line> lines;  // 1 to 1000, each quantity 1 to kMaxQuantity
};
http::Parsed<Checkout> read_checkout(const boost::json::object& body);

// What is left of a line holding `have` once an order took `bought`: nullopt
// when nothing is.
std::optional<std::int64_t> left_after_checkout(std::int64_t have, std::int64_t bought) noexcept;

// The result of a cart rule: nothing, or the failure to answer.
using Outcome = core::Result<void, http::Failure<Error>>;

// Fails with insufficient_stock ("Insufficient stock for <name>: <stock>
// available") when `quantity` is more than `product` has in stock.
Outcome check_stock(std::int64_t quantity, const svc::ProductSummary& product);

// The line's quantity once `added` more join the `have` already in the cart.
// Fails with too_many past kMaxQuantity, else as check_stock.
core::Result<std::int64_t, http::Failure<Error>> quantity_after_add(
    std::int64_t have, std::int64_t added, const svc::ProductSummary& product);

// A cart line with the catalog's name and price.
struct PricedLine {
  std::string product_id;
  std::string name;
  std::int64_t price_cents = 0;
  std::int64_t quantity = 0;
  std::int64_t subtotal_cents = 0;  // price_cents * quantity
};

// A cart as clients see it: its priced lines in order and their total.
struct PricedCart {
  std::vector<PricedLine> lines;
  std::int64_t total_cents = 0;
};

// Prices `lines` from `products` (keyed by id). A line whose product is no
// longer in the catalog is left out, and counts nothing towards the total.
PricedCart price(const std::vector<Line>& lines,
                 const std::map<std::string, svc::ProductSummary>& products);

}  // namespace emporium::cart
