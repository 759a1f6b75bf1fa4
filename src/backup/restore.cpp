#include <fcntl.h>
#include <unistd.h>

#include "backup/handle.hpp"
#include "backup/lock.hpp"
#include "backup/snapshot.hpp"
#include "core/ids.hpp"

namespace emporium::backup {

namespace fs = std::filesystem;

namespace {

// Why this binary cannot run on the backup's schemas, or "".
std::string schema_problem(const Manifest& m, const std::map<std::string, int>& known) {
  for (const auto& e : m.databases) {
    const auto it = known.find(e.name);
    if (it == known.end()) {
      return "the backup holds a database '" + e.name + "' this version does not know";
    }
    if (e.schema_version > it->second) {
      return e.file + " has schema version " + std::to_string(e.schema_version) +
             ", newer than this binary's " + std::to_string(it->second) + " (Emporium " +
             m.version + " wrote it): restore with that version or newer";
    }
  }
  return {};
}

// What the data directory holds besides the lock file.
std::vector<std::string> contents(const fs::path& dir) {
  std::vector<std::string> out;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().filename() != kLockFile) {
      out.push_back(entry.path().filename().string());
    }
  }
  return out;
}

// Removes the databases of every known service (and their WAL files).
void remove_databases(const fs::path& dir, const std::map<std::string, int>& known) {
  for (const auto& [name, version] : known) {
    for (const char* suffix : {".db", ".db-wal", ".db-shm", ".db-journal"}) {
      fs::remove(dir / (name + suffix));
    }
  }
}

void fsync_file(const fs::path& p) {
  const int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

// Marks the events a restored database still holds unsent as sent, so that
// none goes out a second time; returns them as "<service>: <type> <id>".
std::vector<std::string> hold_events(const fs::path& file, const std::string& service) {
  Handle h(file, kReadWrite, std::chrono::milliseconds(5'000));
  if (h.scalar("SELECT count(*) FROM sqlite_schema WHERE name = 'outbox'") != "1") {
    return {};
  }
  std::vector<std::string> held;
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(h.get(), "SELECT type, id FROM outbox WHERE sent_at IS NULL ORDER BY id",
                         -1, &stmt, nullptr) != SQLITE_OK) {
    throw std::runtime_error("read the outbox of " + file.string() + ": " +
                             sqlite3_errmsg(h.get()));
  }
  while (sqlite3_step(stmt) == SQLITE_ROW) {
    held.push_back(service + ": " + reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)) +
                   " " + reinterpret_cast<const char*>(sqlite3_column_text(stmt, 1)));
  }
  sqlite3_finalize(stmt);
  const auto now_us = std::chrono::duration_cast<std::chrono::microseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  h.must("UPDATE outbox SET sent_at = " + std::to_string(now_us) +
             ", claimed_by = NULL, claimed_until = NULL,"
             " last_error = 'held back by emporium restore' WHERE sent_at IS NULL",
         "hold back the events of " + file.string());
  return held;
}

// Copies the verified files in under temporary names, checks the copies and
// renames them into place.
void install(const RestoreOptions& o, const Manifest& m) {
  std::vector<std::pair<fs::path, fs::path>> staged;
  for (const auto& e : m.databases) {
    const auto final_path = o.data_dir / (e.name + ".db");
    const auto tmp = fs::path(final_path.string() + ".restoring");
    fs::copy_file(o.from / e.file, tmp, fs::copy_options::overwrite_existing);
    fsync_file(tmp);
    if (sha256_file(tmp) != e.sha256) {
      throw std::runtime_error("the copy of " + e.file + " in " + o.data_dir.string() +
                               " does not match the backup (disk full or failing?)");
    }
    staged.emplace_back(tmp, final_path);
    o.progress("restore: " + e.file + " copied and checked");
  }
  for (const auto& [tmp, final_path] : staged) {
    fs::rename(tmp, final_path);
  }
  fsync_file(o.data_dir);
}

}  // namespace

core::Result<RestoreReport, std::string> restore(const RestoreOptions& o) {
  auto m = verify(o.from, o.progress);
  if (!m) {
    return core::fail("refusing to restore: " + m.error());
  }
  if (auto why = schema_problem(*m, o.known_schemas); !why.empty()) {
    return core::fail("refusing to restore: " + why);
  }
  try {
    fs::create_directories(o.data_dir);
    auto lock = DataDirLock::try_take(o.data_dir, DataDirLock::Mode::exclusive);
    if (!lock) {
      return core::fail("refusing to restore: a running Emporium holds " + o.data_dir.string() +
                        " (it locks " + std::string(kLockFile) + "); stop it first");
    }
    const auto present = contents(o.data_dir);
    if (!present.empty() && !o.force) {
      return core::fail("refusing to restore: " + o.data_dir.string() + " is not empty (" +
                        present.front() + (present.size() > 1 ? ", ..." : "") +
                        "); restore into an empty directory, or pass --force to replace the "
                        "databases in it");
    }
    remove_databases(o.data_dir, o.known_schemas);
    install(o, *m);
    RestoreReport report{*m, {}};
    if (!o.replay_events) {
      for (const auto& e : m->databases) {
        auto held = hold_events(o.data_dir / (e.name + ".db"), e.name);
        report.held_events.insert(report.held_events.end(), held.begin(), held.end());
      }
    }
    o.progress("restore: done; " + std::to_string(report.held_events.size()) +
               " unsent events held back");
    return report;
  } catch (const std::exception& e) {
    return core::fail(std::string("restore failed: ") + e.what());
  }
}

}  // namespace emporium::backup
