#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "http/json.hpp"

namespace emporium::order {

// Order life cycle: pending -> processing -> shipped -> delivered, and
// pending|processing -> cancelled. Everything else is refused.
enum class Status { pending, processing, shipped, delivered, cancelled };

// The status named `text` as the API and the database spell it; nullopt for
// any other text.
std::optional<Status> parse_status(std::string_view text) noexcept;
std::string_view to_string(Status status) noexcept;
bool transition_allowed(Status from, Status to) noexcept;
// Whether stock goes back when an order moves to `to`.
bool releases_stock(Status to) noexcept;

// Where an order goes: each part 1 to 200 characters, trimmed.
struct Address {
  std::string street;
  std::string city;
  std::string state;
  std::string zip_code;
  std::string country;
};
// {"street","city","state","zipCode","country"}, in that order.
boost::json::object address_json(const Address& a);

// The body of POST /api/orders. `address` is read but judged only after the
// caller may act for `user_id` (the API answers 403 before 422): it holds the
// address, or a 422 naming every bad part as shippingAddress.<field>.
struct PlaceOrder {
  std::string user_id;
  http::Parsed<Address> address;
};
// {"userId": 1..64 chars, "shippingAddress": {...}}; 400 for a bad userId or
// an unknown member.
http::Parsed<PlaceOrder> read_place_order(const boost::json::object& body);

// The body of PUT /api/orders/{id}/status: {"status": one of the statuses};
// 400 otherwise.
http::Parsed<Status> read_status_change(const boost::json::object& body);

// One line of an order, at the price it was sold for.
struct Item {
  std::string product_id;
  std::string product_name;
  std::int64_t quantity = 0;
  std::int64_t price_cents = 0;
};

// The currency of an order whose reservation priced no line.
inline constexpr std::string_view kDefaultCurrency = "USD";

// The sum of price times quantity over `items`, in cents.
std::int64_t total_cents(const std::vector<Item>& items) noexcept;

}  // namespace emporium::order
