#include "commands.hpp"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <boost/json.hpp>
#include <filesystem>
#include <iostream>
#include <thread>

#include "backup/cli.hpp"
#include "config/config.hpp"
#include "http/ops.hpp"
#include "http/pipeline.hpp"
#include "http/server.hpp"
#include "obs/log.hpp"
#include "obs/metrics.hpp"
#include "registry.hpp"
#include "settings.hpp"
#include "version.hpp"

namespace emporium {

namespace {

// Loads configuration or prints why it cannot, naming the key.
std::optional<config::Config> load_config(const CommandLine& line) {
  auto env = config::emporium_environment(line.envp);
  std::optional<std::string> file = line.config_file;
  if (auto it = env.find("EMPORIUM_CONFIG"); it != env.end()) {
    if (!file) {
      file = it->second;
    }
    env.erase(it);
  }
  try {
    return config::Config::load(settings_schema(), file, env, line.flags);
  } catch (const config::ConfigError& e) {
    std::cerr << "emporium: " << e.what() << "\n";
    return std::nullopt;
  }
}

// The edge's rate limits, where this process is the public edge (the
// all-in-one listener, or the gateway); services behind the gateway do not
// limit per client again.
struct EdgeLimiter {
  auth::Tokens tokens;
  limit::EdgeLimiter limiter;
  EdgeLimiter(const config::Config& cfg, obs::Registry& metrics)
      : tokens(token_settings(cfg)), limiter(edge_options(cfg), tokens, metrics) {}
  std::optional<http::Response> admit(const http::Request& req, bool on_pool,
                                      http::Headers& extra) {
    return limiter.admit(req, on_pool, extra);
  }
};

std::unique_ptr<EdgeLimiter> edge_limiter(const config::Config& cfg, obs::Registry& metrics) {
  const auto selected = selected_services(cfg);
  const bool edge = cfg.str("services") == "all" ||
                    std::find(selected.begin(), selected.end(), "gateway") != selected.end();
  if (!edge) {
    return nullptr;
  }
  return std::make_unique<EdgeLimiter>(cfg, metrics);
}

// The admin listener on admin_listen: /metrics, /healthz and /readyz on a
// server of its own (one I/O thread), so that /metrics is never on the
// public port. Listens when built (throws std::system_error when the
// address cannot be bound); stops when destroyed, after the public server.
class AdminListener {
 public:
  // `pipeline` is the public listener's: one set of request metrics
  // (a second Pipeline would register its families twice).
  AdminListener(const config::Config& cfg, const http::Pipeline& pipeline,
                http::Readiness& readiness, obs::Registry& metrics)
      : server_(admin_server_options(cfg), router_, pipeline, readiness, own_metrics_) {
    http::add_ops_routes(router_, readiness, metrics);
    const auto port = server_.listen();
    obs::info("admin listening", {{"host", cfg.address("admin_listen").host},
                                  {"port", static_cast<std::int64_t>(port)}});
    thread_ = std::jthread([this] { server_.run(false); });
  }
  ~AdminListener() { server_.shutdown(); }
  AdminListener(const AdminListener&) = delete;
  AdminListener& operator=(const AdminListener&) = delete;

