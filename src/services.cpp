#include "services.hpp"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <map>
#include <mutex>
#include <stop_token>
#include <thread>

#include "bus/consumer.hpp"
#include "bus/outbox.hpp"
#include "bus/publisher.hpp"
#include "cart/service.hpp"
#include "core/error.hpp"
#include "gateway/gateway.hpp"
#include "notification/service.hpp"
#include "obs/log.hpp"
#include "order/service.hpp"
#include "product/service.hpp"
#include "user/service.hpp"

namespace emporium {

namespace {

constexpr std::string_view kDevelopmentSecret =
    "emporium-development-secret-do-not-use-in-production";

http::ClientOptions upstream_options(const config::Config& config, std::string_view name) {
  http::ClientOptions o;
  o.name = std::string(name);
  o.base_url = config.str(std::string(name) + "_url");
  o.timeout = config.duration("upstream_timeout");
  return o;
}

}  // namespace

const std::vector<ServiceModule>& service_modules() {
  static const std::vector<ServiceModule> modules = {
      {"product", "0.0.0.0:3001", product::migrations, product::mount, true},
      {"user", "0.0.0.0:3002", user::migrations, user::mount, true},
      {"cart", "0.0.0.0:3003", cart::migrations, cart::mount, false},
      {"order", "0.0.0.0:3004", order::migrations, order::mount, true},
      {"notification",
       "0.0.0.0:3005",
       notification::migrations,
       notification::mount,
       false,
       {notification::subscription()}},
  };
  return modules;
}

std::vector<std::string> selected_services(const config::Config& config) {
  const auto& value = config.str("services");
  std::vector<std::string> out;
  if (value == "all") {
    for (const auto& m : service_modules()) {
      out.emplace_back(m.name);
    }
    return out;
  }
  for (auto& name : config::split_list(value)) {
    const bool known =
        name == "gateway" || std::any_of(service_modules().begin(), service_modules().end(),
                                         [&](const ServiceModule& m) { return m.name == name; });
    if (!known) {
      throw config::ConfigError(
          "invalid value for services: unknown service '" + name +
          "' (expected all, or a list of product, user, cart, order, notification, gateway)");
    }
    out.push_back(std::move(name));
  }
  if (out.empty()) {
    throw config::ConfigError("invalid value for services: empty");
  }
  return out;
}

auth::TokenSettings token_settings(const config::Config& config) {
  auth::TokenSettings s;
  s.secret = config.str("jwt_secret");
  const bool development = config.str("mode") == "development";
  if (s.secret.empty()) {
    if (!development) {
      throw config::ConfigError("jwt_secret is required outside development mode");
    }
    s.secret = std::string(kDevelopmentSecret);
  }
  if (!development && (s.secret.size() < 32 || s.secret == kDevelopmentSecret)) {
    throw config::ConfigError(
        "jwt_secret must be at least 32 characters and not the development default outside "
        "development mode");
  }
  s.issuer = config.str("jwt_issuer");
  s.audience = config.str("jwt_audience");
  s.access_ttl = std::chrono::duration_cast<std::chrono::seconds>(config.duration("access_ttl"));
  return s;
}

std::unique_ptr<db::Database> open_database(const config::Config& config, std::string_view name) {
  const auto& url = config.str("database_url");
  const auto pool = static_cast<std::size_t>(config.integer("database_pool_size"));
  if (url.empty()) {
    const auto path = std::filesystem::path(config.str("data_dir")) / (std::string(name) + ".db");
    return db::open_sqlite({.path = path.string(), .pool_size = pool});
  }
  if (url.rfind("postgres://", 0) == 0 || url.rfind("postgresql://", 0) == 0) {
    return db::open_postgres({.url = url, .pool_size = pool, .schema = std::string(name)});
  }
  throw config::ConfigError(
      "invalid value for database_url: must start with postgres:// or be empty");
}

struct Services::State {
  State(const config::Config& c, const http::Pipeline& pipeline, obs::Registry& metrics)
      : tokens(token_settings(c)), local_upstream(local, pipeline), bus_metrics(metrics) {
    const auto& amqp = c.str("amqp_url");
    if (amqp.empty()) {
      auto bus = std::make_unique<bus::LocalBus>(bus_metrics);
      local_bus = bus.get();
      publisher = std::move(bus);
    } else {
      amqp_url = amqp;
      amqp_ca_file = c.str("amqp_ca_file");
      auto rabbit = std::make_unique<bus::RabbitPublisher>(
          bus::RabbitOptions{.url = amqp, .ca_file = amqp_ca_file});
      rabbit_publisher = rabbit.get();
      publisher = std::move(rabbit);
    }
  }

