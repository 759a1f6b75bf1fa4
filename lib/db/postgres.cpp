// PostgreSQL implementation of db::Database and db::Connection on libpq.
//
// Statements are prepared once per connection (PQprepare + PQdescribePrepared)
// and cached by their SQL text. Parameters travel as text, except strings bound
// to bytea parameters, which travel as raw bytes (binary format) so blobs
// round-trip exactly. Result columns are mapped by type OID to Value.

#include <libpq-fe.h>
#include <poll.h>

#include <algorithm>
#include <charconv>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <optional>
#include <unordered_map>

#include "db/db.hpp"

namespace emporium::db {

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// Built-in type OIDs (catalog/pg_type_d.h, stable across versions).
constexpr Oid kBoolOid = 16;
constexpr Oid kByteaOid = 17;
constexpr Oid kInt8Oid = 20;
constexpr Oid kInt2Oid = 21;
constexpr Oid kInt4Oid = 23;
constexpr Oid kFloat4Oid = 700;
constexpr Oid kFloat8Oid = 701;
constexpr Oid kNumericOid = 1700;

// After a failed connect, acquire fails at once for this long instead of
// dialling a server that is down again.
constexpr milliseconds kConnectBackoff{250};

struct ResultDeleter {
  void operator()(PGresult* r) const noexcept { PQclear(r); }
};
using ResultPtr = std::unique_ptr<PGresult, ResultDeleter>;

// --- keeping passwords out of messages --------------------------------------

std::string percent_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      unsigned value = 0;
      const auto [p, ec] = std::from_chars(s.data() + i + 1, s.data() + i + 3, value, 16);
      if (ec == std::errc() && p == s.data() + i + 3) {
        out.push_back(static_cast<char>(value));
        i += 2;
        continue;
      }
    }
    out.push_back(s[i]);
  }
  return out;
}

// Every spelling of the password the connection string may carry: in the
// userinfo of a URI, as a `password=` parameter, and as libpq parses it.
std::vector<std::string> secrets_of(const std::string& url) {
  std::vector<std::string> secrets;
  auto add = [&](std::string_view s) {
    if (!s.empty()) {
      secrets.emplace_back(s);
      secrets.push_back(percent_decode(s));
    }
  };
  if (const auto scheme = url.find("://"); scheme != std::string::npos) {
    // libpq reads user[:password] up to the first '@' met before any '/'.
    const auto start = scheme + 3;
    const auto stop = url.find_first_of("@/", start);
    if (stop != std::string::npos && url[stop] == '@') {
      const std::string_view creds(url.data() + start, stop - start);
      if (const auto colon = creds.find(':'); colon != std::string_view::npos) {
        add(creds.substr(colon + 1));
      }
    }
  }
  for (auto at = url.find("password"); at != std::string::npos; at = url.find("password", at + 1)) {
    auto v = url.find_first_not_of(" \t", at + 8);
    if (v == std::string::npos || url[v] != '=') {
      continue;
    }
    v = url.find_first_not_of(" \t", v + 1);
    if (v == std::string::npos) {
      break;
    }
    if (url[v] == '\'') {
      const auto close = url.find('\'', v + 1);
      add(std::string_view(url).substr(
          v + 1, close == std::string::npos ? std::string::npos : close - v - 1));
    } else {
      const auto end = url.find_first_of("& \t", v);
      add(std::string_view(url).substr(v, end == std::string::npos ? std::string::npos : end - v));
    }
  }
  char* err = nullptr;
  if (PQconninfoOption* opts = PQconninfoParse(url.c_str(), &err)) {
    for (PQconninfoOption* o = opts; o->keyword != nullptr; ++o) {
      if (std::strcmp(o->keyword, "password") == 0 && o->val != nullptr) {
        add(o->val);
      }
    }
    PQconninfoFree(opts);
  }
  PQfreemem(err);
  std::sort(secrets.begin(), secrets.end(),
            [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  return secrets;
}

std::string scrub(std::string text, const std::vector<std::string>& secrets) {
  for (const auto& s : secrets) {
    if (s.empty()) {
      continue;
    }
    for (auto at = text.find(s); at != std::string::npos; at = text.find(s, at + 3)) {
      text.replace(at, s.size(), "***");
    }
  }
  return text;
}

// A libpq message on one line: "a\n\tb\n" -> "a; b".
std::string trimmed(const char* s) {
  std::string out;
  for (const char* p = s != nullptr ? s : ""; *p != '\0'; ++p) {
    if (*p == '\n') {
      out += "; ";
    } else if (*p != '\t') {
      out += *p;
    }
  }
  while (!out.empty() && (out.back() == ' ' || out.back() == ';')) {
    out.pop_back();
  }
  return out;
}

// --- errors ------------------------------------------------------------------

ErrorKind kind_of(std::string_view sqlstate) {
  if (sqlstate.size() != 5) {
    return ErrorKind::other;
  }
  if (sqlstate.starts_with("23")) {
    return ErrorKind::constraint;
  }
  if (sqlstate == "40001" || sqlstate == "40P01" || sqlstate == "55P03" || sqlstate == "57014") {
    return ErrorKind::busy;
  }
  if (sqlstate.starts_with("08") || sqlstate == "57P01" || sqlstate == "57P02" ||
      sqlstate == "57P03") {
    return ErrorKind::unavailable;
  }
  return ErrorKind::other;
}

std::string to_text(std::int64_t v) {
  char buf[24];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, end);
}

std::string to_text(double v) {
  char buf[32];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, end);
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}

