#include <sqlite3.h>

#include <atomic>
#include <charconv>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "db/db.hpp"

namespace emporium::db {

std::int64_t Row::integer(std::size_t i) const {
  if (const auto* v = std::get_if<std::int64_t>(&values.at(i))) {
    return *v;
  }
  throw DbError(ErrorKind::other, "column " + std::to_string(i) + " is not an integer");
}

double Row::real(std::size_t i) const {
  if (const auto* v = std::get_if<double>(&values.at(i))) {
    return *v;
  }
  if (const auto* v = std::get_if<std::int64_t>(&values.at(i))) {
    return static_cast<double>(*v);
  }
  throw DbError(ErrorKind::other, "column " + std::to_string(i) + " is not a number");
}

const std::string& Row::text(std::size_t i) const {
  if (const auto* v = std::get_if<std::string>(&values.at(i))) {
    return *v;
  }
  throw DbError(ErrorKind::other, "column " + std::to_string(i) + " is not text");
}

namespace {

ErrorKind kind_of(int rc) {
  switch (rc & 0xFF) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return ErrorKind::busy;
    case SQLITE_CONSTRAINT:
      return ErrorKind::constraint;
    case SQLITE_CANTOPEN:
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_READONLY:
      return ErrorKind::unavailable;
    default:
      return ErrorKind::other;
  }
}

// The write lock of one database file among the connections of one pool.
// SQLite lets one writer in at a time and makes the others wait in its busy
// handler, which polls with sleeps of 1 to 100 ms; under concurrent writes
// those sleeps, not the work, set the latency. Writers of this process take
// turns on this lock instead, woken as soon as the previous one is done, and
// meet SQLite's own lock (and busy handler) only against other processes.
class WriteLock {
 public:
  explicit WriteLock(std::chrono::milliseconds timeout) : timeout_(timeout) {}
  // Waits at most the busy timeout; throws DbError(busy) after that, as
  // SQLite does when its own lock is not obtained in time.
  void lock() {
    if (!mutex_.try_lock_for(timeout_)) {
      throw DbError(ErrorKind::busy,
                    "sqlite: database is locked (write lock not obtained in time)");
    }
  }
  void unlock() noexcept { mutex_.unlock(); }

  // The log's length when a restart of it last timed out (see
  // SqliteConnection::restart_wal_if_long); read and written by the holder.
  int restart_failed_at = 0;
  // The log's length at the last passive checkpoint (0 after a restart);
  // read and written by any connection after its commit.
  std::atomic<int> checkpointed_at{0};

