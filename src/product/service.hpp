#pragma once

#include <memory>

#include "product/store.hpp"
#include "services.hpp"

namespace emporium::product {

std::vector<db::Migration> migrations();
std::unique_ptr<Service> mount(ServiceContext& ctx);

// Loads the demo catalog into an empty store; returns how many products
// were added (0 when the catalog already has products).
int seed_demo(Store& store);

}  // namespace emporium::product
