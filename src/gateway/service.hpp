#pragma once

#include "common/module.hpp"

namespace emporium::gateway {

// The gateway module: in the split shape, routes /api/products, /api/users,
// /api/cart and /api/orders to their services (see Proxy). /internal paths
// are not routed. Not part of services=all, where the listener serves the
// services' routes itself.
const ServiceModule& module();

}  // namespace emporium::gateway
