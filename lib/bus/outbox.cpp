#include "bus/outbox.hpp"

#include <algorithm>

#include "core/ids.hpp"
#include "obs/log.hpp"

namespace emporium::bus {
namespace {

using namespace std::chrono_literals;

constexpr std::size_t kMaxErrorText = 1000;
constexpr auto kCleanupEvery = 60s;

constexpr const char* kInsert =
    "INSERT INTO outbox (id, type, time, version, payload, created_at, attempts)"
    " VALUES ($1, $2, $3, $4, $5, $6, 0)";

// Leases up to $4 unsent, unleased rows, oldest first, to relay $1 until $2.
// The conditions are repeated outside the sub-select so that on PostgreSQL a
// concurrent relay's UPDATE, which waits for the row locks, re-checks them
// and skips the rows just leased.
constexpr const char* kClaim =
    "UPDATE outbox SET claimed_by = $1, claimed_until = $2"
    " WHERE id IN (SELECT id FROM outbox"
    "   WHERE sent_at IS NULL AND (claimed_until IS NULL OR claimed_until < $3)"
    "   ORDER BY created_at, id LIMIT $4)"
    " AND sent_at IS NULL AND (claimed_until IS NULL OR claimed_until < $3)";

constexpr const char* kClaimed =
    "SELECT id, type, time, version, payload FROM outbox"
    " WHERE sent_at IS NULL AND claimed_by = $1 ORDER BY created_at, id";

constexpr const char* kMarkSent =
    "UPDATE outbox SET sent_at = $1, claimed_by = NULL, claimed_until = NULL"
    " WHERE id = $2 AND sent_at IS NULL";

constexpr const char* kMarkFailed =
    "UPDATE outbox SET attempts = attempts + 1, last_error = $1, claimed_by = NULL,"
    " claimed_until = NULL WHERE id = $2";

// A row that can never be published (not a valid event: written around
// add_event) is parked under a lease that never expires, so it holds up no
// other row; it stays unsent, counted in the backlog, for an operator.
constexpr const char* kPark =
    "UPDATE outbox SET attempts = attempts + 1, last_error = $1, claimed_by = 'invalid',"
    " claimed_until = 9223372036854775807 WHERE id = $2";

constexpr const char* kRelease =
    "UPDATE outbox SET claimed_by = NULL, claimed_until = NULL"
    " WHERE claimed_by = $1 AND sent_at IS NULL";

constexpr const char* kBacklog =
    "SELECT count(*), min(created_at) FROM outbox WHERE sent_at IS NULL";

constexpr const char* kDeleteOld = "DELETE FROM outbox WHERE sent_at IS NOT NULL AND sent_at < $1";

std::int64_t now_micros() noexcept {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Strictly increasing within the process, so rows added in a burst keep
// their order.
std::int64_t next_created_at() noexcept {
  static std::atomic<std::int64_t> last{0};
  auto now = now_micros();
  auto prev = last.load(std::memory_order_relaxed);
  while (true) {
    const auto next = std::max(now, prev + 1);
    if (last.compare_exchange_weak(prev, next, std::memory_order_relaxed)) {
      return next;
    }
  }
}

OutboxRelayOptions normalised(OutboxRelayOptions options) {
  options.batch_size = std::max<std::size_t>(options.batch_size, 1);
  return options;
}

std::string truncated(std::string s) {
  if (s.size() > kMaxErrorText) {
    s.resize(kMaxErrorText);
  }
  return s;
}

}  // namespace

db::Migration outbox_migration(int version) {
  return db::Migration{version, "outbox", std::string(kOutboxSql)};
}

void add_event(db::Connection& conn, const Event& event) {
  validate(event);
  conn.exec(kInsert, {event.id, event.type, event.time, std::int64_t{event.version}, event.payload,
                      next_created_at()});
}

OutboxRelay::OutboxRelay(db::Database& db, Publisher& publisher, Metrics& metrics,
                         OutboxRelayOptions options)
    : db_(db),
      publisher_(publisher),
      metrics_(metrics),
      options_(normalised(std::move(options))),
      backlog_(metrics.outbox_backlog.with({options_.name})),
      oldest_age_(metrics.outbox_oldest_age.with({options_.name})),
      worker_("outbox:" + options_.name, [this](core::Worker& w) { run(w); }) {}

OutboxRelay::~OutboxRelay() {
  stop();
}

void OutboxRelay::notify() noexcept {
  worker_.wake();
}

void OutboxRelay::stop() noexcept {
  worker_.stop();
}

void OutboxRelay::run(core::Worker& worker) {
  auto backoff = options_.initial_backoff;
  while (worker.running()) {
    const auto round = run_once();
    if (round.failed) {
      obs::warn("outbox relay round failed; backing off",
                {{"outbox", options_.name},
                 {"error", round.error},
                 {"retry_in_ms", static_cast<std::int64_t>(backoff.count())}});
      worker.sleep_for(backoff);
      backoff = std::min(backoff * 2, options_.max_backoff);
      // A notify() during the backoff is ignored: consume it.
      worker.wait_for(std::chrono::milliseconds::zero());
      continue;
    }
    backoff = options_.initial_backoff;
    if (round.published >= options_.batch_size) {
      continue;  // probably more waiting
    }
    worker.wait_for(options_.interval);
  }
}

OutboxRelay::Round OutboxRelay::run_once() {
  Round round;
  std::vector<Event> batch;
  // A fresh lease holder per round, so rounds never share claims.
  const std::string claimer = core::new_id();
  try {
    batch = claim_batch(claimer);
  } catch (const std::exception& e) {
    round.failed = true;
    round.error = e.what();
    return round;
  }

  std::size_t done = 0;  // rows published or parked
  for (const auto& event : batch) {
    if (!worker_.running() || !relay(event, round)) {
      break;
    }
    ++done;
  }
  if (done < batch.size()) {
    release_claims(claimer);
  }
  finish_round(round);
  return round;
}

std::vector<Event> OutboxRelay::claim_batch(const std::string& claimer) {
  auto c = db_.acquire();
  const auto now = now_micros();
  const auto ttl = std::chrono::duration_cast<std::chrono::microseconds>(options_.claim_ttl);
  c->exec(kClaim,
          {claimer, now + ttl.count(), now, static_cast<std::int64_t>(options_.batch_size)});
  std::vector<Event> batch;
  for (const auto& row : c->exec(kClaimed, {claimer}).rows) {
    batch.push_back(Event{.id = row.text(0),
                          .type = row.text(1),
                          .time = row.text(2),
                          .version = static_cast<int>(row.integer(3)),
                          .payload = row.text(4)});
  }
  return batch;
}

bool OutboxRelay::relay(const Event& event, Round& round) {
  try {
    validate(event);
  } catch (const std::invalid_argument& e) {
    return park(event, truncated(std::string("invalid event: ") + e.what()), round);
  }
  try {
    publisher_.publish(event);
  } catch (const std::exception& e) {
    round.failed = true;
    round.error = truncated(e.what());
    metrics_.outbox_failed.with({options_.name, event.type}).inc();
    try {
      db_.acquire()->exec(kMarkFailed, {round.error, event.id});
    } catch (const std::exception& db_error) {
      obs::warn("outbox: cannot record a failed publish",
                {{"outbox", options_.name}, {"error", db_error.what()}});
    }
    return false;
  }
  try {
    db_.acquire()->exec(kMarkSent, {now_micros(), event.id});
  } catch (const std::exception& e) {
    // Published but not marked: it goes out again later (a duplicate).
    round.failed = true;
    round.error = std::string("marking an event sent: ") + e.what();
    return false;
  }
  metrics_.outbox_published.with({options_.name, event.type}).inc();
  ++round.published;
  return true;
}

bool OutboxRelay::park(const Event& event, const std::string& error, Round& round) {
  metrics_.outbox_failed.with({options_.name, event.type}).inc();
  obs::error("outbox: parked an invalid event",
             {{"outbox", options_.name}, {"event_id", event.id}, {"error", error}});
  try {
    db_.acquire()->exec(kPark, {error, event.id});
  } catch (const std::exception& db_error) {
    round.failed = true;
    round.error = db_error.what();
    return false;
  }
  return true;
}

void OutboxRelay::finish_round(Round& round) {
  try {
    auto c = db_.acquire();
    update_gauges(*c);
    if (cleanup_due()) {
      delete_old_rows(*c);
    }
  } catch (const std::exception& e) {
    if (!round.failed) {
      round.failed = true;
      round.error = e.what();
    }
  }
}

bool OutboxRelay::cleanup_due() {
  if (options_.retention.count() <= 0) {
    return false;
  }
  const auto now = std::chrono::steady_clock::now();
  std::lock_guard lock(mutex_);
  if (now < next_cleanup_) {
    return false;
  }
  next_cleanup_ = now + kCleanupEvery;
  return true;
}

void OutboxRelay::release_claims(const std::string& claimer) noexcept {
  try {
    db_.acquire()->exec(kRelease, {claimer});
  } catch (const std::exception& e) {
    // The claims expire on their own after claim_ttl.
    obs::warn("outbox: cannot release claimed rows",
              {{"outbox", options_.name}, {"error", e.what()}});
  }
}

void OutboxRelay::update_gauges(db::Connection& c) {
  const auto res = c.exec(kBacklog);
  const auto& row = res.rows.at(0);
  backlog_.set(static_cast<double>(row.integer(0)));
  if (row.is_null(1)) {
    oldest_age_.set(0);
  } else {
    oldest_age_.set(std::max(0.0, static_cast<double>(now_micros() - row.integer(1)) / 1e6));
  }
}

void OutboxRelay::delete_old_rows(db::Connection& c) {
  const auto retention =
      std::chrono::duration_cast<std::chrono::microseconds>(options_.retention).count();
  const auto deleted = c.exec(kDeleteOld, {now_micros() - retention}).affected;
  if (deleted > 0) {
    obs::info("outbox: deleted old sent rows", {{"outbox", options_.name}, {"rows", deleted}});
  }
}

}  // namespace emporium::bus
