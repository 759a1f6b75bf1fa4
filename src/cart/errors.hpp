#pragma once

#include "http/problem.hpp"

namespace emporium::cart {

// Every expected failure the cart service answers (bad bodies excepted: those
// are the shared validation's 400 with the invalid fields).
enum class Error {
  not_owner,           // 403: the cart is another user's and the caller is no admin
  product_not_found,   // 404: the catalog has no such product
  item_not_in_cart,    // 404: the product is not in the cart
  too_many,            // 409: the line would pass kMaxQuantity
  insufficient_stock,  // 409: the line would pass the product's stock (detail names it)
};

// The one table: code -> status, title and `error` text.
const http::ErrorSpec& spec(Error code) noexcept;

}  // namespace emporium::cart
