#pragma once

#include <string_view>

namespace emporium::gateway {

// True when a request to `method path` needs a signed-in user; the services
// check roles and ownership themselves.
bool requires_auth(std::string_view method, std::string_view path);

// True for a header that describes one connection, not the message, and so
// is never copied from an upstream's answer (RFC 9110 section 7.6.1).
bool hop_by_hop(std::string_view name);

}  // namespace emporium::gateway
