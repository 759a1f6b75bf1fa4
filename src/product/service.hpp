#pragma once

#include "common/module.hpp"

namespace emporium::product {

// The module the registry mounts; its seed hook loads the demo catalog into
// an empty product database.
const ServiceModule& module();

}  // namespace emporium::product
