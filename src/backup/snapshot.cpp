#include "backup/snapshot.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <stdexcept>
#include <thread>

#include "backup/handle.hpp"
#include "core/ids.hpp"
#include "version.hpp"

namespace emporium::backup {

namespace fs = std::filesystem;

namespace {

using Clock = std::chrono::steady_clock;

void fsync_path(const fs::path& p) {
  const int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

std::string mib(std::uintmax_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f MiB", static_cast<double>(bytes) / (1024.0 * 1024.0));
  return buf;
}

std::string ms_since(Clock::time_point t0) {
  return std::to_string(
             std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count()) +
         " ms";
}

// A read snapshot of every database, all taken at one instant.
struct Snapshot {
  std::vector<std::string> names;
  std::vector<Handle> readers;  // each inside a read transaction
  std::string taken_at;
  std::int64_t pause_us = 0;
};

// Takes every write lock, or none (false).
bool lock_all(const std::vector<fs::path>& paths, std::vector<Handle>& writers) {
  for (const auto& p : paths) {
    auto& w = writers.emplace_back(p, kReadWrite, std::chrono::milliseconds(200));
    if (w.exec("BEGIN IMMEDIATE") != SQLITE_OK) {
      writers.clear();  // closing a connection ends its transaction
      return false;
    }
  }
  return true;
}

Snapshot snapshot(const std::vector<std::string>& names, const std::vector<fs::path>& paths,
                  std::chrono::milliseconds lock_timeout) {
  const auto deadline = Clock::now() + lock_timeout;
  std::vector<Handle> writers;
  while (!lock_all(paths, writers)) {
    if (Clock::now() > deadline) {
      throw std::runtime_error("could not pause writes to every database within " +
                               std::to_string(lock_timeout.count()) + " ms");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  const auto paused = Clock::now();
  Snapshot s{names, {}, core::now_iso8601(), 0};
  for (const auto& p : paths) {
    auto& r = s.readers.emplace_back(p, kReadWrite, std::chrono::milliseconds(5'000));
    r.must("BEGIN", "begin a read snapshot of " + p.string());
    r.scalar("SELECT count(*) FROM sqlite_schema");  // the snapshot starts at the first read
  }
  for (auto& w : writers) {
    w.exec("ROLLBACK");
  }
  writers.clear();
  s.pause_us = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - paused).count();
  return s;
}

// Copies one snapshot into `dest` (a plain rollback-journal file).
DatabaseEntry copy_one(const std::string& name, const Handle& reader, const fs::path& dest) {
  DatabaseEntry e{name, name + ".db", schema_version(reader, name), 0, {}};
  {
    Handle out(dest, kReadWrite | SQLITE_OPEN_CREATE, std::chrono::milliseconds(0));
    sqlite3_backup* b = sqlite3_backup_init(out.get(), "main", reader.get(), "main");
    if (b == nullptr) {
      throw std::runtime_error("backup of " + name + ": " + sqlite3_errmsg(out.get()));
    }
    const int rc = sqlite3_backup_step(b, -1);
    sqlite3_backup_finish(b);
    if (rc != SQLITE_DONE) {
      throw std::runtime_error("backup of " + name + ": " + sqlite3_errstr(rc));
    }
  }
  fsync_path(dest);
  e.size = fs::file_size(dest);
  e.sha256 = sha256_file(dest);
  return e;
}

}  // namespace

core::Result<Manifest, std::string> take(const BackupOptions& o) {
  std::vector<std::string> names;
  std::vector<fs::path> paths;
  for (const auto& n : o.databases) {
    if (fs::exists(o.data_dir / (n + ".db"))) {
      names.push_back(n);
      paths.push_back(o.data_dir / (n + ".db"));
    }
  }
  if (names.empty()) {
    return core::fail("no service database in " + o.data_dir.string() +
                      " (expected files such as product.db)");
  }
  if (fs::exists(o.out)) {
    return core::fail(o.out.string() + " exists already: name a new backup directory");
  }
  const auto tmp = fs::path(o.out.string() + ".partial");
  try {
    fs::remove_all(tmp);
    fs::create_directories(tmp);
    const auto t0 = Clock::now();
    auto snap = snapshot(names, paths, o.lock_timeout);
    o.progress("backup: writes paused " + std::to_string(snap.pause_us) + " us for a snapshot of " +
               std::to_string(names.size()) + " databases");
    Manifest m{
        kFormat, snap.taken_at, std::string(version()), std::string(git_sha()), snap.pause_us, {}};
    for (std::size_t i = 0; i < names.size(); ++i) {
      const auto t = Clock::now();
      m.databases.push_back(copy_one(names[i], snap.readers[i], tmp / (names[i] + ".db")));
      o.progress("backup: " + names[i] + ".db " + mib(m.databases.back().size) + " in " +
                 ms_since(t) + " (" + std::to_string(i + 1) + "/" + std::to_string(names.size()) +
                 ")");
    }
    snap.readers.clear();
    write_manifest(tmp, m);
    fsync_path(tmp);
    fs::rename(tmp, o.out);
    fsync_path(o.out.parent_path().empty() ? fs::path(".") : o.out.parent_path());
    o.progress("backup: done in " + ms_since(t0) + ": " + o.out.string());
    return m;
  } catch (const std::exception& e) {
    std::error_code ec;
    fs::remove_all(tmp, ec);
    return core::fail(std::string("backup failed: ") + e.what());
  }
}

namespace {

// Why one database file of a backup is unusable, or "" when it is sound.
std::string check_file(const fs::path& dir, const DatabaseEntry& e) {
  const auto path = dir / e.file;
  if (!fs::is_regular_file(path)) {
    return e.file + " is missing";
  }
  const auto size = fs::file_size(path);
  if (size != e.size) {
    return e.file + " has " + std::to_string(size) + " bytes, the manifest says " +
           std::to_string(e.size);
  }
  const auto sum = sha256_file(path);
  if (sum != e.sha256) {
    return e.file + " has SHA-256 " + sum + ", the manifest says " + e.sha256;
  }
  try {
    Handle h("file:" + path.string() + "?immutable=1",
             SQLITE_OPEN_READONLY | SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX,
             std::chrono::milliseconds(0));
    const auto integrity = h.scalar("PRAGMA integrity_check");
    if (integrity != "ok") {
      return e.file + " fails PRAGMA integrity_check: " + integrity;
    }
    if (schema_version(h, e.name) != e.schema_version) {
      return e.file + " holds schema version " + std::to_string(schema_version(h, e.name)) +
             ", the manifest says " + std::to_string(e.schema_version);
    }
  } catch (const std::exception& ex) {
    return e.file + " is not a readable SQLite database: " + ex.what();
  }
  return {};
}

}  // namespace

core::Result<Manifest, std::string> verify(const fs::path& backup, const Progress& progress) {
  auto m = read_manifest(backup);
  if (!m) {
    return core::fail("backup " + backup.string() + " is unusable: " + m.error());
  }
  for (const auto& e : m->databases) {
    const auto t = Clock::now();
    if (auto why = check_file(backup, e); !why.empty()) {
      return core::fail("backup " + backup.string() + " is corrupted: " + why);
    }
    progress("verify: " + e.file + " ok, schema " + std::to_string(e.schema_version) + ", " +
             mib(e.size) + " in " + ms_since(t));
  }
  return std::move(*m);
}

}  // namespace emporium::backup
