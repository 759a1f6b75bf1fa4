#pragma once

#include <memory>
#include <optional>

#include "backup/lock.hpp"
#include "backup/schedule.hpp"
#include "commands.hpp"
#include "config/config.hpp"

// The backup side of the command line: `emporium backup`, `backup verify`,
// `restore`, `seed --products/--orders`, and what `serve` does for backups.
namespace emporium {

// For `serve` on SQLite: the shared lock on data_dir that tells `restore` a
// shop runs there (none on PostgreSQL). Throws std::runtime_error while a
// restore holds the directory.
std::optional<backup::DataDirLock> lock_data_dir(const config::Config& config);

// For `serve`: its own backups when backup_interval is set (SQLite only;
// config::ConfigError on PostgreSQL), else null.
std::unique_ptr<backup::Schedule> start_backups(const config::Config& config);

// True when `seed` was given --products, --orders or --users.
bool wants_bulk_seed(const CommandLine& line);
int run_bulk_seed(const CommandLine& line);

}  // namespace emporium
