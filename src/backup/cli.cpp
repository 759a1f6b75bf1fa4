#include "backup/cli.hpp"

#include <CLI/CLI.hpp>
#include <iostream>

#include "backup/bulk_seed.hpp"
#include "backup/snapshot.hpp"
#include "db/migrate.hpp"
#include "obs/log.hpp"
#include "registry.hpp"

namespace emporium {

namespace {

// The services with a database, and the newest schema version of each.
std::map<std::string, int> service_schemas() {
  std::map<std::string, int> out;
  for (const auto& m : service_modules()) {
    if (m.migrations != nullptr) {
      const auto migrations = m.migrations();
      out[std::string(m.name)] = migrations.empty() ? 0 : migrations.back().version;
    }
  }
  return out;
}

std::vector<std::string> database_names() {
  std::vector<std::string> out;
  for (const auto& [name, version] : service_schemas()) {
    out.push_back(name);
  }
  return out;
}

void say(const std::string& line) {
  std::cerr << line << "\n";
}

// Runs `body` under the configuration; a message it returns is a failure,
// printed for the person at the terminal (exit 1).
int run_step(const CommandLine& line, std::string_view what,
             const std::function<std::string(const config::Config&)>& body) {
  std::string failure;
  const int rc = with_config(line, what, [&](const config::Config& cfg) { failure = body(cfg); });
  if (rc != 0) {
    return rc;
  }
  if (!failure.empty()) {
    std::cerr << "emporium: " << failure << "\n";
    obs::error(std::string(what) + " failed", {{"error", failure}});
    return 1;
  }
  return 0;
}

void refuse_postgres(const config::Config& cfg, std::string_view what) {
  if (!cfg.str("database_url").empty()) {
    throw config::ConfigError(std::string(what) +
                              " works on the SQLite files under data_dir; with database_url set, "
                              "use scripts/pg-backup.sh (docs/backup.md)");
  }
}

std::string take_backup(const config::Config& cfg, const CommandLine& line) {
  refuse_postgres(cfg, "backup");
  const auto out = line.args.find("out");
  if (out == line.args.end() || out->second.empty()) {
    throw config::ConfigError("backup needs --out=PATH (a new directory)");
  }
  auto m = backup::take(backup::BackupOptions{.data_dir = cfg.str("data_dir"),
                                              .out = out->second,
                                              .databases = database_names(),
                                              .progress = say});
  if (!m) {
    return m.error();
  }
  std::cout << out->second << "\n";
  return {};
}

std::string verify_backup(const std::string& path) {
  auto m = backup::verify(path, say);
  if (!m) {
    return m.error();
  }
  std::cout << "backup " << path << " is sound: " << m->databases.size() << " databases, taken "
            << m->created_at << " by Emporium " << m->version << "\n";
  return {};
}

}  // namespace

void add_backup_args(CLI::App& sub, CommandLine& line) {
  sub.add_option_function<std::string>(
      "--out", [&line](const std::string& v) { line.args["out"] = v; },
      "Directory to write the backup into (must not exist)");
  auto* verify = sub.add_subcommand(
      "verify", "Check a backup: manifest, sizes, SHA-256 checksums, PRAGMA integrity_check");
  verify
      ->add_option_function<std::string>(
          "path", [&line](const std::string& v) { line.args["verify"] = v; }, "Backup directory")
      ->required();
}

void add_restore_args(CLI::App& sub, CommandLine& line) {
  sub.add_option_function<std::string>(
         "--from", [&line](const std::string& v) { line.args["from"] = v; },
         "Backup directory to restore (verified first)")
      ->required();
  sub.add_flag_function(
      "--force", [&line](std::int64_t) { line.args["force"] = "true"; },
      "Replace the databases of a data directory that is not empty");
  sub.add_flag_function(
      "--replay-events", [&line](std::int64_t) { line.args["replay_events"] = "true"; },
      "Publish the events the backup holds unsent (default: mark them sent; docs/backup.md)");
}

void add_seed_args(CLI::App& sub, CommandLine& line) {
  for (const char* name : {"products", "orders", "users"}) {
    sub.add_option_function<std::int64_t>(
        std::string("--") + name,
        [&line, name](std::int64_t v) { line.args[name] = std::to_string(v); },
        std::string("Synthetic ") + name + " to add (drills and measurements)");
  }
}

int run_backup(const CommandLine& line) {
  if (const auto path = line.args.find("verify"); path != line.args.end()) {
    return run_step(line, "backup verify",
                    [&](const config::Config&) { return verify_backup(path->second); });
  }
  return run_step(line, "backup",
                  [&](const config::Config& cfg) { return take_backup(cfg, line); });
}

int run_restore(const CommandLine& line) {
  return run_step(line, "restore", [&](const config::Config& cfg) -> std::string {
    refuse_postgres(cfg, "restore");
    auto report =
        backup::restore(backup::RestoreOptions{.from = line.args.at("from"),
                                               .data_dir = cfg.str("data_dir"),
                                               .force = line.args.contains("force"),
                                               .replay_events = line.args.contains("replay_events"),
                                               .known_schemas = service_schemas(),
                                               .progress = say});
    if (!report) {
      return report.error();
    }
    for (const auto& held : report->held_events) {
      say("restore: held back (marked sent, not published): " + held);
    }
    std::cout << "restored " << report->manifest.databases.size() << " databases from "
              << line.args.at("from") << " (taken " << report->manifest.created_at << ") into "
              << cfg.str("data_dir") << "\n";
    return {};
  });
}

std::optional<backup::DataDirLock> lock_data_dir(const config::Config& config) {
  if (!config.str("database_url").empty()) {
    return std::nullopt;
  }
  auto lock =
      backup::DataDirLock::try_take(config.str("data_dir"), backup::DataDirLock::Mode::shared);
  if (!lock) {
    throw std::runtime_error("data directory " + config.str("data_dir") +
                             " is being restored (emporium restore holds its lock)");
  }
  return lock;
}

std::unique_ptr<backup::Schedule> start_backups(const config::Config& config) {
  const auto interval = config.duration("backup_interval");
  if (interval.count() <= 0) {
    return nullptr;
  }
  refuse_postgres(config, "backup_interval");
  obs::info("scheduled backups on", {{"every_ms", static_cast<std::int64_t>(interval.count())},
                                     {"dir", config.str("backup_dir")}});
  return std::make_unique<backup::Schedule>(
      backup::ScheduleOptions{.data_dir = config.str("data_dir"),
                              .backup_dir = config.str("backup_dir"),
                              .interval = interval,
                              .keep = static_cast<int>(config.integer("backup_keep")),
                              .databases = database_names()});
}

bool wants_bulk_seed(const CommandLine& line) {
  return line.args.contains("products") || line.args.contains("orders") ||
         line.args.contains("users");
}

int run_bulk_seed(const CommandLine& line) {
  return with_config(line, "seed", [&](const config::Config& cfg) {
    backup::BulkSeed seed;
    seed.progress = say;
    auto arg = [&](const char* name, std::int64_t fallback) {
      const auto it = line.args.find(name);
      return it == line.args.end() ? fallback : std::stoll(it->second);
    };
    seed.products = arg("products", 0);
    seed.orders = arg("orders", 0);
    seed.users = arg("users", std::max<std::int64_t>(1, seed.orders / 100));
    std::map<std::string, std::unique_ptr<db::Database>> dbs;
    for (const auto& m : service_modules()) {
      if (m.name == "product" || m.name == "user" || m.name == "order") {
        auto& d = dbs[std::string(m.name)] = open_database(cfg, m.name);
        db::migrate(*d, m.name, m.migrations());
      }
    }
    const auto n = backup::bulk_seed(seed, *dbs["product"], *dbs["user"], *dbs["order"]);
    obs::info("seed done", {{"products_added", n.products},
                            {"users_added", n.users},
                            {"orders_added", n.orders},
                            {"order_items_added", n.items}});
  });
}

}  // namespace emporium
