#pragma once

#include "http/problem.hpp"

namespace emporium::gateway {

// What the gateway itself answers; everything else is the upstream's answer.
enum class Error {
  upstream_unavailable,  // 503: no answer (connect failed, breaker open)
  upstream_timeout,      // 504: no answer within the deadline
};

// The one table: code -> status, title and `error` text.
const http::ErrorSpec& spec(Error code) noexcept;

}  // namespace emporium::gateway
