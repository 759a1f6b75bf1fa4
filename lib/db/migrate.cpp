#include "db/migrate.hpp"

#include <algorithm>
#include <chrono>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>

namespace emporium::db {

namespace {

constexpr std::int64_t kMigrationLockKey = 0x656d706f7269756d;  // "emporium"

constexpr std::string_view kCreateTable =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " owner TEXT NOT NULL,"
    " version INTEGER NOT NULL,"
    " name TEXT NOT NULL,"
    " applied_at TEXT NOT NULL,"
    " PRIMARY KEY (owner, version))";

constexpr std::string_view kApplied =
    "SELECT version, name FROM schema_migrations WHERE owner = $1";

constexpr std::string_view kRecord =
    "INSERT INTO schema_migrations (owner, version, name, applied_at) VALUES ($1, $2, $3, $4)";

std::string now_iso8601() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace

std::vector<Migration> migrations_from(
    const std::vector<std::pair<std::string_view, std::string_view>>& files) {
  std::vector<Migration> out;
  for (const auto& [file, sql] : files) {
    const std::string stem = std::filesystem::path(file).stem().string();
    const auto underscore = stem.find('_');
    if (underscore == std::string::npos || underscore == 0 ||
        !std::all_of(stem.begin(), stem.begin() + static_cast<long>(underscore),
                     [](char c) { return c >= '0' && c <= '9'; })) {
      throw std::runtime_error("migration file not named NNNN_name.sql: " + std::string(file));
    }
    out.push_back(
        {std::stoi(stem.substr(0, underscore)), stem.substr(underscore + 1), std::string(sql)});
  }
  std::sort(out.begin(), out.end(),
            [](const auto& a, const auto& b) { return a.version < b.version; });
  for (std::size_t i = 1; i < out.size(); ++i) {
    if (out[i].version == out[i - 1].version) {
      throw std::runtime_error("two migrations with version " + std::to_string(out[i].version));
    }
  }
  return out;
}

std::vector<Migration> load_migrations(const std::filesystem::path& dir) {
  std::vector<std::pair<std::string, std::string>> contents;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (!entry.is_regular_file() || entry.path().extension() != ".sql") {
      continue;
    }
    std::ifstream in(entry.path());
    std::ostringstream sql;
    sql << in.rdbuf();
    contents.emplace_back(entry.path().filename().string(), sql.str());
  }
  std::vector<std::pair<std::string_view, std::string_view>> views(contents.begin(),
                                                                   contents.end());
  return migrations_from(views);
}

namespace {

// Serialises migrators on PostgreSQL, where BEGIN takes no lock (SQLite's
// BEGIN IMMEDIATE already does): a transaction-scoped advisory lock, released
// at commit or rollback.
void lock_migrations(Connection& conn) {
  if (conn.dialect() == "postgres") {
    conn.exec("SELECT pg_advisory_xact_lock($1)", {kMigrationLockKey});
  }
}

}  // namespace

int migrate(Database& db, std::string_view owner, const std::vector<Migration>& migrations) {
  auto conn = db.acquire();
  {
    Transaction tx(*conn, true);
    lock_migrations(*conn);
    conn->exec(kCreateTable);
    tx.commit();
  }
  int applied = 0;
  for (const auto& m : migrations) {
    // Read the record inside the locked write transaction, so two processes
    // migrating at once apply each migration exactly once.
    Transaction tx(*conn, true);
    lock_migrations(*conn);
    std::map<std::int64_t, std::string> done;
    for (const auto& row : conn->exec(kApplied, {std::string(owner)}).rows) {
      done.emplace(row.integer(0), row.text(1));
    }
    if (auto it = done.find(m.version); it != done.end()) {
      if (it->second != m.name) {
        throw std::runtime_error("migration " + std::string(owner) + "/" +
                                 std::to_string(m.version) + " was applied as '" + it->second +
                                 "' but is now '" + m.name + "'");
      }
      continue;
    }
    conn->exec_script(m.sql);
    conn->exec(kRecord,
               {std::string(owner), static_cast<std::int64_t>(m.version), m.name, now_iso8601()});
    tx.commit();
    ++applied;
  }
  return applied;
}

}  // namespace emporium::db
