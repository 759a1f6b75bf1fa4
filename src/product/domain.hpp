#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "http/problem.hpp"

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

// Fields an admin may set. For PATCH only the present ones are set.
struct ProductInput {
  std::optional<std::string> name;
  std::optional<std::string> description;
  std::optional<std::int64_t> price_cents;
  std::optional<std::string> currency;
  std::optional<std::string> category;
  std::optional<std::int64_t> stock;
  std::optional<std::optional<std::string>> image_url;  // set to null clears it
};

enum class InputMode { create, replace, patch };

// Validates a request body. In create/replace mode name, price and category
// are required; in patch mode at least one field must be present. Errors are
// appended to `errors`.
ProductInput read_product_input(const boost::json::object& body, InputMode mode,
                                std::vector<http::FieldError>& errors);

// Applies `in` over `p` (the fields present in `in`).
void apply(const ProductInput& in, Product& p);

boost::json::object to_json(const Product& p);

// True for an absolute http(s) URL with a host.
bool valid_image_url(std::string_view url);

enum class Sort { price_asc, price_desc, name_asc, newest };
std::optional<Sort> parse_sort(std::string_view s);

}  // namespace emporium::product
