#include "notification/store.hpp"

#include "core/ids.hpp"

namespace emporium::notification {

namespace {

constexpr std::string_view kStatus = "SELECT status FROM sent_emails WHERE event_id = $1";

// Inserts a claim, or takes over the row of an earlier delivery that is not
// sent and whose claim has lapsed (released after a failure, or expired).
// Affects no row when the email was sent or another delivery holds a claim.
constexpr std::string_view kClaim =
    "INSERT INTO sent_emails (event_id, kind, recipient, status, attempts, claimed_until, "
    "updated_at) "
    "VALUES ($1, $2, $3, 'sending', 1, $4, $5) "
    "ON CONFLICT (event_id) DO UPDATE SET recipient = excluded.recipient, "
    "attempts = sent_emails.attempts + 1, claimed_until = excluded.claimed_until, "
    "updated_at = excluded.updated_at "
    "WHERE sent_emails.status = 'sending' AND sent_emails.claimed_until < $6";

constexpr std::string_view kMarkSent =
    "UPDATE sent_emails SET status = 'sent', claimed_until = 0, last_error = NULL, updated_at = $2 "
    "WHERE event_id = $1";

constexpr std::string_view kRelease =
    "UPDATE sent_emails SET claimed_until = 0, last_error = $2, updated_at = $3 "
    "WHERE event_id = $1 AND status = 'sending' AND claimed_until = $4";

// The longest last_error kept.
constexpr std::size_t kMaxErrorLength = 500;

bool sent_on(db::Connection& c, const std::string& event_id) {
  const auto rows = c.exec(kStatus, {event_id}).rows;
  return !rows.empty() && rows.front().text(0) == "sent";
}

}  // namespace

bool SqlStore::is_sent(const std::string& event_id) {
  auto c = db_.acquire();
  return sent_on(*c, event_id);
}

Claim SqlStore::claim(const ClaimRequest& r) {
  auto c = db_.acquire();
  const auto claimed = c->exec(kClaim, {r.event_id, r.kind, r.recipient, r.claimed_until,
                                        core::now_iso8601(), r.now_ms})
                           .affected;
  if (claimed == 1) {
    return Claim::claimed;
  }
  return sent_on(*c, r.event_id) ? Claim::already_sent : Claim::held;
}

void SqlStore::mark_sent(const std::string& event_id) {
  auto c = db_.acquire();
  c->exec(kMarkSent, {event_id, core::now_iso8601()});
}

void SqlStore::release(const std::string& event_id, std::string_view error,
                       std::int64_t claimed_until) {
  auto c = db_.acquire();
  c->exec(kRelease, {event_id, std::string(error.substr(0, kMaxErrorLength)), core::now_iso8601(),
                     claimed_until});
}

}  // namespace emporium::notification
