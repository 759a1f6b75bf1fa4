#pragma once

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/error.hpp"

namespace emporium::db {

// A parameter or column value. Text and blobs are both std::string.
using Value = std::variant<std::nullptr_t, std::int64_t, double, std::string>;

enum class ErrorKind {
  unavailable,  // cannot connect, pool exhausted past the deadline, server gone
  busy,         // lock not obtained in time
  constraint,   // unique, foreign key, check or not-null violation
  other,        // bad SQL, type errors: bugs
};

// Thrown for database failures. Stores turn `constraint` into domain errors;
// the rest are infrastructure faults.
class DbError : public core::Error {
 public:
  DbError(ErrorKind kind, const std::string& what)
      : core::Error(what, kind == ErrorKind::unavailable || kind == ErrorKind::busy), kind_(kind) {}
  ErrorKind kind() const noexcept { return kind_; }

 private:
  ErrorKind kind_;
};

struct Row {
  std::vector<Value> values;

  bool is_null(std::size_t i) const { return std::holds_alternative<std::nullptr_t>(values.at(i)); }
  // Throw DbError(other) when the column holds another type.
  std::int64_t integer(std::size_t i) const;
  double real(std::size_t i) const;
  const std::string& text(std::size_t i) const;
};

struct Result {
  std::vector<std::string> columns;
  std::vector<Row> rows;
  std::int64_t affected = 0;  // rows changed by INSERT/UPDATE/DELETE
};

// One database connection. Not thread-safe: a connection is leased to one
// thread at a time by a Database.
class Connection {
 public:
  virtual ~Connection() = default;

  // Runs one statement. Parameters are written $1, $2, ... in the SQL (the same
  // text works on SQLite and PostgreSQL). Statements are prepared once per
  // connection and cached by their text. Throws DbError.
  virtual Result exec(std::string_view sql, std::initializer_list<Value> params = {}) = 0;
  virtual Result exec(std::string_view sql, const std::vector<Value>& params) = 0;

  // Runs a script of several statements without parameters (migrations).
  virtual void exec_script(std::string_view sql) = 0;

  // "sqlite" or "postgres".
  virtual std::string_view dialect() const noexcept = 0;

  // Transaction control; prefer the Transaction guard. `write` takes the
  // write lock up front where the engine needs it (SQLite BEGIN IMMEDIATE).
  virtual void begin(bool write) = 0;
  virtual void commit() = 0;
  virtual void rollback() noexcept = 0;
};

// A pool of connections to one database.
class Database {
 public:
  class Lease;

  virtual ~Database() = default;

  // Hands out a connection for exclusive use until the lease is destroyed.
  // Waits at most `wait` for one; throws DbError(unavailable) after that.
  virtual Lease acquire(std::chrono::milliseconds wait = std::chrono::milliseconds(2'000)) = 0;

  // True when a trivial query succeeds within a short deadline; never throws.
  virtual bool ping() noexcept = 0;

  struct PoolStats {
    std::size_t open = 0;    // connections made and not closed
    std::size_t in_use = 0;  // of those, leased right now
    std::size_t size = 0;    // the most it will open
  };
  virtual PoolStats stats() const = 0;

 protected:
  virtual void release(std::unique_ptr<Connection> c, bool healthy) noexcept = 0;
};

class Database::Lease {
 public:
  Lease(Database& owner, std::unique_ptr<Connection> c) : owner_(&owner), conn_(std::move(c)) {}
  Lease(Lease&& o) noexcept = default;
  Lease& operator=(Lease&&) = delete;
  ~Lease() {
    if (conn_) {
      owner_->release(std::move(conn_), !broken_);
    }
  }
  Connection& operator*() const noexcept { return *conn_; }
  Connection* operator->() const noexcept { return conn_.get(); }
  // Marks the connection unusable; the pool discards it instead of reusing it.
  void mark_broken() noexcept { broken_ = true; }

 private:
  Database* owner_;
  std::unique_ptr<Connection> conn_;
  bool broken_ = false;
};

// Begins a transaction on construction and rolls it back on destruction
// unless commit() was called.
class Transaction {
 public:
  explicit Transaction(Connection& c, bool write = true) : c_(c) { c_.begin(write); }
  ~Transaction() {
    if (!done_) {
      c_.rollback();
    }
  }
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  void commit() {
    c_.commit();
    done_ = true;
  }

 private:
  Connection& c_;
  bool done_ = false;
};

struct SqliteOptions {
  std::string path;           // file path, created if missing
  std::size_t pool_size = 8;  // connections
  std::chrono::milliseconds busy_timeout{5'000};
  // Once the write-ahead log holds this many pages, the writer that finds it
  // so restarts it from its beginning (see SqliteConnection::restart_wal_if_long).
  int wal_restart_pages = 8'192;
};

// Opens a SQLite database in WAL mode with foreign keys on and a busy timeout.
// Throws DbError(unavailable) when the file cannot be opened.
std::unique_ptr<Database> open_sqlite(const SqliteOptions& options);

struct PostgresOptions {
  // postgres://user:pass@host:port/db?param=value (any libpq URI or
  // key=value connection string).
  std::string url;
  std::size_t pool_size = 8;  // connections
  std::chrono::milliseconds connect_timeout{2'000};
  std::chrono::milliseconds statement_timeout{5'000};  // per session, server side
  // When set, every session works in this schema alone (search_path), so
  // several services can share one database, each with its own tables and
  // schema_migrations. open_postgres creates it when missing, which needs the
  // CREATE privilege on the database (DbError(other) without it).
  std::string schema{};
};

// Opens a pool of PostgreSQL connections (libpq) and one connection right away,
// so a bad URL or a down server fails at start-up. Throws DbError(unavailable)
// then; its message names the URL with the password masked. Connections that
// break (server restart, network) are dropped and replaced on a later acquire;
// while connecting keeps failing, acquire fails fast with DbError(unavailable).
std::unique_ptr<Database> open_postgres(const PostgresOptions& options);

}  // namespace emporium::db