// bytea text output (hex format, "\x0a0b...") to raw bytes.
std::string decode_bytea(const char* p, std::size_t n) {
  if (n < 2 || p[0] != '\\' || p[1] != 'x') {
    return std::string(p, n);  // escape format: leave as the server wrote it
  }
  std::string out;
  out.reserve((n - 2) / 2);
  for (std::size_t i = 2; i + 1 < n; i += 2) {
    const int hi = hex_digit(p[i]);
    const int lo = hex_digit(p[i + 1]);
    if (hi < 0 || lo < 0) {
      throw DbError(ErrorKind::other, "postgres: malformed bytea value");
    }
    out.push_back(static_cast<char>((hi << 4) | lo));
  }
  return out;
}

// --- connection ----------------------------------------------------------------

class PgConnection final : public Connection {
 public:
  // Connects within options.connect_timeout. Throws DbError(unavailable) with
  // the password masked.
  explicit PgConnection(const PostgresOptions& o) {
    std::optional<std::string> why = start(o);
    if (!why) {
      why = handshake(o.connect_timeout);
    }
    if (!why) {
      // libpq prints notices ("relation already exists, skipping") on stderr
      // by default; they are not errors, drop them.
      PQsetNoticeProcessor(
          conn_, [](void*, const char*) {}, nullptr);
      why = set_up_session(o);
    }
    if (why) {
      if (conn_ != nullptr) {
        PQfinish(conn_);
        conn_ = nullptr;
      }
      throw DbError(ErrorKind::unavailable,
                    scrub("postgres connect " + o.url + ": " + *why, secrets_of(o.url)));
    }
  }

  ~PgConnection() override { PQfinish(conn_); }
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;

  // `name` as a double-quoted SQL identifier.
  std::string quote_identifier(std::string_view name) {
    char* quoted = PQescapeIdentifier(conn_, name.data(), name.size());
    if (quoted == nullptr) {
      throw DbError(ErrorKind::other,
                    "postgres: bad identifier: " + trimmed(PQerrorMessage(conn_)));
    }
    std::string out(quoted);
    PQfreemem(quoted);
    return out;
  }

  Result exec(std::string_view sql, std::initializer_list<Value> params) override {
    return run(sql, params.begin(), params.size());
  }
  Result exec(std::string_view sql, const std::vector<Value>& params) override {
    return run(sql, params.data(), params.size());
  }

  void exec_script(std::string_view sql) override {
    ensure_connected();
    take(PQexec(conn_, std::string(sql).c_str()));
  }