  ~State() {
    // Stop what delivers work first (the broker probe, consumers, relays, the
    // in-process bus), then the services, newest first: later ones call
    // earlier ones in-process (order -> cart -> product).
    if (broker_probe.joinable()) {
      broker_probe.request_stop();
      broker_probe.join();
    }
    consumers.clear();
    relays.clear();
    if (local_bus != nullptr) {
      local_bus->stop();
    }
    while (!services.empty()) {
      services.pop_back();
    }
  }

  // Probes the broker every 2 s off the request path (a probe can block for
  // a name lookup or a connect timeout); /readyz reads only the result.
  void start_broker_probe() {
    broker_probe = std::jthread([this](std::stop_token stop) {
      std::mutex mutex;
      std::condition_variable_any wake;
      while (!stop.stop_requested()) {
        broker_ok = rabbit_publisher->probe(std::chrono::seconds(1));
        std::unique_lock lock(mutex);
        wake.wait_for(lock, stop, std::chrono::seconds(2), [] { return false; });
      }
    });
  }

  void subscribe(std::string queue, std::vector<std::string> patterns, bus::Handler handler) {
    if (local_bus != nullptr) {
      local_bus->subscribe(std::move(queue), std::move(patterns), std::move(handler));
      return;
    }
    consumers.push_back(
        std::make_unique<bus::RabbitConsumer>(bus::ConsumerOptions{.url = amqp_url,
                                                                   .ca_file = amqp_ca_file,
                                                                   .queue = std::move(queue),
                                                                   .bindings = std::move(patterns)},
                                              std::move(handler), bus_metrics));
  }