 private:
  http::Router router_;
  // The admin server's own connection counters, kept apart: the same
  // families on `metrics` are the public server's.
  obs::Registry own_metrics_;
  http::Server server_;
  std::jthread thread_;  // joined first, then the server is destroyed
};

}  // namespace

void add_config_flags(CLI::App& sub, CommandLine& line) {
  sub.add_option_function<std::string>(
      "--config", [&line](const std::string& v) { line.config_file = v; },
      "TOML file of key = value settings [env EMPORIUM_CONFIG]");
  for (const auto& def : settings_schema()) {
    std::string help =
        def.help + " [env " + config::env_name(def.name) + ", default '" + def.default_value + "']";
    sub.add_option_function<std::string>(
        "--" + config::flag_name(def.name),
        [&line, key = def.name](const std::string& v) { line.flags[key] = v; }, help);
  }
}

int with_config(const CommandLine& line, std::string_view what,
                const std::function<void(const config::Config&)>& body) {
  auto cfg = load_config(line);
  if (!cfg) {
    return 2;
  }
  obs::init_logging(cfg->str("log_level"));
  int rc = 0;
  try {
    std::filesystem::create_directories(cfg->str("data_dir"));
    body(*cfg);
  } catch (const config::ConfigError& e) {
    obs::error(std::string(what) + " failed", {{"error", e.what()}});
    std::cerr << "emporium: " << e.what() << "\n";
    rc = 2;
  } catch (const std::exception& e) {
    obs::error(std::string(what) + " failed", {{"error", e.what()}});
    rc = 1;
  }
  obs::flush_logs();
  return rc;
}

int run_serve(const CommandLine& line) {
  return with_config(line, "serve", [](const config::Config& cfg) {
    obs::Registry metrics;
    obs::register_process_metrics(metrics);
    http::Readiness readiness;
    http::Router router;
    http::add_probe_routes(router, readiness);
    http::Pipeline pipeline(http::CorsPolicy{config::split_list(cfg.str("cors_origins"))}, metrics);
    const auto data_dir_lock = lock_data_dir(cfg);
    const auto limiter = edge_limiter(cfg, metrics);
    if (limiter) {
      pipeline.set_gate(
          [&l = *limiter](const http::Request& req, bool on_pool, http::Headers& extra) {
            return l.admit(req, on_pool, extra);
          });
    }
    Registry services(cfg, metrics, readiness, router, pipeline);
    const auto backups = start_backups(cfg);
    AdminListener admin(cfg, pipeline, readiness, metrics);
    http::Server server(server_options(cfg), router, pipeline, readiness, metrics);
    const auto port = server.listen();
    obs::info("listening", {{"host", cfg.address("listen").host},
                            {"port", static_cast<std::int64_t>(port)},
                            {"version", version()}});
    server.run();
    obs::info("stopped");
  });
}

int run_migrate(const CommandLine& line) {
  return with_config(line, "migrate", [](const config::Config& cfg) {
    const int applied = migrate_all(cfg);
    obs::info("migrations done", {{"applied", static_cast<std::int64_t>(applied)}});
  });
}

int run_seed(const CommandLine& line) {
  if (wants_bulk_seed(line)) {
    return run_bulk_seed(line);
  }
  return with_config(line, "seed", [](const config::Config& cfg) {
    const int added = seed_all(cfg);
    obs::info("seed done", {{"products_added", static_cast<std::int64_t>(added)}});
  });
}

int run_routes(const CommandLine& line) {
  // Mounts the all-in-one shape on a scratch data directory and prints the
  // routes its listener serves, as JSON: [{"method","path"}].
  CommandLine scratch = line;
  const auto dir =
      std::filesystem::temp_directory_path() / ("emporium-routes-" + std::to_string(::getpid()));
  scratch.flags["data_dir"] = dir.string();
  scratch.flags["demo_catalog"] = "false";
  scratch.flags["admin_email"] = "";
  scratch.flags["services"] = "all";
  scratch.flags["log_level"] = "error";
  auto cfg = load_config(scratch);
  if (!cfg) {
    return 2;
  }
  obs::init_logging("error");
  int rc = 0;
  try {
    std::filesystem::create_directories(dir);
    obs::Registry metrics;
    http::Readiness readiness;
    http::Router router;
    http::add_probe_routes(router, readiness);
    http::Pipeline pipeline(http::CorsPolicy{}, metrics);
    { Registry services(*cfg, metrics, readiness, router, pipeline); }
    boost::json::array out;
    for (const auto& r : router.routes()) {
      out.push_back(boost::json::object{{"method", r.method}, {"path", r.path_template}});
    }
    std::cout << boost::json::serialize(out) << "\n";
  } catch (const std::exception& e) {
    std::cerr << "emporium: " << e.what() << "\n";
    rc = 1;
  }
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  return rc;
}

int run_version(const CommandLine&) {
  std::cout << "emporium " << version() << " (" << git_sha() << ")\n";
  return 0;
}

}  // namespace emporium
