#include "cart/errors.hpp"

namespace emporium::cart {

const http::ErrorSpec& spec(Error code) noexcept {
  static constexpr http::ErrorSpec kNotOwner{403, {}, "Access denied to this cart"};
  static constexpr http::ErrorSpec kProductNotFound{404, {}, "Product not found"};
  static constexpr http::ErrorSpec kItemNotInCart{404, {}, "Item not in cart"};
  static constexpr http::ErrorSpec kTooMany{409, {}, "At most 1000 of a product fit in the cart"};
  static constexpr http::ErrorSpec kInsufficientStock{409, {}, "Insufficient stock"};
  static constexpr http::ErrorSpec kUnknown{500, {}, {}};
  switch (code) {
    case Error::not_owner:
      return kNotOwner;
    case Error::product_not_found:
      return kProductNotFound;
    case Error::item_not_in_cart:
      return kItemNotInCart;
    case Error::too_many:
      return kTooMany;
    case Error::insufficient_stock:
      return kInsufficientStock;
  }
  return kUnknown;
}

}  // namespace emporium::cart
