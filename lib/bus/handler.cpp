#include "bus/handler.hpp"

#include <exception>

namespace emporium::bus {

std::chrono::milliseconds RetryPolicy::backoff(int failed_attempts) const noexcept {
  auto delay = initial_backoff;
  for (int i = 1; i < failed_attempts && delay < max_backoff; ++i) {
    delay *= 2;
  }
  return delay < max_backoff ? delay : max_backoff;
}

std::optional<std::string> run_handler(const Handler& handler, const Event& event) noexcept {
  try {
    if (handler(event)) {
      return std::nullopt;
    }
    return std::string("handler returned false");
  } catch (const std::exception& e) {
    try {
      return std::string("handler threw: ") + e.what();
    } catch (...) {  // out of memory: still a failure
      return std::string();
    }
  } catch (...) {
    return std::string("handler threw a non-standard exception");
  }
}

}  // namespace emporium::bus