  std::string_view dialect() const noexcept override { return "postgres"; }

  // READ COMMITTED; `write` needs nothing up front on PostgreSQL.
  void begin(bool /*write*/) override { exec_script("BEGIN"); }

  // Throws DbError(other) when a statement of the transaction failed (the
  // server would silently turn COMMIT into ROLLBACK); the transaction is then
  // rolled back.
  void commit() override {
    ensure_connected();
    if (PQtransactionStatus(conn_) == PQTRANS_INERROR) {
      rollback();
      throw DbError(ErrorKind::other,
                    "postgres: commit of a transaction in which a statement failed; rolled back");
    }
    take(PQexec(conn_, "COMMIT"));
    if (last_command_ == "ROLLBACK") {
      throw DbError(ErrorKind::other, "postgres: the transaction was rolled back at commit");
    }
  }

  void rollback() noexcept override {
    const auto tx = PQtransactionStatus(conn_);
    if (tx == PQTRANS_INTRANS || tx == PQTRANS_INERROR) {
      PQclear(PQexec(conn_, "ROLLBACK"));
    }
  }

  // True when the connection may be handed out: connected, outside any
  // transaction, and the server has sent nothing unasked (a server that shut
  // down leaves a FATAL message and EOF on every idle connection).
  bool idle_and_sound() const noexcept {
    if (PQstatus(conn_) != CONNECTION_OK || PQtransactionStatus(conn_) != PQTRANS_IDLE) {
      return false;
    }
    pollfd pfd{PQsocket(conn_), POLLIN, 0};
    return pfd.fd >= 0 && ::poll(&pfd, 1, 0) == 0;
  }

  // Ends any transaction; true when the connection can go back to the pool.
  bool reset_for_reuse() noexcept {
    if (PQstatus(conn_) != CONNECTION_OK) {
      return false;
    }
    rollback();
    return PQstatus(conn_) == CONNECTION_OK && PQtransactionStatus(conn_) == PQTRANS_IDLE;
  }

