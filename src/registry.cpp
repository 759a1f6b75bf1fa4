#include "registry.hpp"

#include <algorithm>
#include <atomic>
#include <deque>
#include <filesystem>
#include <map>

#include "bus/consumer.hpp"
#include "bus/outbox.hpp"
#include "bus/publisher.hpp"
#include "cart/service.hpp"
#include "core/error.hpp"
#include "core/worker.hpp"
#include "gateway/service.hpp"
#include "notification/service.hpp"
#include "obs/log.hpp"
#include "order/service.hpp"
#include "product/service.hpp"
#include "storefront/service.hpp"
#include "svc/revocations.hpp"
#include "user/service.hpp"

namespace emporium {

namespace {

constexpr std::string_view kDevelopmentSecret =
    "emporium-development-secret-do-not-use-in-production";
// How often the broker probe runs (off the request path: a probe can block
// for a name lookup or a connect timeout; /readyz reads only its result).
constexpr std::chrono::seconds kBrokerProbeInterval{2};

bool contains(const std::vector<std::string>& names, std::string_view name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

const ServiceModule* find_module(std::string_view name) {
  for (const auto& m : service_modules()) {
    if (m.name == name) {
      return &m;
    }
  }
  return nullptr;
}

// Declares the queues a module consumes on RabbitMQ. Best effort: the
// consumer declares its queue itself when it first connects, so a broker
// outage must not block a rollout.
void declare_queues(const config::Config& config, const ServiceModule& module) {
  for (const auto& sub : module.subscriptions) {
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

// Connection pool use, read at scrape time.
void add_pool_metrics(obs::Registry& metrics,
                      std::vector<std::pair<std::string, const db::Database*>> pools) {
  if (pools.empty()) {
    return;
  }
  metrics.add_collector([pools = std::move(pools)](std::string& out) {
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

}  // namespace

const std::vector<ServiceModule>& service_modules() {
  static const std::vector<ServiceModule> modules = {
      product::module(),      user::module(),    cart::module(),       order::module(),
      notification::module(), gateway::module(), storefront::module(),
  };
  return modules;
}

namespace {

bool switched_on(const config::Config& config, const ServiceModule& m) {
  return m.switch_setting.empty() || config.boolean(std::string(m.switch_setting));
}

// Adds the modules that run beside the gateway, when it is in `out`.
void add_gateway_companions(const config::Config& config, std::vector<std::string>& out) {
  if (!contains(out, "gateway")) {
    return;
  }
  for (const auto& m : service_modules()) {
    if (m.with_gateway && !contains(out, m.name) && switched_on(config, m)) {
      out.emplace_back(m.name);
    }
  }
}

}  // namespace

std::vector<std::string> selected_services(const config::Config& config) {
  const auto& value = config.str("services");
  std::vector<std::string> out;
  if (value == "all") {
    for (const auto& m : service_modules()) {
      if (m.in_all && switched_on(config, m)) {
        out.emplace_back(m.name);
      }
    }
    return out;
  }
  for (auto& name : config::split_list(value)) {
    if (find_module(name) == nullptr) {
      throw config::ConfigError("invalid value for services: unknown service '" + name +
                                "' (expected all, or a list of product, user, cart, order, "
                                "notification, gateway, storefront)");
    }
    out.push_back(std::move(name));
  }
  if (out.empty()) {
    throw config::ConfigError("invalid value for services: empty");
  }
  add_gateway_companions(config, out);
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
  s.previous_secret = config.str("jwt_previous_secret");
  if (!development && !s.previous_secret.empty() && s.previous_secret.size() < 32) {
    throw config::ConfigError(
        "jwt_previous_secret must be at least 32 characters outside development mode");
  }
  s.allowed_origins = config::split_list(config.str("cors_origins"));
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

// The event bus: the in-process one, or RabbitMQ when amqp_url is set.
struct EventBus {
  EventBus(const config::Config& c, obs::Registry& registry) : metrics(registry) {
    const auto& amqp = c.str("amqp_url");
    if (amqp.empty()) {
      auto bus = std::make_unique<bus::LocalBus>(this->metrics);
      local = bus.get();
      publisher = std::move(bus);
      return;
    }
    url = amqp;
    ca_file = c.str("amqp_ca_file");
    auto rabbit =
        std::make_unique<bus::RabbitPublisher>(bus::RabbitOptions{.url = amqp, .ca_file = ca_file});
    rabbit_publisher = rabbit.get();
    publisher = std::move(rabbit);
  }

  ~EventBus() {
    stop_consumers();
    if (local != nullptr) {
      local->stop();
    }
  }

  // Stops what delivers work from the broker: the probe and the consumers.
  void stop_consumers() {
    probe.reset();
    consumers.clear();
  }

  void subscribe(std::string queue, std::vector<std::string> patterns, bus::Handler handler) {
    if (local != nullptr) {
      local->subscribe(std::move(queue), std::move(patterns), std::move(handler));
      return;
    }
    consumers.push_back(
        std::make_unique<bus::RabbitConsumer>(bus::ConsumerOptions{.url = url,
                                                                   .ca_file = ca_file,
                                                                   .queue = std::move(queue),
                                                                   .bindings = std::move(patterns)},
                                              std::move(handler), metrics));
  }

  // Reported, not required: with the outbox, changes are accepted while the
  // broker is away and their events go out when it is back, so a broker
  // outage must not take every pod out of its Service.
  void watch_broker(http::Readiness& readiness) {
    readiness.add_check(
        "amqp",
        [this] {
          return std::all_of(consumers.begin(), consumers.end(),
                             [](const auto& c) { return c->connected(); }) &&
                 broker_ok.load();
        },
        false);
    probe = std::make_unique<core::Worker>("broker-probe", [this](core::Worker& w) {
      while (w.running()) {
        broker_ok = rabbit_publisher->probe(std::chrono::seconds(1));
        w.sleep_for(kBrokerProbeInterval);
      }
    });
  }

  bus::Metrics metrics;
  std::string url;
  std::string ca_file;
  std::unique_ptr<bus::Publisher> publisher;
  bus::LocalBus* local = nullptr;                    // the publisher, in the in-process shape
  bus::RabbitPublisher* rabbit_publisher = nullptr;  // the publisher, over RabbitMQ
  std::atomic<bool> broker_ok{false};                // the broker probe's last answer
  std::vector<std::unique_ptr<bus::RabbitConsumer>> consumers;
  std::unique_ptr<core::Worker> probe;
};

struct Registry::State {
  State(const config::Config& c, const http::Pipeline& pipeline, obs::Registry& registry,
        http::Readiness& ready, http::Router& listener)
      : config(c),
        metrics(registry),
        readiness(ready),
        selected(selected_services(c)),
        tokens(token_settings(c)),
        local_upstream(local, pipeline),
        routes(listener, local, c.str("services") != "all"),
        events(std::in_place, c, registry) {}

  // Stops in reverse: what delivers work (consumers, relays, the bus) first, then the
  // services newest first (later ones call earlier ones in-process: order ->
  // cart -> product), then the databases.
  ~State() {
    events->stop_consumers();
    relays.clear();
    events.reset();
    while (!services.empty()) {
      services.pop_back();
    }
  }

  svc::Upstream& upstream(std::string_view name) {
    if (contains(selected, name)) {
      return local_upstream;
    }
    auto it = remote.find(name);
    if (it == remote.end()) {
      it = remote
               .emplace(std::string(name), std::make_unique<svc::HttpUpstream>(
                                               upstream_options(config, name), &metrics))
               .first;
    }
    return *it->second;
  }

  void mount(const ServiceModule& module);
  void start_relays();
  void follow_revocations();

  // A service's outbox and its relay (set once every module is mounted).
  struct Outbox {
    db::Database* database;
    std::string name;
    bus::OutboxRelay* relay = nullptr;
  };

  const config::Config& config;
  obs::Registry& metrics;
  http::Readiness& readiness;
  std::vector<std::string> selected;
  auth::Tokens tokens;
  http::Router local;  // every in-process route, public and internal
  svc::LocalUpstream local_upstream;
  Routes routes;
  std::map<std::string, std::unique_ptr<svc::HttpUpstream>, std::less<>> remote;
  std::vector<std::unique_ptr<db::Database>> databases;
  std::vector<std::pair<std::string, const db::Database*>> pools;
  std::deque<Outbox> outboxes;
  std::vector<std::unique_ptr<bus::OutboxRelay>> relays;
  std::optional<EventBus> events;
  // Declared after the databases: services (and their background work) stop first.
  std::vector<std::unique_ptr<Service>> services;
  // Where this process learns of revoked sessions, when the user service
  // does not tell it in-process (follow_revocations); stopped first.
  std::unique_ptr<auth::RevocationFeed> revocation_feed;
  std::unique_ptr<auth::RevocationSync> revocation_sync;
};

// Every verifier refuses revoked sessions (docs/sessions.md): with Redis,
// each process reads them from there; without, a process that does not run
// the user service polls its internal endpoint (a user service reads its own
// database itself).
void Registry::State::follow_revocations() {
  const auto& redis = config.str("redis_url");
  if (!redis.empty()) {
    revocation_feed = std::make_unique<svc::RedisRevocations>(redis);
  } else if (!contains(selected, "user")) {
    revocation_feed =
        std::make_unique<svc::UserServiceRevocations>(upstream("user"), tokens, "revocations");
  } else {
    return;
  }
  revocation_sync = std::make_unique<auth::RevocationSync>(
      *revocation_feed, tokens.denylist(),
      std::chrono::duration_cast<std::chrono::milliseconds>(config.duration("revocation_poll")));
}

void Registry::State::mount(const ServiceModule& module) {
  db::Database* database = nullptr;
  int applied = 0;
  if (module.migrations != nullptr) {
    database = databases.emplace_back(open_database(config, module.name)).get();
    applied = db::migrate(*database, module.name, module.migrations());
    readiness.add_check("database:" + std::string(module.name),
                        [database] { return database->ping(); });
    pools.emplace_back(std::string(module.name), database);
  }
  // Relays start once every module is mounted (start_relays), so events
  // left from a previous run find their in-process subscribers; until then
  // a notify has nothing to wake.
  std::function<void()> events_written = [] {};
  if (module.outbox) {
    auto* slot = &outboxes.emplace_back(Outbox{database, std::string(module.name)});
    events_written = [slot] {
      if (slot->relay != nullptr) {
        slot->relay->notify();
      }
    };
  }
  ServiceContext ctx{
      .config = config,
      .db = database,
      .routes = routes,
      .metrics = metrics,
      .readiness = readiness,
      .tokens = tokens,
      .upstream = [this](std::string_view name) -> svc::Upstream& { return upstream(name); },
      .events_written = std::move(events_written),
      .subscribe =
          [this](std::string q, std::vector<std::string> p, bus::Handler h) {
            events->subscribe(std::move(q), std::move(p), std::move(h));
          },
      .runs_here = [this](std::string_view name) { return contains(selected, name); }};
  services.push_back(module.mount(ctx));
  obs::info("service started",
            {{"service", module.name}, {"migrations_applied", static_cast<std::int64_t>(applied)}});
}

void Registry::State::start_relays() {
  if (events->rabbit_publisher != nullptr && (!outboxes.empty() || !events->consumers.empty())) {
    events->watch_broker(readiness);
  }
  for (auto& outbox : outboxes) {
    outbox.relay = relays
                       .emplace_back(std::make_unique<bus::OutboxRelay>(
                           *outbox.database, *events->publisher, events->metrics,
                           bus::OutboxRelayOptions{.name = outbox.name}))
                       .get();
  }
}

Registry::Registry(const config::Config& config, obs::Registry& metrics, http::Readiness& readiness,
                   http::Router& listener, const http::Pipeline& pipeline)
    : state_(std::make_unique<State>(config, pipeline, metrics, readiness, listener)) {
  for (const auto& module : service_modules()) {
    if (contains(state_->selected, module.name)) {
      state_->mount(module);
    }
  }
  state_->start_relays();
  state_->follow_revocations();
  add_pool_metrics(metrics, state_->pools);
}

Registry::~Registry() = default;

int migrate_all(const config::Config& config) {
  const auto selected = selected_services(config);
  int applied = 0;
  for (const auto& module : service_modules()) {
    if (!contains(selected, module.name) || module.migrations == nullptr) {
      continue;
    }
    auto database = open_database(config, module.name);
    applied += db::migrate(*database, module.name, module.migrations());
    if (!config.str("amqp_url").empty()) {
      declare_queues(config, module);
    }
  }
  return applied;
}

int seed_all(const config::Config& config) {
  int added = 0;
  for (const auto& module : service_modules()) {
    if (module.seed == nullptr) {
      continue;
    }
    auto database = open_database(config, module.name);
    db::migrate(*database, module.name, module.migrations());
    added += module.seed(*database);
  }
  return added;
}

}  // namespace emporium
