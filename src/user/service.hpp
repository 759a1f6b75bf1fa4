#pragma once

#include <memory>

#include "common/module.hpp"

namespace emporium::user {

// The module the registry mounts.
const ServiceModule& module();

// True for a plausible email address: one '@', non-empty local part, a
// domain with a dot, no spaces, at most 254 characters.
bool valid_email(std::string_view email);

}  // namespace emporium::user
