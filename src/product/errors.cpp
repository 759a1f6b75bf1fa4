#include "product/errors.hpp"

namespace emporium::product {

const http::ErrorSpec& spec(Error code) noexcept {
  static constexpr http::ErrorSpec kNotFound{404, {}, "Product not found"};
  static constexpr http::ErrorSpec kUnknownProduct{409, {}, "Product not found"};
  static constexpr http::ErrorSpec kInsufficientStock{409, {}, "Insufficient stock"};
  switch (code) {
    case Error::product_not_found:
      return kNotFound;
    case Error::unknown_product:
      return kUnknownProduct;
    case Error::insufficient_stock:
      return kInsufficientStock;
  }
  return kNotFound;
}

}  // namespace emporium::product