  // Runs SELECT 1 and waits for the answer at most `wait`. On false the
  // connection may be mid-query and must be discarded.
  bool ping(milliseconds wait) noexcept {
    if (PQstatus(conn_) != CONNECTION_OK || PQsendQuery(conn_, "SELECT 1") == 0) {
      return false;
    }
    const auto deadline = Clock::now() + wait;
    bool ok = false;
    for (;;) {
      if (PQconsumeInput(conn_) == 0) {
        return false;
      }
      if (PQisBusy(conn_) != 0) {
        const auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now()).count();
        pollfd pfd{PQsocket(conn_), POLLIN, 0};
        if (left <= 0 || ::poll(&pfd, 1, static_cast<int>(left)) <= 0) {
          return false;
        }
        continue;
      }
      PGresult* r = PQgetResult(conn_);
      if (r == nullptr) {
        return ok;
      }
      ok = ok || (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1);
      PQclear(r);
    }
  }

 private:
  // Each connection step returns why it failed, or nothing when it succeeded.

  // Starts the non-blocking connect. Defaults the URL may override (libpq:
  // later keywords win; "dbname" expands the URL in place). Keepalives
  // notice a silently dead server.
  std::optional<std::string> start(const PostgresOptions& o) {
    const char* keys[] = {"application_name",
                          "keepalives",
                          "keepalives_idle",
                          "keepalives_interval",
                          "keepalives_count",
                          "dbname",
                          nullptr};
    const char* values[] = {"emporium", "1", "10", "5", "3", o.url.c_str(), nullptr};
    conn_ = PQconnectStartParams(keys, values, 1);
    if (conn_ == nullptr) {
      return "out of memory";
    }
    if (PQstatus(conn_) == CONNECTION_BAD) {
      return trimmed(PQerrorMessage(conn_));
    }
    return std::nullopt;
  }

  // Drives the non-blocking handshake within `timeout`: libpq ignores
  // connect_timeout in this mode, and milliseconds matter here.
  std::optional<std::string> handshake(milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    PostgresPollingStatusType state = PGRES_POLLING_WRITING;
    while (state != PGRES_POLLING_OK) {
      if (state == PGRES_POLLING_FAILED) {
        return trimmed(PQerrorMessage(conn_));
      }
      pollfd pfd{PQsocket(conn_),
                 static_cast<short>(state == PGRES_POLLING_READING ? POLLIN : POLLOUT), 0};
      const auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now()).count();
      if (left <= 0) {
        return "timed out after " + std::to_string(timeout.count()) + " ms";
      }
      const int ready = ::poll(&pfd, 1, static_cast<int>(left));
      if (ready < 0 && errno != EINTR) {
        return std::string("poll: ") + std::strerror(errno);
      }
      if (ready <= 0) {
        continue;  // interrupted or timed out: the deadline check decides
      }
      state = PQconnectPoll(conn_);
    }
    return std::nullopt;
  }

  // Sets the session's statement timeout and, when given, its search path.
  std::optional<std::string> set_up_session(const PostgresOptions& o) {
    std::string setup = "SET statement_timeout = " + std::to_string(o.statement_timeout.count());
    if (!o.schema.empty()) {
      char* quoted = PQescapeIdentifier(conn_, o.schema.data(), o.schema.size());
      if (quoted == nullptr) {
        return "bad schema name: " + trimmed(PQerrorMessage(conn_));
      }
      setup += std::string("; SET search_path TO ") + quoted;
      PQfreemem(quoted);
    }
    ResultPtr r(PQexec(conn_, setup.c_str()));
    if (PQresultStatus(r.get()) != PGRES_COMMAND_OK) {
      return "session set-up: " + trimmed(PQerrorMessage(conn_));
    }
    return std::nullopt;
  }

  struct Prepared {
    std::string name;
    std::vector<Oid> param_types;
  };

  void ensure_connected() {
    if (PQstatus(conn_) != CONNECTION_OK) {
      throw DbError(ErrorKind::unavailable, "postgres: connection lost");
    }
  }

  [[noreturn]] void fail(const PGresult* r) {
    ErrorKind kind = ErrorKind::other;
    std::string message;
    const char* sqlstate = r != nullptr ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
    if (sqlstate != nullptr) {
      kind = kind_of(sqlstate);
    }
    if (PQstatus(conn_) != CONNECTION_OK) {
      kind = ErrorKind::unavailable;
    }
    // The primary message only: DETAIL lines can carry row values (e-mail
    // addresses in a unique violation) that do not belong in logs.
    const char* primary = r != nullptr ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : nullptr;
    message = "postgres: " + trimmed(primary != nullptr ? primary : PQerrorMessage(conn_));
    if (sqlstate != nullptr) {
      message += std::string(" (SQLSTATE ") + sqlstate + ")";
    }
    throw DbError(kind, message);
  }

  // Checks a result and converts it; throws DbError for errors.
  Result take(PGresult* raw) {
    ResultPtr r(raw);
    const auto status = r != nullptr ? PQresultStatus(r.get()) : PGRES_FATAL_ERROR;
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK && status != PGRES_EMPTY_QUERY) {
      fail(r.get());
    }
    last_command_ = PQcmdStatus(r.get());
    Result result;
    const int ncols = PQnfields(r.get());
    const int nrows = PQntuples(r.get());
    result.columns.reserve(static_cast<std::size_t>(ncols));
    for (int c = 0; c < ncols; ++c) {
      result.columns.emplace_back(PQfname(r.get(), c));
    }
    result.rows.reserve(static_cast<std::size_t>(nrows));
    for (int i = 0; i < nrows; ++i) {
      Row row;
      row.values.reserve(static_cast<std::size_t>(ncols));
      for (int c = 0; c < ncols; ++c) {
        row.values.push_back(cell(r.get(), i, c));
      }
      result.rows.push_back(std::move(row));
    }
    const char* tuples = PQcmdTuples(r.get());
    std::from_chars(tuples, tuples + std::strlen(tuples), result.affected);
    return result;
  }

  static Value cell(const PGresult* r, int i, int c) {
    if (PQgetisnull(r, i, c) != 0) {
      return nullptr;
    }
    const char* p = PQgetvalue(r, i, c);
    const auto n = static_cast<std::size_t>(PQgetlength(r, i, c));
    switch (PQftype(r, c)) {
      case kInt2Oid:
      case kInt4Oid:
      case kInt8Oid: {
        std::int64_t v = 0;
        const auto [end, ec] = std::from_chars(p, p + n, v);
        if (ec != std::errc() || end != p + n) {
          throw DbError(ErrorKind::other,
                        "postgres: bad integer: " + std::string(p, std::min<std::size_t>(n, 32)));
        }
        return v;
      }
      case kFloat4Oid:
      case kFloat8Oid:
      case kNumericOid: {
        double v = 0;
        const auto [end, ec] = std::from_chars(p, p + n, v);
        if (ec != std::errc() || end != p + n) {
          throw DbError(ErrorKind::other, "postgres: number out of double range: " +
                                              std::string(p, std::min<std::size_t>(n, 32)));
        }
        return v;
      }
      case kBoolOid:
        return std::int64_t{n > 0 && p[0] == 't' ? 1 : 0};
      case kByteaOid:
        return decode_bytea(p, n);
      default:
        return std::string(p, n);
    }
  }

  const Prepared& prepare(std::string_view sql) {
    std::string key(sql);
    if (auto it = cache_.find(key); it != cache_.end()) {
      return it->second;
    }
    Prepared p{"emporium_" + std::to_string(++statements_), {}};
    take(PQprepare(conn_, p.name.c_str(), key.c_str(), 0, nullptr));
    ResultPtr d(PQdescribePrepared(conn_, p.name.c_str()));
    if (PQresultStatus(d.get()) != PGRES_COMMAND_OK) {
      fail(d.get());
    }
    const int n = PQnparams(d.get());
    for (int i = 0; i < n; ++i) {
      p.param_types.push_back(PQparamtype(d.get(), i));
    }
    return cache_.emplace(std::move(key), std::move(p)).first->second;
  }

  Result run(std::string_view sql, const Value* params, std::size_t count) {
    ensure_connected();
    const Prepared& p = prepare(sql);
    if (count != p.param_types.size()) {
      throw DbError(ErrorKind::other, "postgres: statement takes " +
                                          std::to_string(p.param_types.size()) + " parameters, " +
                                          std::to_string(count) + " given");
    }
    std::vector<std::string> numbers(count);
    std::vector<const char*> values(count, nullptr);
    std::vector<int> lengths(count, 0);
    std::vector<int> formats(count, 0);
    for (std::size_t i = 0; i < count; ++i) {
      std::visit(
          [&](const auto& v) {
            using T = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<T, std::nullptr_t>) {
              values[i] = nullptr;
            } else if constexpr (std::is_same_v<T, std::string>) {
              if (p.param_types[i] == kByteaOid) {
                values[i] = v.data();
                lengths[i] = static_cast<int>(v.size());
                formats[i] = 1;
              } else {
                if (v.find('\0') != std::string::npos) {
                  throw DbError(ErrorKind::other, "postgres: parameter $" + std::to_string(i + 1) +
                                                      " holds a NUL byte; bind it to bytea");
                }
                values[i] = v.c_str();
              }
            } else {
              numbers[i] = to_text(v);
              values[i] = numbers[i].c_str();
            }
          },
          params[i]);
    }
    return take(PQexecPrepared(conn_, p.name.c_str(), static_cast<int>(count), values.data(),
                               lengths.data(), formats.data(), 0));
  }

  PGconn* conn_ = nullptr;
  std::unordered_map<std::string, Prepared> cache_;
  std::uint64_t statements_ = 0;
  std::string last_command_;
};

