#include "cart/domain.hpp"

#include <string>

namespace emporium::cart {

http::Parsed<AddItem> read_add_item(const boost::json::object& body) {
  http::Fields f(body, {"productId", "quantity"});
  auto product_id = f.string("productId", 1, 64);
  auto quantity = f.integer("quantity", 1, kMaxQuantity);
  if (!f.ok()) {
    return core::fail(f.invalid());
  }
  return AddItem{.product_id = std::move(*product_id), .quantity = *quantity};
}

http::Parsed<SetQuantity> read_set_quantity(const boost::json::object& body) {
  http::Fields f(body, {"quantity"});
  auto quantity = f.integer("quantity", 0, kMaxQuantity);
  if (!f.ok()) {
    return core::fail(f.invalid());
  }
  return SetQuantity{.quantity = *quantity};
}

http::Parsed<Checkout> read_checkout(const boost::json::object& body) {
  http::Fields f(body, {"orderId", "items"});
  auto order_id = f.string("orderId", 1, 64);
  Checkout out;
  const auto* items = body.if_contains("items");
  if (items == nullptr || !items->is_array() || items->as_array().empty() ||
      items->as_array().size() > 1000) {
    f.add_error("items", "Must be an array of 1 to 1000 lines");
  } else {
    for (const auto& item : items->as_array()) {
      auto line = item.is_object() ? read_add_item(item.as_object()) : core::fail(http::Invalid{});
      if (!line) {
        f.add_error("items", "Each line needs productId and quantity");
        break;
      }
      out.lines.push_back(Line{std::move(line->product_id), line->quantity});
    }
  }
  if (!f.ok()) {
    return core::fail(f.invalid());
  }
  out.order_id = std::move(*order_id);
  return out;
}

std::optional<std::int64_t> left_after_checkout(std::int64_t have, std::int64_t bought) noexcept {
  return have > bought ? std::optional<std::int64_t>(have - bought) : std::nullopt;
}

Outcome check_stock(std::int64_t quantity, const svc::ProductSummary& product) {
  if (quantity > product.stock) {
    return core::fail(http::Failure<Error>{.code = Error::insufficient_stock,
                                           .detail = "Insufficient stock for " + product.name +
                                                     ": " + std::to_string(product.stock) +
                                                     " available"});
  }
  return {};
}

core::Result<std::int64_t, http::Failure<Error>> quantity_after_add(
    std::int64_t have, std::int64_t added, const svc::ProductSummary& product) {
  const std::int64_t want = have + added;
  if (want > kMaxQuantity) {
    return core::fail(http::Failure<Error>{.code = Error::too_many});
  }
  if (auto stocked = check_stock(want, product); !stocked) {
    return core::fail(std::move(stocked).error());
  }
  return want;
}

PricedCart price(const std::vector<Line>& lines,
                 const std::map<std::string, svc::ProductSummary>& products) {
  PricedCart out;
  for (const auto& l : lines) {
    const auto it = products.find(l.product_id);
    if (it == products.end()) {
      continue;
    }
    const auto subtotal = it->second.price_cents * l.quantity;
    out.total_cents += subtotal;
    out.lines.push_back({.product_id = l.product_id,
                         .name = it->second.name,
                         .price_cents = it->second.price_cents,
                         .quantity = l.quantity,
                         .subtotal_cents = subtotal});
  }
  return out;
}

}  // namespace emporium::cart
