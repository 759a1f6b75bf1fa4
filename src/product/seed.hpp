#pragma once

#include "product/store.hpp"

namespace emporium::product {

// Loads the demo catalog (demo_catalog.json, embedded in the binary) into
// an empty store, with creation times a day apart ending today so that
// "newest first" has a stable order. Returns how many products were added:
// 0 when the store already has products. Throws std::runtime_error for an
// invalid catalog entry (a bug in the embedded file).
int load_demo_catalog(Store& store);

}  // namespace emporium::product