 private:
  std::chrono::milliseconds timeout_;
  std::timed_mutex mutex_;
};

// The pragmas of every connection. WAL with synchronous=NORMAL: a commit is
// durable against a crash of the process (the WAL is written before COMMIT
// returns) and synced at checkpoints. Pages are read into each connection's
// page cache, not mapped (mmap_size=0): with the file mapped, every reader
// unmaps and maps it again whenever a write has grown it, which under a
// checkout load cost more than the reads it saved, and the mapped pages
// counted in the process's resident memory, growing with the database.
constexpr const char* kPragmas =
    "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; "
    "PRAGMA mmap_size=0; PRAGMA temp_store=MEMORY; PRAGMA journal_size_limit=67108864;";

class SqliteConnection final : public Connection {
 public:
  SqliteConnection(const SqliteOptions& o, WriteLock& write_lock)
      : write_lock_(write_lock),
        busy_timeout_(o.busy_timeout),
        wal_restart_pages_(o.wal_restart_pages) {
    const int rc =
        sqlite3_open_v2(o.path.c_str(), &db_,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
    if (rc != SQLITE_OK) {
      std::string msg = db_ != nullptr ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
      sqlite3_close(db_);
      db_ = nullptr;
      throw DbError(ErrorKind::unavailable, "sqlite open " + o.path + ": " + msg);
    }
    sqlite3_busy_timeout(db_, static_cast<int>(o.busy_timeout.count()));
    exec_script(kPragmas);
    // Replaces SQLite's automatic checkpoint, which would run inside the
    // write lock: see maybe_checkpoint().
    sqlite3_wal_hook(db_, &SqliteConnection::on_wal_commit, this);
  }

  ~SqliteConnection() override {
    for (auto& [sql, prepared] : cache_) {
      sqlite3_finalize(prepared.stmt);
    }
    sqlite3_close(db_);
  }

  Result exec(std::string_view sql, std::initializer_list<Value> params) override {
    return run(sql, params.begin(), params.size());
  }
  Result exec(std::string_view sql, const std::vector<Value>& params) override {
    return run(sql, params.data(), params.size());
  }

  void exec_script(std::string_view sql) override {
    char* err = nullptr;
    const int rc = sqlite3_exec(db_, std::string(sql).c_str(), nullptr, nullptr, &err);
    if (rc != SQLITE_OK) {
      std::string msg = err != nullptr ? err : sqlite3_errstr(rc);
      sqlite3_free(err);
      throw DbError(kind_of(rc), "sqlite: " + msg);
    }
  }

  std::string_view dialect() const noexcept override { return "sqlite"; }

  // A write transaction holds the pool's write lock from BEGIN to its end.
  void begin(bool write) override {
    if (!write) {
      exec_script("BEGIN");
      return;
    }
    write_lock_.lock();
    try {
      exec_script("BEGIN IMMEDIATE");
    } catch (...) {
      write_lock_.unlock();
      throw;
    }
    holds_write_lock_ = true;
  }
  void commit() override {
    exec_script("COMMIT");
    restart_wal_if_long();
    release_write_lock();
    maybe_checkpoint();
  }
  void rollback() noexcept override {
    if (sqlite3_get_autocommit(db_) == 0) {
      sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    }
    release_write_lock();
  }

 private:
  // A statement prepared once per connection, with where each `$<i+1>`
  // sits among its parameters (SQLite numbers them in order of appearance).
  struct Prepared {
    sqlite3_stmt* stmt = nullptr;
    std::vector<int> slots;  // slots[i]: SQLite's index of $<i+1>, 0 when absent
  };

  const Prepared& prepare(std::string_view sql) {
    if (auto it = cache_.find(sql); it != cache_.end()) {
      return it->second;
    }
    Prepared p;
    const int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                                      SQLITE_PREPARE_PERSISTENT, &p.stmt, nullptr);
    if (rc != SQLITE_OK) {
      throw DbError(kind_of(rc), std::string("sqlite prepare: ") + sqlite3_errmsg(db_));
    }
    const int count = sqlite3_bind_parameter_count(p.stmt);
    for (int idx = 1; idx <= count; ++idx) {
      const char* name = sqlite3_bind_parameter_name(p.stmt, idx);
      const std::string_view n = name != nullptr ? name : "";
      std::size_t number = 0;
      if (n.size() < 2 || n[0] != '$' ||
          std::from_chars(n.data() + 1, n.data() + n.size(), number).ec != std::errc() ||
          number == 0) {
        continue;  // not $<number>: bind() says so if a value is given for it
      }
      if (p.slots.size() < number) {
        p.slots.resize(number, 0);
      }
      p.slots[number - 1] = idx;
    }
    return cache_.emplace(std::string(sql), std::move(p)).first->second;
  }

  void fail(int rc) { throw DbError(kind_of(rc), std::string("sqlite: ") + sqlite3_errmsg(db_)); }

  void release_write_lock() noexcept {
    if (holds_write_lock_) {
      holds_write_lock_ = false;
      write_lock_.unlock();
    }
  }

  // A statement that writes outside a transaction is one of its own: it
  // takes the write lock for as long as it runs.
  Result run(std::string_view sql, const Value* params, std::size_t count) {
    const Prepared& stmt = prepare(sql);
    if (sqlite3_get_autocommit(db_) != 0 && sqlite3_stmt_readonly(stmt.stmt) == 0) {
      std::unique_lock lock(write_lock_);
      auto result = step_all(stmt, params, count);
      restart_wal_if_long();
      lock.unlock();
      maybe_checkpoint();
      return result;
    }
    return step_all(stmt, params, count);
  }

