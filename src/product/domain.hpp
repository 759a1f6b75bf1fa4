#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "http/json.hpp"
#include "http/message.hpp"
#include "svc/clients.hpp"

namespace emporium::product {

struct Product {
  std::string id;
  std::string name;
  std::string description;
  std::int64_t price_cents = 0;
  std::string currency = "USD";
  std::string category;
  std::int64_t stock = 0;
  std::optional<std::string> image_url;
  std::string created_at;
  std::string updated_at;
};

// A change to a product's image: absent (keep it), cleared (null) or a URL.
struct ImageChange {
  bool present = false;
  std::optional<std::string> url;  // meaningful when present; empty clears it
};

// Fields an admin may set. For PATCH only the present ones are set.
struct ProductInput {
  std::optional<std::string> name;
  std::optional<std::string> description;
  std::optional<std::int64_t> price_cents;
  std::optional<std::string> currency;
  std::optional<std::string> category;
  std::optional<std::int64_t> stock;
  ImageChange image_url;
};

enum class InputMode { create, replace, patch };

// Validates a request body. In create/replace mode name, price and category
// are required (description, currency, stock and imageUrl default to "",
// "USD", 0 and null); in patch mode at least one field must be present.
// Fails with a 400 Invalid, "Validation failed: <first field> <its message>",
// listing every invalid field.
http::Parsed<ProductInput> read_product_input(const boost::json::object& body, InputMode mode);

// The body readers of POST, PUT and PATCH /api/products (for http::with_body).
http::Parsed<ProductInput> read_new_product(const boost::json::object& body);
http::Parsed<ProductInput> read_product_replacement(const boost::json::object& body);
http::Parsed<ProductInput> read_product_patch(const boost::json::object& body);

// Applies `in` over `p` (the fields present in `in`).
void apply(const ProductInput& in, Product& p);

// A product as the public API shows it (price as a decimal number).
boost::json::object to_json(const Product& p);

// True for an absolute http(s) URL with a host, at most 2048 characters.
bool valid_image_url(std::string_view url);

enum class Sort { price_asc, price_desc, name_asc, newest };
// "price", "-price", "name", "-createdAt"; nothing for anything else.
std::optional<Sort> parse_sort(std::string_view s);

// The longest ?q a catalog search accepts.
constexpr std::size_t kMaxSearchLength = 200;

// A catalog page request: GET /api/products.
struct ListQuery {
  std::optional<std::string> category;
  std::optional<std::string> text;  // matched in name or description, case-insensitive
  std::optional<std::int64_t> min_cents;
  std::optional<std::int64_t> max_cents;
  Sort sort = Sort::newest;
  std::int64_t page = 1;
  std::int64_t limit = 20;
};

// Reads ?page, ?limit (as http::page_request), ?category, ?q (at most 200
// characters), ?minPrice and ?maxPrice (non-negative decimals, as cents) and
// ?sort. Empty values count as absent. Fails with every invalid parameter.
core::Result<ListQuery, std::vector<http::FieldError>> read_list_query(const http::Request& req);

// The most ids one internal lookup answers; further ids are ignored.
constexpr std::size_t kMaxLookupIds = 1000;

// POST /internal/products/lookup: {"ids": [...]}.
struct LookupInput {
  std::vector<std::string> ids;
};

// Takes the string members of "ids" (up to kMaxLookupIds); anything else in
// the body is ignored, so it never fails.
http::Parsed<LookupInput> read_lookup(const boost::json::object& body);

// POST /internal/stock/reservations: {"orderId", "items": [{productId, quantity}]}.
struct ReservationInput {
  std::string order_id;
  std::vector<svc::Line> lines;
};

// Requires orderId (1..64 characters) and a non-empty items array of
// {productId (1..64), quantity (1..1000000)}; the first bad item is reported
// under "items".
http::Parsed<ReservationInput> read_reservation(const boost::json::object& body);

// Each product of `lines` once, with its total quantity.
std::map<std::string, std::int64_t> merge_lines(const std::vector<svc::Line>& lines);

// Stock at or below this is low; a sale that crosses it announces stock.low.
constexpr std::int64_t kLowStockThreshold = 5;

// True when taking `taken` left `left` and the stock was above the low
// threshold before.
constexpr bool crossed_low_stock(std::int64_t left, std::int64_t taken) noexcept {
  return left <= kLowStockThreshold && left + taken > kLowStockThreshold;
}

}  // namespace emporium::product
