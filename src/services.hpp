#pragma once

#include <memory>
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "db/db.hpp"
#include "db/migrate.hpp"
#include "http/ops.hpp"
#include "http/router.hpp"
#include "obs/metrics.hpp"

namespace emporium {

// What a service module gets when it is mounted: its own database (already
// migrated), the shared router, metrics and readiness.
struct ServiceContext {
  const config::Config& config;
  db::Database& database;
  http::Router& router;
  obs::Registry& metrics;
  http::Readiness& readiness;
};

// One service of the platform: its name, its numbered migrations and the
// function that registers its routes.
struct ServiceModule {
  std::string_view name;
  std::vector<db::Migration> (*migrations)();
  void (*mount)(ServiceContext&);
};

// The service modules built into this binary, in start-up order.
const std::vector<ServiceModule>& service_modules();

// Opens each module's database under data_dir (<name>.db), applies its
// migrations, adds a readiness check for it and mounts its routes. Owns the
// databases for the life of the process. Throws on a failed migration.
class Services {
 public:
  Services(const config::Config& config, obs::Registry& metrics, http::Readiness& readiness,
           http::Router& router);

 private:
  std::vector<std::unique_ptr<db::Database>> databases_;
};

// Applies every module's pending migrations; returns how many ran.
int migrate_all(const config::Config& config);

}  // namespace emporium
