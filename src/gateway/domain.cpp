#include "gateway/domain.hpp"

#include "http/message.hpp"

namespace emporium::gateway {

namespace {

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && s.substr(0, prefix.size()) == prefix;
}

}  // namespace

bool requires_auth(std::string_view method, std::string_view path) {
  if (starts_with(path, "/api/cart") || starts_with(path, "/api/orders")) {
    return true;
  }
  if (starts_with(path, "/api/products")) {
    return method != "GET" && method != "HEAD";
  }
  if (starts_with(path, "/api/users")) {
    for (std::string_view open :
         {"/api/users/register", "/api/users/login", "/api/users/refresh", "/api/users/logout"}) {
      if (path == open || (path.size() == open.size() + 1 && starts_with(path, open))) {
        return false;
      }
    }
    return true;
  }
  return false;
}

bool hop_by_hop(std::string_view name) {
  for (std::string_view h : {"Connection", "Keep-Alive", "Transfer-Encoding", "Content-Length",
                             "Date", "TE", "Trailer", "Upgrade", "Proxy-Connection"}) {
    if (http::iequals(name, h)) {
      return true;
    }
  }
  return false;
}

}  // namespace emporium::gateway