// --- pool ------------------------------------------------------------------------

class PgDatabase final : public Database {
 public:
  explicit PgDatabase(PostgresOptions o) : options_(std::move(o)) {
    if (options_.pool_size == 0) {
      options_.pool_size = 1;
    }
    // Connect now so a bad URL or a down server fails at start-up.
    auto first = std::make_unique<PgConnection>(options_);
    if (!options_.schema.empty()) {
      ensure_schema(*first);
    }
    idle_.push_back(std::move(first));
    created_ = 1;
  }

  Lease acquire(milliseconds wait) override {
    const auto deadline = Clock::now() + wait;
    std::vector<std::unique_ptr<PgConnection>> dead;  // closed after the lock is released
    std::unique_lock lock(mutex_);
    for (;;) {
      while (!idle_.empty()) {
        auto c = std::move(idle_.back());
        idle_.pop_back();
        if (c->idle_and_sound()) {
          return Lease(*this, std::move(c));
        }
        --created_;
        dead.push_back(std::move(c));
      }
      if (created_ < options_.pool_size) {
        const auto now = Clock::now();
        if (last_failure_ && now - *last_failure_ < kConnectBackoff) {
          const auto ago = std::chrono::duration_cast<milliseconds>(now - *last_failure_).count();
          throw DbError(ErrorKind::unavailable, "postgres: server unavailable (connect failed " +
                                                    std::to_string(ago) +
                                                    " ms ago: " + last_error_ + ")");
        }
        ++created_;
        lock.unlock();
        try {
          auto c = std::make_unique<PgConnection>(options_);
          std::lock_guard relock(mutex_);
          last_failure_.reset();
          return Lease(*this, std::move(c));
        } catch (const DbError& e) {
          std::lock_guard relock(mutex_);
          --created_;
          last_failure_ = Clock::now();
          last_error_ = e.what();
          available_.notify_all();  // waiters fail fast too
          throw;
        } catch (...) {
          std::lock_guard relock(mutex_);
          --created_;
          available_.notify_one();
          throw;
        }
      }
      if (available_.wait_until(lock, deadline) == std::cv_status::timeout && idle_.empty() &&
          created_ >= options_.pool_size) {
        throw DbError(ErrorKind::unavailable, "postgres: no connection free within the deadline");
      }
    }
  }

