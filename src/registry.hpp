#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "auth/auth.hpp"
#include "common/module.hpp"
#include "config/config.hpp"
#include "db/db.hpp"
#include "http/ops.hpp"
#include "http/pipeline.hpp"
#include "http/router.hpp"
#include "obs/metrics.hpp"

// The composition root: the only place that knows every service module.
namespace emporium {

// The service modules built into this binary, in start-up order (the
// gateway last).
const std::vector<ServiceModule>& service_modules();

// Names this process runs, from the `services` setting ("all" or a list).
// Throws config::ConfigError naming an unknown service.
std::vector<std::string> selected_services(const config::Config& config);

// Token settings from configuration. Throws config::ConfigError when the
// secret is missing or weak outside development mode.
auth::TokenSettings token_settings(const config::Config& config);

// Everything `serve` runs besides the HTTP server: for each selected module,
// in order, its database (migrated), its routes and background work, and the
// in-process router and upstreams that connect services; the event bus, the
// outbox relays and the broker probe. Destruction stops them in reverse.
class Registry {
 public:
  // `pipeline` is the listener's; in-process calls between services go
  // through it too, so they are logged and counted the same way.
  Registry(const config::Config& config, obs::Registry& metrics, http::Readiness& readiness,
           http::Router& listener, const http::Pipeline& pipeline);
  ~Registry();
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// Applies every selected module's pending migrations (and declares their
// RabbitMQ queues when amqp_url is set); returns how many migrations ran.
int migrate_all(const config::Config& config);

// Migrates the database of each module with a seed hook (the product
// catalog), whatever `services` selects, and runs the hook; returns how many
// rows were added in all.
int seed_all(const config::Config& config);

// Opens a module's database as configured (SQLite file under data_dir, or
// the module's schema on PostgreSQL).
std::unique_ptr<db::Database> open_database(const config::Config& config, std::string_view name);

}  // namespace emporium
