#pragma once

#include "common/module.hpp"

namespace emporium::user {

// The module the registry mounts.
const ServiceModule& module();

}  // namespace emporium::user
