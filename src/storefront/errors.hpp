#pragma once

#include "http/problem.hpp"

namespace emporium::storefront {

// What the storefront answers besides its files.
enum class Error {
  not_found,           // 404: an /api path no route took, or a file not in the build
  method_not_allowed,  // 405: anything but GET and HEAD
};

// The one table: code -> status, title and `error` text.
const http::ErrorSpec& spec(Error code) noexcept;

}  // namespace emporium::storefront
