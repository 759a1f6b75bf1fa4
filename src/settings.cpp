#include "settings.hpp"

namespace emporium {

using config::Kind;

const std::vector<config::KeyDef>& settings_schema() {
  static const std::vector<config::KeyDef> schema = {
      {"listen", Kind::address, "0.0.0.0:8080", "Address to serve HTTP on (HOST:PORT; port 0 picks one)"},
      {"data_dir", Kind::string, "./data", "Directory for the embedded SQLite databases"},
      {"log_level", Kind::string, "info", "debug, info, warn or error", 0, 0, {"debug", "info", "warn", "error"}},
      {"io_threads", Kind::integer, "0", "I/O threads; 0 means one per core", 0, 256},
      {"blocking_threads", Kind::integer, "16", "Threads for handlers that block on storage or upstreams", 1, 1024},
      {"max_connections", Kind::integer, "10000", "Open connections at most; more are closed at once", 1, 1'000'000},
      {"max_header_bytes", Kind::integer, "16384", "Request header size limit (431 above it)", 1024, 1 << 20},
      {"max_body_bytes", Kind::integer, "1048576", "Request body size limit (413 above it)", 0, 1 << 30},
      {"read_timeout", Kind::duration, "10s", "Time allowed to receive a whole request"},
      {"idle_timeout", Kind::duration, "60s", "Keep-alive time to wait for the next request"},
      {"write_timeout", Kind::duration, "10s", "Time allowed to send a whole response"},
      {"shutdown_delay", Kind::duration, "0s", "On SIGTERM, time to answer /readyz 503 before closing the listener"},
      {"drain_timeout", Kind::duration, "20s", "On SIGTERM, time in-flight requests get to finish"},
      {"cors_origins", Kind::string, "", "Comma-separated origins allowed by CORS, or *; empty turns CORS off"},
  };
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
  o.max_header_bytes = static_cast<std::size_t>(c.integer("max_header_bytes"));
  o.max_body_bytes = static_cast<std::size_t>(c.integer("max_body_bytes"));
  o.read_timeout = c.duration("read_timeout");
  o.idle_timeout = c.duration("idle_timeout");
  o.write_timeout = c.duration("write_timeout");
  o.shutdown_delay = c.duration("shutdown_delay");
  o.drain_timeout = c.duration("drain_timeout");
  return o;
}

}  // namespace emporium