  // After a commit: once the WAL holds kCheckpointPages pages more than at
  // the pool's last checkpoint, copies them back into the database file (a
  // PASSIVE checkpoint, as SQLite's automatic one, at the same size), outside
  // the write lock so that other writers go on meanwhile. Counted from the
  // last checkpoint, not from the log's start: a log that has not been
  // restarted yet is not checkpointed again by every commit. A checkpoint
  // that fails is tried again after as many pages more.
  static constexpr int kCheckpointPages = 1000;
  static int on_wal_commit(void* self, sqlite3*, const char*, int pages) {
    static_cast<SqliteConnection*>(self)->wal_pages_ = pages;
    return SQLITE_OK;
  }
  void maybe_checkpoint() noexcept {
    const int pages = std::exchange(wal_pages_, 0);
    int last = write_lock_.checkpointed_at.load();
    const int from = pages < last ? 0 : last;  // a shorter log has been restarted since
    if (pages >= from + kCheckpointPages &&
        write_lock_.checkpointed_at.compare_exchange_strong(last, pages)) {
      sqlite3_wal_checkpoint_v2(db_, nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
    }
  }

  // Called by a writer after its commit, still holding the write lock. A
  // passive checkpoint copies pages back but never moves the log's end back
  // to its start: that happens only when a writer finds every page copied and
  // no reader in the log, which under a steady load of short reads is never,
  // and the log then grows without bound (hundreds of MB a minute of
  // checkout). So once it holds wal_restart_pages, this writer copies it all
  // and waits for the readers in it to finish (a RESTART checkpoint), and the
  // next commit writes from the log's start; journal_size_limit then cuts the
  // file back. Other writers of this process wait on the write lock
  // meanwhile. The wait for readers is bounded by kRestartWait: if a long
  // read (a backup) is still in the log then, the log grows on, and the next
  // try comes after as many pages again.
  static constexpr std::chrono::milliseconds kRestartWait{200};
  void restart_wal_if_long() noexcept {
    if (wal_pages_ < write_lock_.restart_failed_at) {
      write_lock_.restart_failed_at = 0;  // restarted since, by SQLite itself
    }
    if (wal_pages_ < write_lock_.restart_failed_at + wal_restart_pages_) {
      return;
    }
    sqlite3_busy_timeout(db_, static_cast<int>(kRestartWait.count()));
    const int rc =
        sqlite3_wal_checkpoint_v2(db_, nullptr, SQLITE_CHECKPOINT_RESTART, nullptr, nullptr);
    sqlite3_busy_timeout(db_, static_cast<int>(busy_timeout_.count()));
    if (rc == SQLITE_OK) {
      write_lock_.restart_failed_at = 0;
      write_lock_.checkpointed_at = 0;
      wal_pages_ = 0;
    } else {
      write_lock_.restart_failed_at = wal_pages_;
    }
  }

  Result step_all(const Prepared& prepared, const Value* params, std::size_t count) {
    sqlite3_stmt* stmt = prepared.stmt;
    struct Reset {
      sqlite3_stmt* s;
      ~Reset() {
        sqlite3_reset(s);
        sqlite3_clear_bindings(s);
      }
    } reset{stmt};

    bind(prepared, params, count);
    Result result;
    const int ncols = sqlite3_column_count(stmt);
    result.columns.reserve(static_cast<std::size_t>(ncols));
    for (int c = 0; c < ncols; ++c) {
      result.columns.emplace_back(sqlite3_column_name(stmt, c));
    }
    for (;;) {
      const int rc = sqlite3_step(stmt);
      if (rc == SQLITE_DONE) {
        break;
      }
      if (rc != SQLITE_ROW) {
        fail(rc);
      }
      result.rows.push_back(read_row(stmt, ncols));
    }
    result.affected = sqlite3_changes64(db_);
    return result;
  }

  // Binds params[i] to the statement's parameter `$<i+1>`.
  void bind(const Prepared& prepared, const Value* params, std::size_t count) {
    sqlite3_stmt* stmt = prepared.stmt;
    for (std::size_t i = 0; i < count; ++i) {
      const int idx = i < prepared.slots.size() ? prepared.slots[i] : 0;
      if (idx == 0) {
        throw DbError(ErrorKind::other,
                      "sqlite: statement has no parameter $" + std::to_string(i + 1));
      }
      const int rc = std::visit(
          [&](const auto& v) -> int {
            using T = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<T, std::nullptr_t>) {
              return sqlite3_bind_null(stmt, idx);
            } else if constexpr (std::is_same_v<T, std::int64_t>) {
              return sqlite3_bind_int64(stmt, idx, v);
            } else if constexpr (std::is_same_v<T, double>) {
              return sqlite3_bind_double(stmt, idx, v);
            } else {
              return sqlite3_bind_text(stmt, idx, v.data(), static_cast<int>(v.size()),
                                       SQLITE_TRANSIENT);
            }
          },
          params[i]);
      if (rc != SQLITE_OK) {
        fail(rc);
      }
    }
  }

