#pragma once

#include <sqlite3.h>

#include <chrono>
#include <filesystem>
#include <stdexcept>
#include <string>

// A raw SQLite connection for the backup code, which needs what the db layer
// does not offer (the backup API, read snapshots held across calls).
namespace emporium::backup {

// One SQLite connection, closed on destruction.
class Handle {
 public:
  Handle(const std::filesystem::path& path, int flags, std::chrono::milliseconds busy) {
    const int rc = sqlite3_open_v2(path.c_str(), &db_, flags, nullptr);
    if (rc != SQLITE_OK) {
      const std::string msg = db_ != nullptr ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
      sqlite3_close(db_);
      db_ = nullptr;
      throw std::runtime_error("cannot open " + path.string() + ": " + msg);
    }
    sqlite3_busy_timeout(db_, static_cast<int>(busy.count()));
  }
  Handle(Handle&& o) noexcept : db_(o.db_) { o.db_ = nullptr; }
  Handle& operator=(Handle&&) = delete;
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  ~Handle() { sqlite3_close(db_); }

  sqlite3* get() const { return db_; }

  // Runs `sql`; returns SQLite's result code (SQLITE_OK or an error).
  int exec(const std::string& sql) const {
    return sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, nullptr);
  }
  // Runs `sql` and throws on failure, naming `what`.
  void must(const std::string& sql, const std::string& what) const {
    if (exec(sql) != SQLITE_OK) {
      throw std::runtime_error(what + ": " + sqlite3_errmsg(db_));
    }
  }
  // The first column of the first row of `sql` as text ("" when none).
  std::string scalar(const std::string& sql) const {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
      throw std::runtime_error(std::string(sqlite3_errmsg(db_)));
    }
    std::string out;
    const int rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW && sqlite3_column_type(stmt, 0) != SQLITE_NULL) {
      out = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
    }
    sqlite3_finalize(stmt);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
      throw std::runtime_error(std::string(sqlite3_errmsg(db_)));
    }
    return out;
  }

 private:
  sqlite3* db_ = nullptr;
};

constexpr int kReadWrite = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;

// The newest migration of `owner` the database holds (0 when none).
inline std::int64_t schema_version(const Handle& h, const std::string& owner) {
  // `owner` is one of the built-in service names, never user input.
  const auto v =
      h.scalar("SELECT max(version) FROM schema_migrations WHERE owner = '" + owner + "'");
  return v.empty() ? 0 : std::stoll(v);
}

}  // namespace emporium::backup
