#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "backup/manifest.hpp"
#include "core/result.hpp"

// Online backup, verification and restore of the embedded shape's SQLite
// databases (DATA_DIR/<service>.db).
//
// Consistency across services: the backup takes the write lock of every
// database (BEGIN IMMEDIATE, in a fixed order; all or none, retried), opens a
// read snapshot of each while no writer can commit anywhere, then lets the
// writers go; the copies are made from those snapshots. The pause lasts
// milliseconds; a shop's writers wait on their busy timeout and are not
// refused. The copies are therefore one instant of the whole shop. Work in
// flight between services at that instant is covered by the order
// protocol: the order service writes a release_stock "insurance" task
// before it reserves stock and marks it done in the transaction that stores
// the order, so a snapshot holding a reservation but no order also holds the
// insurance task, which returns the stock after its grace period; a
// cancelled order's stock return and the emptying of a cart are tasks
// retried until done, and the product service returns an order's stock at
// most once.
namespace emporium::backup {

// A line of progress for a person watching (one per database).
using Progress = std::function<void(const std::string&)>;

struct BackupOptions {
  std::filesystem::path data_dir;
  std::filesystem::path out;           // must not exist; created
  std::vector<std::string> databases;  // service names; missing files are skipped
  // How long to keep trying to get every write lock at once.
  std::chrono::milliseconds lock_timeout{std::chrono::seconds(30)};
  Progress progress = [](const std::string&) {};
};

// Takes the backup into `out` (written under a temporary name, renamed when
// complete). Fails with a sentence for a person.
core::Result<Manifest, std::string> take(const BackupOptions& options);

// Checks a backup: the manifest, each file's size and SHA-256, PRAGMA
// integrity_check, and the schema version each file holds. Fails with a
// sentence naming the first problem.
core::Result<Manifest, std::string> verify(
    const std::filesystem::path& backup, const Progress& progress = [](const std::string&) {});

struct RestoreOptions {
  std::filesystem::path from;
  std::filesystem::path data_dir;
  bool force = false;  // replace the databases of a non-empty directory
  // Let events that were still unsent in the backup go out after the
  // restore (default: mark them sent; see docs/backup.md).
  bool replay_events = false;
  // The services this binary knows, and the newest schema version of each.
  std::map<std::string, int> known_schemas;
  Progress progress = [](const std::string&) {};
};

struct RestoreReport {
  Manifest manifest;
  std::vector<std::string> held_events;  // "<service>: <type> <id>", marked sent
};

// Verifies `from`, then restores it into `data_dir`: refused when a running
// shop holds the directory, when it holds anything and `force` is off, or
// when a database's schema is newer than this binary knows.
core::Result<RestoreReport, std::string> restore(const RestoreOptions& options);

}  // namespace emporium::backup
