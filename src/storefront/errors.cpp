#include "storefront/errors.hpp"

namespace emporium::storefront {

const http::ErrorSpec& spec(Error code) noexcept {
  static constexpr http::ErrorSpec kNotFound{404, {}, "Not found"};
  static constexpr http::ErrorSpec kMethod{405, {}, "Method not allowed"};
  return code == Error::not_found ? kNotFound : kMethod;
}

}  // namespace emporium::storefront
