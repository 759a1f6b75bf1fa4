#pragma once

#include <memory>

#include "common/module.hpp"

namespace emporium::order {

// The module the registry mounts.
const ServiceModule& module();

}  // namespace emporium::order