  auth::Tokens tokens;
  http::Router local;  // every in-process route, public and internal
  svc::LocalUpstream local_upstream;
  std::map<std::string, std::unique_ptr<svc::HttpUpstream>, std::less<>> remote;
  std::vector<std::unique_ptr<db::Database>> databases;
  bus::Metrics bus_metrics;
  std::string amqp_url;
  std::string amqp_ca_file;
  std::unique_ptr<bus::Publisher> publisher;
  bus::LocalBus* local_bus = nullptr;                // the publisher, in the in-process shape
  bus::RabbitPublisher* rabbit_publisher = nullptr;  // the publisher, over RabbitMQ
  std::atomic<bool> broker_ok{false};                // the broker probe's last answer
  std::jthread broker_probe;
  std::vector<std::unique_ptr<bus::OutboxRelay>> relays;
  // A service's outbox and its relay (set once every module is mounted).
  struct Outbox {
    db::Database* database;
    std::string name;
    bus::OutboxRelay* relay = nullptr;
  };
  std::deque<Outbox> outboxes;
  std::vector<std::unique_ptr<bus::RabbitConsumer>> consumers;
  // Declared after the databases: services (and their background work) stop first.
  std::vector<std::unique_ptr<Service>> services;
  std::unique_ptr<gateway::Gateway> edge;
};

Services::Services(const config::Config& config, obs::Registry& metrics, http::Readiness& readiness,
                   http::Router& listener, const http::Pipeline& pipeline)
    : state_(std::make_unique<State>(config, pipeline, metrics)) {
  auto& st = *state_;
  const auto selected = selected_services(config);
  const bool all = config.str("services") == "all";
  auto is_local = [&](std::string_view name) {
    return std::find(selected.begin(), selected.end(), name) != selected.end();
  };
  auto upstream = [&](std::string_view name) -> svc::Upstream& {
    if (is_local(name)) {
      return st.local_upstream;
    }
    auto it = st.remote.find(name);
    if (it == st.remote.end()) {
      it = st.remote
               .emplace(std::string(name), std::make_unique<svc::HttpUpstream>(
                                               upstream_options(config, name), &metrics))
               .first;
    }
    return *it->second;
  };
  Routes routes(listener, st.local, !all);
  for (const auto& module : service_modules()) {
    if (!is_local(module.name)) {
      continue;
    }
    auto& database = *st.databases.emplace_back(open_database(config, module.name));
    const int applied = db::migrate(database, module.name, module.migrations());
    readiness.add_check("database:" + std::string(module.name),
                        [&database] { return database.ping(); });
    // Relays start once every module is mounted (below), so events left from
    // a previous run find their in-process subscribers; until then a notify
    // has nothing to wake.
    std::function<void()> events_written = [] {};
    if (module.outbox) {
      auto* slot = &st.outboxes.emplace_back(State::Outbox{&database, std::string(module.name)});
      events_written = [slot] {
        if (slot->relay != nullptr) {
          slot->relay->notify();
        }
      };
    }
    ServiceContext ctx{config,
                       database,
                       routes,
                       metrics,
                       readiness,
                       st.tokens,
                       upstream,
                       std::move(events_written),
                       [&st](std::string q, std::vector<std::string> p, bus::Handler h) {
                         st.subscribe(std::move(q), std::move(p), std::move(h));
                       }};
    st.services.push_back(module.mount(ctx));
    obs::info("service started", {{"service", module.name},
                                  {"migrations_applied", static_cast<std::int64_t>(applied)}});
  }
  if (st.rabbit_publisher != nullptr && (!st.outboxes.empty() || !st.consumers.empty())) {
    // Reported, not required: with the outbox, changes are accepted while the
    // broker is away and their events go out when it is back, so a broker
    // outage must not take every pod out of its Service.
    readiness.add_check(
        "amqp",
        [&st] {
          for (const auto& c : st.consumers) {
            if (!c->connected()) {
              return false;
            }
          }
          return st.broker_ok.load();
        },
        false);
    st.start_broker_probe();
  }
  for (auto& outbox : st.outboxes) {
    outbox.relay = st.relays
                       .emplace_back(std::make_unique<bus::OutboxRelay>(
                           *outbox.database, *st.publisher, st.bus_metrics,
                           bus::OutboxRelayOptions{.name = outbox.name}))
                       .get();
  }

  // Connection pool use, read at scrape time.
  std::vector<std::pair<std::string, const db::Database*>> pools;
  for (std::size_t k = 0, m = 0; k < service_modules().size(); ++k) {
    if (is_local(service_modules()[k].name)) {
      pools.emplace_back(std::string(service_modules()[k].name), st.databases[m++].get());
    }
  }
  if (!pools.empty()) {
    metrics.add_collector([pools](std::string& out) {
      out += "# HELP emporium_db_pool_connections Database connections by service and state.\n";
      out += "# TYPE emporium_db_pool_connections gauge\n";
      for (const auto& [name, database] : pools) {
        const auto s = database->stats();
        out += "emporium_db_pool_connections{service=\"" + name + "\",state=\"open\"} " +
               std::to_string(s.open) + "\n";
        out += "emporium_db_pool_connections{service=\"" + name + "\",state=\"in_use\"} " +
               std::to_string(s.in_use) + "\n";
      }
      out += "# HELP emporium_db_pool_size Most connections a service's pool opens.\n";
      out += "# TYPE emporium_db_pool_size gauge\n";
      for (const auto& [name, database] : pools) {
        out += "emporium_db_pool_size{service=\"" + name + "\"} " +
               std::to_string(database->stats().size) + "\n";
      }
    });
  }
  if (!all && is_local("gateway")) {
    std::map<std::string, std::unique_ptr<http::Client>> clients;
    for (const auto& module : service_modules()) {
      clients.emplace(
          std::string(module.name),
          std::make_unique<http::Client>(upstream_options(config, module.name), &metrics));
    }
    st.edge = std::make_unique<gateway::Gateway>(listener, st.tokens, std::move(clients));
    obs::info("service started", {{"service", "gateway"}});
  }
}

Services::~Services() = default;

int migrate_all(const config::Config& config) {
  const auto selected = selected_services(config);
  int applied = 0;
  for (const auto& module : service_modules()) {
    if (std::find(selected.begin(), selected.end(), module.name) == selected.end()) {
      continue;
    }
    auto database = open_database(config, module.name);
    applied += db::migrate(*database, module.name, module.migrations());
    if (!config.str("amqp_url").empty()) {
      for (const auto& sub : module.subscriptions) {
        // Best effort: the consumer declares its queue itself when it first
        // connects, so a broker outage must not block a rollout.
        try {
          bus::declare_queue(bus::ConsumerOptions{.url = config.str("amqp_url"),
                                                  .ca_file = config.str("amqp_ca_file"),
                                                  .queue = std::string(sub.queue),
                                                  .bindings = sub.patterns,
                                                  .timeout = std::chrono::seconds(10),
                                                  .connection_name = "emporium migrate"});
          obs::info("broker queue declared", {{"service", module.name}, {"queue", sub.queue}});
        } catch (const core::Error& e) {
          obs::warn("broker queue not declared: the consumer declares it when it connects",
                    {{"service", module.name}, {"queue", sub.queue}, {"error", e.what()}});
        }
      }
    }
  }
  return applied;
}

}  // namespace emporium
