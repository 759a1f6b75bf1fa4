#pragma once

#include <memory>

#include "common/module.hpp"

namespace emporium::cart {

// The module the registry mounts.
const ServiceModule& module();

}  // namespace emporium::cart
