#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "auth/auth.hpp"
#include "bus/handler.hpp"
#include "config/config.hpp"
#include "db/db.hpp"
#include "db/migrate.hpp"
#include "http/ops.hpp"
#include "http/pipeline.hpp"
#include "http/router.hpp"
#include "obs/metrics.hpp"
#include "svc/upstream.hpp"

namespace emporium {

// Where a service registers its routes. Public routes are served on this
// process's listener and reachable in-process; internal routes (service to
// service, service credential required) are reachable in-process and, in the
// split shape, on the listener, but never through the gateway.
class Routes {
 public:
  Routes(http::Router& listener, http::Router& local, bool expose_internal)
      : listener_(listener), local_(local), expose_internal_(expose_internal) {}

  void add_public(std::string_view method, std::string_view path, http::Handler h,
                  http::RouteOptions o = {}) {
    listener_.add(method, path, h, o);
    local_.add(method, path, std::move(h), o);
  }
  void add_internal(std::string_view method, std::string_view path, http::Handler h,
                    http::RouteOptions o = {}) {
    if (expose_internal_) {
      listener_.add(method, path, h, o);
    }
    local_.add(method, path, std::move(h), o);
  }

 private:
  http::Router& listener_;
  http::Router& local_;
  bool expose_internal_;
};

// What a service module gets when it is mounted.
struct ServiceContext {
  const config::Config& config;
  db::Database& database;
  Routes& routes;
  obs::Registry& metrics;
  http::Readiness& readiness;
  const auth::Tokens& tokens;
  // The way to reach another service by name ("product", "cart", ...).
  std::function<svc::Upstream&(std::string_view)> upstream;
  // Call after committing a transaction that added outbox events: wakes this
  // service's relay so they go out now rather than at its next tick. A no-op
  // for a service without an outbox.
  std::function<void()> events_written;
  // Delivers events whose type matches one of `patterns` ("order.*") to
  // `handler`, at least once, through the durable queue `queue`: RabbitMQ when
  // amqp_url is set, the in-process bus otherwise. Failures are retried with
  // backoff and dead-lettered after a few tries.
  std::function<void(std::string queue, std::vector<std::string> patterns, bus::Handler handler)>
      subscribe;
};

// A mounted service: owns its state; destroyed (background work stopped)
// before the databases close.
class Service {
 public:
  virtual ~Service() = default;
};

// One service of the platform.
// A queue a service consumes events from, and the event types bound to it.
struct Subscription {
  std::string_view queue;
  std::vector<std::string> patterns;
};

struct ServiceModule {
  std::string_view name;
  std::string_view default_listen;  // for the split shape
  std::vector<db::Migration> (*migrations)();
  std::unique_ptr<Service> (*mount)(ServiceContext&);
  bool outbox = false;  // its database has an outbox table to relay
  // What it subscribes to at mount; `emporium migrate` declares these queues
  // on RabbitMQ ahead of the first start.
  std::vector<Subscription> subscriptions{};
};

// The service modules built into this binary, in start-up order.
const std::vector<ServiceModule>& service_modules();

// Names this process runs, from the `services` setting ("all" or a list).
// Throws config::ConfigError naming an unknown service.
std::vector<std::string> selected_services(const config::Config& config);

// Token settings from configuration. Throws config::ConfigError when the
// secret is missing or weak outside development mode.
auth::TokenSettings token_settings(const config::Config& config);

// Everything `serve` runs besides the HTTP server: for each selected module,
// its database (migrated), its routes and background work; the gateway
// routes when the gateway is selected in the split shape; the in-process
// router and upstreams that connect services.
class Services {
 public:
  // `pipeline` is the listener's; in-process calls between services go
  // through it too, so they are logged and counted the same way.
  Services(const config::Config& config, obs::Registry& metrics, http::Readiness& readiness,
           http::Router& listener, const http::Pipeline& pipeline);
  ~Services();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// Applies every selected module's pending migrations; returns how many ran.
int migrate_all(const config::Config& config);

// Opens a module's database as configured (SQLite file under data_dir).
std::unique_ptr<db::Database> open_database(const config::Config& config, std::string_view name);

}  // namespace emporium
