#pragma once

#include <chrono>
#include <cstddef>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "bus/event.hpp"
#include "bus/metrics.hpp"
#include "bus/publisher.hpp"
#include "core/worker.hpp"
#include "db/db.hpp"
#include "db/migrate.hpp"

namespace emporium::bus {

// The transactional outbox: a service writes its events into this table in
// the same transaction as the change they describe (add_event), and an
// OutboxRelay publishes them afterwards. Put the SQL into one of the
// service's own migrations (it runs on SQLite and PostgreSQL alike), e.g.
//   migrations.push_back(bus::outbox_migration(5));
// or copy it into migrations/0005_outbox.sql.
//
//   id            the event id (primary key: adding one event twice fails)
//   type, time, version, payload   the event (payload: JSON object text)
//   created_at    microseconds since the Unix epoch when added; the relay
//                 publishes oldest first
//   attempts      failed publishes so far
//   sent_at       microseconds since the epoch when the broker took it;
//                 NULL while unsent
//   last_error    why the last publish failed
//   claimed_by, claimed_until   a relay's lease on the row while it
//                 publishes it (microseconds); other relays skip leased rows
//                 until the lease expires
inline constexpr std::string_view kOutboxSql = R"sql(CREATE TABLE outbox (
  id TEXT PRIMARY KEY,
  type TEXT NOT NULL,
  time TEXT NOT NULL,
  version BIGINT NOT NULL,
  payload TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  attempts BIGINT NOT NULL DEFAULT 0,
  sent_at BIGINT,
  last_error TEXT,
  claimed_by TEXT,
  claimed_until BIGINT
);
CREATE INDEX outbox_unsent ON outbox (created_at, id) WHERE sent_at IS NULL;
CREATE INDEX outbox_sent ON outbox (sent_at) WHERE sent_at IS NOT NULL;
)sql";

// kOutboxSql as migration `version` named "outbox".
db::Migration outbox_migration(int version);

// Adds `event` to the outbox through `conn`. Call it inside the transaction
// that makes the change, so both commit or neither does. Throws
// std::invalid_argument for an invalid event (see validate()) and
// db::DbError as Connection::exec (constraint: an event with this id exists).
void add_event(db::Connection& conn, const Event& event);

struct OutboxRelayOptions {
  std::string name = "default";  // the `outbox` metric label and log field: the service
  std::chrono::milliseconds interval{1'000};       // between rounds when idle
  std::size_t batch_size = 16;                     // rows claimed per round
  std::chrono::milliseconds initial_backoff{500};  // after a failed round, doubling
  std::chrono::milliseconds max_backoff{30'000};
  // How long a claim holds off other relays. A relay that dies while holding
  // rows delays them by this much; one slower than this may duplicate them.
  std::chrono::milliseconds claim_ttl{15'000};
  // Sent rows older than this are deleted (checked about once a minute);
  // zero keeps them.
  std::chrono::milliseconds retention{std::chrono::hours(24 * 7)};
};

// Publishes the outbox's unsent rows on a thread of its own: every interval,
// or at once after notify(), it claims up to batch_size of them oldest first,
// publishes each through `publisher` and marks it sent. When a publish fails
// the row's attempts grows by one and its last_error is kept, the round stops
// (rows keep their order) and the relay backs off (initial_backoff doubling to
// max_backoff) before trying again; nothing is dropped. A row is marked sent
// only after publish() returned, so a crash in between publishes it again:
// consumers dedupe by event id.
//
// A row that is not a valid event (written around add_event) can never be
// published: it is parked (claimed_by 'invalid', last_error says why, logged
// as an error) so that it holds up no other row, and stays in the backlog.
//
// Several relays (replicas of a service) may work on one outbox: each claims
// its batch with one UPDATE, so they rarely publish the same row twice (only
// after a claim expired), and doing so is harmless.
//
// Updates the emporium_outbox_* metrics of `metrics` (label outbox = name).
class OutboxRelay {
 public:
  // Starts the thread. `db`, `publisher` and `metrics` must outlive the relay.
  OutboxRelay(db::Database& db, Publisher& publisher, Metrics& metrics,
              OutboxRelayOptions options = {});
  ~OutboxRelay();  // stop()
  OutboxRelay(const OutboxRelay&) = delete;
  OutboxRelay& operator=(const OutboxRelay&) = delete;

  // Asks for a round now (call after committing a transaction that added
  // events). Ignored while backing off after a failure. Never blocks.
  void notify() noexcept;

  // Finishes the publish in progress (at most the publisher's deadline),
  // releases the claimed rows and joins the thread. Idempotent.
  void stop() noexcept;

  // Result of one round, for tests and tools that drain the outbox.
  struct Round {
    std::size_t published = 0;  // rows published and marked sent
    bool failed = false;        // a publish or the database failed
    std::string error{};
  };
  // Runs one round on the calling thread (safe alongside the relay thread).
  Round run_once();

 private:
  void run(core::Worker& worker);
  // Leases up to batch_size unsent rows to `claimer` and reads them, oldest
  // first. Throws when the database fails.
  std::vector<Event> claim_batch(const std::string& claimer);
  // Publishes `event` and marks it sent, or parks it when invalid. True when
  // the row is done with; false, with `round` failed, to end the round.
  bool relay(const Event& event, Round& round);
  // Parks an invalid event's row under `error`; false (`round` failed) when
  // the database fails.
  bool park(const Event& event, const std::string& error, Round& round);
  // Updates the gauges and deletes old sent rows when due; a database
  // failure fails `round` unless it already failed.
  void finish_round(Round& round);
  void update_gauges(db::Connection& c);
  void release_claims(const std::string& claimer) noexcept;
  bool cleanup_due();
  void delete_old_rows(db::Connection& c);

  db::Database& db_;
  Publisher& publisher_;
  Metrics& metrics_;
  OutboxRelayOptions options_;
  obs::Gauge& backlog_;
  obs::Gauge& oldest_age_;
  std::chrono::steady_clock::time_point next_cleanup_{};
  std::mutex mutex_;     // guards next_cleanup_
  core::Worker worker_;  // last: starts once everything above exists
};

}  // namespace emporium::bus
