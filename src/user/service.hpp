#pragma once

#include <memory>

#include "services.hpp"

namespace emporium::user {

std::vector<db::Migration> migrations();
std::unique_ptr<Service> mount(ServiceContext& ctx);

// True for a plausible email address: one '@', non-empty local part, a
// domain with a dot, no spaces, at most 254 characters.
bool valid_email(std::string_view email);

}  // namespace emporium::user
