#include "services.hpp"

#include <filesystem>

#include "obs/log.hpp"

namespace emporium {

namespace {

std::unique_ptr<db::Database> open_database(const config::Config& config, std::string_view name) {
  const auto path = std::filesystem::path(config.str("data_dir")) / (std::string(name) + ".db");
  return db::open_sqlite({.path = path.string()});
}

}  // namespace

const std::vector<ServiceModule>& service_modules() {
  // Services register here as they are added to the binary.
  static const std::vector<ServiceModule> modules = {};
  return modules;
}

Services::Services(const config::Config& config, obs::Registry& metrics,
                   http::Readiness& readiness, http::Router& router) {
  for (const auto& module : service_modules()) {
    auto& database = *databases_.emplace_back(open_database(config, module.name));
    const int applied = db::migrate(database, module.name, module.migrations());
    obs::info("service ready", {{"service", module.name},
                                {"migrations_applied", static_cast<std::int64_t>(applied)}});
    readiness.add_check("database:" + std::string(module.name),
                        [&database] { return database.ping(); });
    ServiceContext ctx{config, database, router, metrics, readiness};
    module.mount(ctx);
  }
}

int migrate_all(const config::Config& config) {
  int applied = 0;
  for (const auto& module : service_modules()) {
    auto database = open_database(config, module.name);
    applied += db::migrate(*database, module.name, module.migrations());
  }
  return applied;
}

}  // namespace emporium
