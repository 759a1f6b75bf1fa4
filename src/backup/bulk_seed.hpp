#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "db/db.hpp"

// Synthetic shop data for restore drills and backup measurements: a catalog,
// customers and their (delivered) orders, written straight into the service
// databases and consistent the way the services keep them: every order's
// stock is taken at the product service with a reservation under its id.
namespace emporium::backup {

struct BulkSeed {
  std::int64_t products = 10'000;
  std::int64_t orders = 100'000;
  std::int64_t users = 1'000;      // customers the orders are spread over
  std::int64_t stock = 1'000'000;  // each product's stock before the orders
  // Customers sign in as bulk-<run>-<n>@seed.example (the run's tag is in
  // the progress line) with this password.
  std::string password = "bulk-seed-password";
  std::function<void(const std::string&)> progress = [](const std::string&) {};
};

struct BulkSeedCount {
  std::int64_t products = 0;
  std::int64_t users = 0;
  std::int64_t orders = 0;
  std::int64_t items = 0;
};

// Adds the data to the (migrated) product, user and order databases.
// Throws db::DbError on a database failure.
BulkSeedCount bulk_seed(const BulkSeed& seed, db::Database& product, db::Database& user,
                        db::Database& order);

}  // namespace emporium::backup
