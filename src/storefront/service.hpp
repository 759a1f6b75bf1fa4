#pragma once

#include "common/module.hpp"

namespace emporium::storefront {

// The storefront (at /) and the admin console (at /admin): the built web/
// app, embedded in the binary, served wherever the public edge listens (the
// all-in-one listener, and the gateway's process in the split shape). Paths
// the API's routes take are theirs; an unknown /api path stays a 404.
const ServiceModule& module();

}  // namespace emporium::storefront