  bool ping() noexcept override {
    try {
      auto lease = acquire(milliseconds(500));
      if (!static_cast<PgConnection&>(*lease).ping(milliseconds(1'000))) {
        lease.mark_broken();
        return false;
      }
      return true;
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
    std::unique_ptr<PgConnection> pc(static_cast<PgConnection*>(c.release()));
    // Network I/O (ROLLBACK) happens outside the lock.
    const bool keep = healthy && pc->reset_for_reuse();
    {
      std::lock_guard lock(mutex_);
      if (keep) {
        idle_.push_back(std::move(pc));
      } else {
        --created_;
      }
      available_.notify_one();
    }
    // A discarded connection is closed here, outside the lock.
  }

 private:
  // Creates options_.schema unless it exists. Looks first, so a role without
  // the CREATE privilege works with a schema made for it.
  void ensure_schema(PgConnection& c) {
    if (!c.exec("SELECT 1 FROM pg_namespace WHERE nspname = $1", {options_.schema}).rows.empty()) {
      return;
    }
    try {
      c.exec_script("CREATE SCHEMA IF NOT EXISTS " + c.quote_identifier(options_.schema));
    } catch (const DbError& e) {
      // Another process created it at the same moment (unique violation in
      // pg_namespace): it exists now, which is all we need.
      if (e.kind() != ErrorKind::constraint) {
        throw;
      }
    }
  }

  PostgresOptions options_;
  mutable std::mutex mutex_;
  std::condition_variable available_;
  std::vector<std::unique_ptr<PgConnection>> idle_;
  std::size_t created_ = 0;
  std::optional<Clock::time_point> last_failure_;
  std::string last_error_;
};

}  // namespace

std::unique_ptr<Database> open_postgres(const PostgresOptions& options) {
  return std::make_unique<PgDatabase>(options);
}

}  // namespace emporium::db
