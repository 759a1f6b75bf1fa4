#pragma once

#include <vector>

#include "config/config.hpp"
#include "http/server.hpp"
#include "limit/edge.hpp"

namespace emporium {

// Every configuration key the binary understands, with defaults and help.
const std::vector<config::KeyDef>& settings_schema();

// Server options from validated configuration.
http::ServerOptions server_options(const config::Config& c);

// The edge's rate limits from validated configuration. Throws
// config::ConfigError for a malformed limit or trusted_proxies entry.
limit::EdgeOptions edge_options(const config::Config& c);
// Options of the admin listener (admin_listen: /metrics and the probes):
// the public listener's limits, one I/O and one blocking thread.
http::ServerOptions admin_server_options(const config::Config& c);

}  // namespace emporium
