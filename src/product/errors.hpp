#pragma once

#include "http/problem.hpp"

namespace emporium::product {

// Every expected failure the product service answers (bad input is the
// shared http::Invalid 400 of the body readers and the list query).
enum class Error {
  product_not_found,   // 404: no product with the id in the path
  unknown_product,     // 409: a reservation names a product that does not exist
  insufficient_stock,  // 409: a reservation wants more than a product's stock
};

// The one table: code -> status, title and `error` text.
const http::ErrorSpec& spec(Error code) noexcept;

}  // namespace emporium::product