  // The current row of a stepped statement; blobs and text become strings.
  static Row read_row(sqlite3_stmt* stmt, int ncols) {
    Row row;
    row.values.reserve(static_cast<std::size_t>(ncols));
    for (int c = 0; c < ncols; ++c) {
      switch (sqlite3_column_type(stmt, c)) {
        case SQLITE_NULL:
          row.values.emplace_back(nullptr);
          break;
        case SQLITE_INTEGER:
          row.values.emplace_back(static_cast<std::int64_t>(sqlite3_column_int64(stmt, c)));
          break;
        case SQLITE_FLOAT:
          row.values.emplace_back(sqlite3_column_double(stmt, c));
          break;
        default: {
          const auto* p = reinterpret_cast<const char*>(sqlite3_column_blob(stmt, c));
          const int n = sqlite3_column_bytes(stmt, c);
          row.values.emplace_back(std::string(p != nullptr ? p : "", static_cast<std::size_t>(n)));
        }
      }
    }
    return row;
  }

  WriteLock& write_lock_;
  bool holds_write_lock_ = false;
  int wal_pages_ = 0;  // pages in the WAL after this connection's last commit
  std::chrono::milliseconds busy_timeout_;
  int wal_restart_pages_;
  sqlite3* db_ = nullptr;
  // Looked up by the statement's text without copying it.
  struct TextHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view text) const noexcept {
      return std::hash<std::string_view>{}(text);
    }
  };
  std::unordered_map<std::string, Prepared, TextHash, std::equal_to<>> cache_;
};

class SqliteDatabase final : public Database {
 public:
  explicit SqliteDatabase(SqliteOptions o)
      : options_(std::move(o)), write_lock_(options_.busy_timeout) {
    // Open one connection now so a bad path fails at start-up.
    idle_.push_back(std::make_unique<SqliteConnection>(options_, write_lock_));
    created_ = 1;
  }

  Lease acquire(std::chrono::milliseconds wait) override {
    std::unique_lock lock(mutex_);
    const auto deadline = std::chrono::steady_clock::now() + wait;
    for (;;) {
      if (!idle_.empty()) {
        auto c = std::move(idle_.back());
        idle_.pop_back();
        return Lease(*this, std::move(c));
      }
      if (created_ < options_.pool_size) {
        ++created_;
        lock.unlock();
        try {
          return Lease(*this, std::make_unique<SqliteConnection>(options_, write_lock_));
        } catch (...) {
          std::lock_guard relock(mutex_);
          --created_;
          throw;
        }
      }
      if (available_.wait_until(lock, deadline) == std::cv_status::timeout && idle_.empty()) {
        throw DbError(ErrorKind::unavailable, "sqlite: no connection free within the deadline");
      }
    }
  }

  bool ping() noexcept override {
    try {
      auto c = acquire(std::chrono::milliseconds(500));
      return c->exec("SELECT 1").rows.size() == 1;
    } catch (...) {
      return false;
    }
  }

  PoolStats stats() const override {
    std::lock_guard lock(mutex_);
    return PoolStats{created_, created_ - idle_.size(), options_.pool_size};
  }

 protected:
  void release(std::unique_ptr<Connection> c, bool healthy) noexcept override {
    std::lock_guard lock(mutex_);
    if (healthy) {
      c->rollback();  // never hand out a connection inside a transaction
      idle_.push_back(std::move(c));
    } else {
      --created_;
    }
    available_.notify_one();
  }

 private:
  SqliteOptions options_;
  WriteLock write_lock_;  // before the connections, which refer to it
  mutable std::mutex mutex_;
  std::condition_variable available_;
  std::vector<std::unique_ptr<Connection>> idle_;
  std::size_t created_ = 0;
};

}  // namespace

std::unique_ptr<Database> open_sqlite(const SqliteOptions& options) {
  return std::make_unique<SqliteDatabase>(options);
}

}  // namespace emporium::db
