#pragma once

#include <memory>

#include "services.hpp"

namespace emporium::order {

std::vector<db::Migration> migrations();
std::unique_ptr<Service> mount(ServiceContext& ctx);

}  // namespace emporium::order
