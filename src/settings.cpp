#include "settings.hpp"

#include "limit/proxies.hpp"

namespace emporium {

using config::Kind;

namespace {

// The HTTP server: address, threads, limits, timeouts, CORS.
std::vector<config::KeyDef> server_keys() {
  return {
      {"listen", Kind::address, "0.0.0.0:8080",
       "Address to serve HTTP on (HOST:PORT; port 0 picks one)"},
      {"admin_listen", Kind::address, "127.0.0.1:9090",
       "Address of the admin listener, which alone serves /metrics (with /healthz and /readyz); "
       "0.0.0.0:9090 in Kubernetes, where a NetworkPolicy lets only monitoring reach it"},
      {"data_dir", Kind::string, "./data", "Directory for the embedded SQLite databases"},
      {"log_level",
       Kind::string,
       "info",
       "debug, info, warn or error",
       0,
       0,
       {"debug", "info", "warn", "error"}},
      {"io_threads", Kind::integer, "0", "I/O threads; 0 means one per core", 0, 256},
      {"blocking_threads", Kind::integer, "16",
       "Threads for handlers that block on storage or upstreams", 1, 1024},
      {"max_connections", Kind::integer, "10000",
       "Open connections at most; more are closed at once", 1, 1'000'000},
      {"max_connections_per_client", Kind::integer, "256",
       "Open connections from one client address at most; more are closed at once; 0: no cap", 0,
       1'000'000},
      {"blocking_queue", Kind::integer, "256",
       "Requests waiting for a blocking thread at most; more are answered 503 at once", 0,
       1'000'000},
      {"max_header_bytes", Kind::integer, "16384", "Request header size limit (431 above it)", 1024,
       1 << 20},
      {"max_body_bytes", Kind::integer, "1048576", "Request body size limit (413 above it)", 0,
       1 << 30},
      {"header_timeout", Kind::duration, "5s",
       "Time a new connection has to send its first request line"},
      {"read_timeout", Kind::duration, "10s", "Time allowed to receive a whole request"},
      {"idle_timeout", Kind::duration, "60s", "Keep-alive time to wait for the next request"},
      {"write_timeout", Kind::duration, "10s", "Time allowed to send a whole response"},
      {"shutdown_delay", Kind::duration, "0s",
       "On SIGTERM, time to answer /readyz 503 before closing the listener"},
      {"drain_timeout", Kind::duration, "20s", "On SIGTERM, time in-flight requests get to finish"},
      {"cors_origins", Kind::string, "",
       "Comma-separated origins allowed by CORS, or *; empty turns CORS off"},
  };
}

// The edge's rate limits (where the public edge listens: services=all or the
// gateway) and the user service's failed-sign-in backoff (docs/rate-limits.md).
std::vector<config::KeyDef> limit_keys() {
  return {
      {"rate_limit_sign_in", Kind::string, "20/1m",
       "Sign-ins (POST /api/users/login) per client address: COUNT/DURATION, or off"},
      {"rate_limit_signup", Kind::string, "20/1h",
       "Registrations (POST /api/users/register) per client address: COUNT/DURATION, or off"},
      {"rate_limit_refresh", Kind::string, "60/1m",
       "Token refreshes per client address and per user: COUNT/DURATION, or off"},
      {"rate_limit_password", Kind::string, "10/1m",
       "Profile and password changes (PUT /api/users/profile) per client address and per user"},
      {"rate_limit_read", Kind::string, "1200/1m",
       "Other GET and HEAD requests per client address and per user: COUNT/DURATION, or off"},
      {"rate_limit_write", Kind::string, "300/1m",
       "Other writes per client address and per user: COUNT/DURATION, or off"},
      {"rate_limit_redis_timeout", Kind::duration, "50ms",
       "Deadline of one rate-limit check on Redis; past it, checks are decided in-process"},
      {"trusted_proxies", Kind::string, "",
       "Comma-separated CIDRs of proxies whose X-Forwarded-For gives the client's address"},
      {"sign_in_backoff_after", Kind::integer, "5",
       "Failed sign-ins of one account before it backs off (429 with Retry-After)", 1, 1000},
      {"sign_in_backoff_base", Kind::duration, "1s",
       "First backoff of an account; each further failure doubles it"},
      {"sign_in_backoff_max", Kind::duration, "15m", "Longest backoff of an account"},
  };
}

// Requests of each route class in flight or queued on the blocking pool at
// most (more are answered 503 at once), keyed "max_concurrent_<class>".
std::vector<config::KeyDef> concurrency_keys() {
  return {
      {"max_concurrent_sign_in", Kind::integer, "0",
       "Sign-ins (argon2id) in flight at most; 0: one fewer than the cores (at least 1)", 0,
       100'000},
      {"max_concurrent_signup", Kind::integer, "0",
       "Registrations (argon2id) in flight at most; 0: one fewer than the cores (at least 1)", 0,
       100'000},
      {"max_concurrent_password", Kind::integer, "0",
       "Profile and password changes (argon2id) in flight at most; 0: one fewer than the cores", 0,
       100'000},
      {"max_concurrent_refresh", Kind::integer, "32", "Token refreshes in flight at most", 1,
       100'000},
      {"max_concurrent_internal", Kind::integer, "256",
       "Service-to-service requests (/internal/) in flight at most", 1, 100'000},
      {"max_concurrent_read", Kind::integer, "192", "Other GET and HEAD requests in flight at most",
       1, 100'000},
      {"max_concurrent_write", Kind::integer, "128",
       "Other POST, PUT, PATCH and DELETE requests in flight at most", 1, 100'000},
  };
}

// Storage, cache, event bus and the services this process runs.
std::vector<config::KeyDef> backend_keys() {
  return {
      {"database_url", Kind::string, "",
       "postgres://user:pass@host:port/db for PostgreSQL (one schema per service); empty: SQLite "
       "files under data_dir"},
      {"database_pool_size", Kind::integer, "8", "Database connections per service", 1, 256},
      {"redis_url", Kind::string, "",
       "redis://[[user]:password@]host[:port][/db] for the product read cache, the edge's rate "
       "limits and the revoked sessions, shared by processes; empty: in-process"},
      {"cache_ttl", Kind::duration, "60s",
       "Lifetime of cached product reads (entries are also invalidated on every write); 0s turns "
       "the cache off"},
      {"amqp_url", Kind::string, "",
       "amqp://user:pass@host:port[/vhost] (amqps:// for TLS, e.g. Amazon MQ): events over "
       "RabbitMQ; empty: the in-process bus"},
      {"amqp_ca_file", Kind::string, "/etc/ssl/certs/ca-certificates.crt",
       "CA certificates (PEM) that an amqps:// broker's certificate must chain to"},
      {"services", Kind::string, "all",
       "Services this process runs: all, or a list of product, user, cart, order, notification, "
       "gateway (storefront runs with gateway and in all)"},
      {"storefront", Kind::boolean, "true",
       "Serve the storefront (/) and admin console (/admin) where the public edge listens"},
  };
}

// Mode, tokens, sessions and the first admin account.
std::vector<config::KeyDef> account_keys() {
  return {
      {"mode",
       Kind::string,
       "development",
       "development or production (production refuses weak secrets)",
       0,
       0,
       {"development", "production"}},
      {"jwt_secret", Kind::string, "",
       "HS256 key for tokens (32+ characters outside development); use jwt_secret_file for a file"},
      {"jwt_previous_secret", Kind::string, "",
       "The HS256 key before the last rotation: tokens it signed (kid) still verify until they "
       "expire; empty: none"},
      {"jwt_issuer", Kind::string, "emporium", "Token issuer (iss)"},
      {"jwt_audience", Kind::string, "emporium", "Token audience (aud)"},
      {"access_ttl", Kind::duration, "15m", "Lifetime of access tokens"},
      {"refresh_ttl", Kind::duration, "168h", "Lifetime of refresh tokens"},
      {"revocation_poll", Kind::duration, "1s",
       "How often a process reads revoked sessions (from Redis, or from the user service) into "
       "its denylist"},
      {"cookie_secure", Kind::boolean, "false",
       "Mark the session cookie Secure (set behind HTTPS)"},
      {"admin_email", Kind::string, "admin@emporium.local",
       "First admin account, created at start-up if missing; empty: none"},
      {"admin_password", Kind::string, "",
       "Its password; empty in development: generated and printed once"},
      {"demo_catalog", Kind::boolean, "true",
       "Load the demo catalog into an empty product database"},
  };
}

// The other services (split shape), email, upstream calls and background work.
std::vector<config::KeyDef> peer_keys() {
  return {
      {"product_url", Kind::string, "http://127.0.0.1:3001",
       "Product service base URL (split shape)"},
      {"user_url", Kind::string, "http://127.0.0.1:3002", "User service base URL (split shape)"},
      {"cart_url", Kind::string, "http://127.0.0.1:3003", "Cart service base URL (split shape)"},
      {"order_url", Kind::string, "http://127.0.0.1:3004", "Order service base URL (split shape)"},
      {"notification_url", Kind::string, "http://127.0.0.1:3005",
       "Notification service base URL (split shape; it serves only ops endpoints)"},
      {"smtp_url", Kind::string, "",
       "smtp://[user:password@]host[:port] (smtps:// for TLS) for the notification service's "
       "emails; empty: emails are logged, not sent"},
      {"mail_from", Kind::string, "Emporium <shop@emporium.local>",
       "From address of the notification service's emails"},
      {"upstream_timeout", Kind::duration, "3s",
       "Deadline for one call to another service, retries included"},
      {"task_interval", Kind::duration, "1s",
       "How often the order service retries pending follow-up work"},
      {"cart_checkout_retention", Kind::duration, "24h",
       "How long the cart service remembers an order whose lines it took out of a cart (so a "
       "repeat is applied once); older records are pruned hourly"},
  };
}

// serve's own backups of the SQLite databases (docs/backup.md).
std::vector<config::KeyDef> backup_keys() {
  return {
      {"backup_interval", Kind::duration, "0s",
       "How often serve backs up its SQLite databases into backup_dir; 0s: never"},
      {"backup_keep", Kind::integer, "7", "How many of serve's own backups to keep", 1, 100'000},
      {"backup_dir", Kind::string, "./backups",
       "Where serve's own backups go (one directory each, emporium-<UTC time>)"},
  };
}

}  // namespace

const std::vector<config::KeyDef>& settings_schema() {
  static const std::vector<config::KeyDef> schema = [] {
    std::vector<config::KeyDef> all;
    for (const auto& part : {server_keys(), limit_keys(), concurrency_keys(), backend_keys(),
                             account_keys(), peer_keys(), backup_keys()}) {
      all.insert(all.end(), part.begin(), part.end());
    }
    return all;
  }();
  return schema;
}

http::ServerOptions server_options(const config::Config& c) {
  http::ServerOptions o;
  const auto addr = c.address("listen");
  o.host = addr.host;
  o.port = addr.port;
  o.io_threads = static_cast<unsigned>(c.integer("io_threads"));
  o.blocking_threads = static_cast<unsigned>(c.integer("blocking_threads"));
  o.max_connections = static_cast<std::size_t>(c.integer("max_connections"));
  o.max_connections_per_client = static_cast<std::size_t>(c.integer("max_connections_per_client"));
  o.blocking_queue = static_cast<std::size_t>(c.integer("blocking_queue"));
  for (std::size_t k = 0; k < http::kRouteClasses; ++k) {
    const auto cls = static_cast<http::RouteClass>(k);
    if (cls != http::RouteClass::ops) {
      o.class_limits[k] =
          static_cast<std::size_t>(c.integer("max_concurrent_" + std::string(http::name(cls))));
    }
  }
  o.max_header_bytes = static_cast<std::size_t>(c.integer("max_header_bytes"));
  o.max_body_bytes = static_cast<std::size_t>(c.integer("max_body_bytes"));
  o.header_timeout = c.duration("header_timeout");
  o.read_timeout = c.duration("read_timeout");
  o.idle_timeout = c.duration("idle_timeout");
  o.write_timeout = c.duration("write_timeout");
  o.shutdown_delay = c.duration("shutdown_delay");
  o.drain_timeout = c.duration("drain_timeout");
  return o;
}

limit::EdgeOptions edge_options(const config::Config& c) {
  limit::EdgeOptions o;
  for (std::size_t i = 0; i < limit::kRouteClasses; ++i) {
    const auto cls = static_cast<http::RouteClass>(i);
    if (cls == http::RouteClass::ops || cls == http::RouteClass::internal) {
      continue;
    }
    const auto key = "rate_limit_" + std::string(http::name(cls));
    auto policy = limit::parse_policy(c.str(key));
    if (!policy) {
      throw config::ConfigError("invalid value for " + key +
                                ": must be COUNT/DURATION (such as 20/1m) or off");
    }
    o.policies.at(i) = *policy;
  }
  o.trusted_proxies = limit::parse_cidrs(c.str("trusted_proxies"), "trusted_proxies");
  o.redis_url = c.str("redis_url");
  o.redis_timeout = c.duration("rate_limit_redis_timeout");
  return o;
}

http::ServerOptions admin_server_options(const config::Config& c) {
  http::ServerOptions o = server_options(c);
  const auto addr = c.address("admin_listen");
  o.host = addr.host;
  o.port = addr.port;
  o.io_threads = 1;
  o.blocking_threads = 1;
  o.max_connections = 64;
  o.shutdown_delay = std::chrono::milliseconds(0);
  return o;
}

}  // namespace emporium
