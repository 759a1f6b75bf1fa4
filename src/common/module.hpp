#pragma once

#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "auth/auth.hpp"
#include "bus/handler.hpp"
#include "config/config.hpp"
#include "db/db.hpp"
#include "db/migrate.hpp"
#include "http/ops.hpp"
#include "http/router.hpp"
#include "obs/metrics.hpp"
#include "svc/upstream.hpp"

// The contract between a service and the composition root (src/registry.*):
// what a service module declares, and what it is given when mounted. Every
// service includes this header; only the registry includes every service.
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
                  const http::RouteOptions& o = {}) {
    listener_.add(method, path, h, o);
    local_.add(method, path, std::move(h), o);
  }
  void add_internal(std::string_view method, std::string_view path, http::Handler h,
                    const http::RouteOptions& o = {}) {
    if (expose_internal_) {
      listener_.add(method, path, h, o);
    }
    local_.add(method, path, std::move(h), o);
  }
  // Every path under `prefix`, on the listener only (the gateway's routes).
  void add_edge_prefix(std::string_view prefix, http::Handler h, http::RouteOptions o = {}) {
    listener_.add_prefix(prefix, std::move(h), std::move(o));
  }

 private:
  http::Router& listener_;
  http::Router& local_;
  bool expose_internal_;
};

// What a service module gets when it is mounted. Everything it refers to
// outlives the mounted service.
struct ServiceContext {
  const config::Config& config;
  // The module's own database (migrated); null for a module without one.
  db::Database* db;
  Routes& routes;
  obs::Registry& metrics;
  http::Readiness& readiness;
  const auth::Tokens& tokens;
  // The way to reach another service by name ("product", "cart", ...):
  // in-process when it runs here, over HTTP otherwise.
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
  // True when the named service runs in this process.
  std::function<bool(std::string_view)> runs_here;

  // The module's database. Throws std::logic_error for a module without one.
  db::Database& database() const {
    if (db == nullptr) {
      throw std::logic_error("this module has no database");
    }
    return *db;
  }
};

// How this process reaches the service `name` over HTTP: its `<name>_url`
// and the upstream_timeout deadline.
inline http::ClientOptions upstream_options(const config::Config& config, std::string_view name) {
  return http::ClientOptions{.name = std::string(name),
                             .base_url = config.str(std::string(name) + "_url"),
                             .timeout = config.duration("upstream_timeout")};
}

// A mounted service: owns its state; destroyed (background work stopped)
// before the databases close.
class Service {
 public:
  virtual ~Service() = default;
};

// A queue a service consumes events from, and the event types bound to it.
struct Subscription {
  std::string_view queue;
  std::vector<std::string> patterns;
};

// One service of the platform, as the registry builds it.
struct ServiceModule {
  std::string_view name;
  std::string_view default_listen;  // for the split shape
  // Its numbered migrations; null for a module without a database.
  std::vector<db::Migration> (*migrations)() = nullptr;
  std::unique_ptr<Service> (*mount)(ServiceContext&) = nullptr;
  bool outbox = false;  // its database has an outbox table to relay
  // What it subscribes to at mount; `emporium migrate` declares these queues
  // on RabbitMQ ahead of the first start.
  std::vector<Subscription> subscriptions{};
  // `emporium seed`: loads demo data into the module's (migrated) database;
  // returns how many rows it added (0 when there was data already).
  int (*seed)(db::Database&) = nullptr;
  // Part of `services=all` (the all-in-one shape). The gateway is not: there
  // the services' routes are the listener's own.
  bool in_all = true;
  // Also runs wherever the gateway does (the public edge of the split shape).
  bool with_gateway = false;
  // A boolean setting that turns the module off where it would run by
  // default (in services=all or beside the gateway); "" for none.
  std::string_view switch_setting{};
};

}  // namespace emporium
