#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>

#include "bus/event.hpp"
#include "db/db.hpp"
#include "mail/smtp.hpp"
#include "notification/domain.hpp"
#include "obs/metrics.hpp"
#include "svc/clients.hpp"

namespace emporium::notification {

// Finds a user by id: nullopt when there is no such user. Throws (core::Error)
// when it cannot tell, e.g. the user service is down. `request_id` goes with
// the call for tracing.
using Directory = std::function<std::optional<svc::UserProfile>(const std::string& user_id,
                                                                const std::string& request_id)>;

struct NotifierOptions {
  std::string from;  // the From header, "Name <addr>" or "addr"
  // How long one delivery's claim on an event keeps other deliveries of the
  // same event from sending it too: longer than a send can take.
  std::chrono::milliseconds claim_ttl{60'000};
};

// Turns events into emails, one email per event id (see handle()).
//
// Metrics (label kind: order_placed, order_status_changed, order_cancelled,
// welcome):
//   emporium_emails_sent_total{kind}        emails the mail server accepted
//   emporium_emails_failed_total{kind}      failed sends (each attempt)
//   emporium_emails_duplicates_total{kind}  deliveries of an event whose email
//                                           had already gone out (skipped)
class Notifier {
 public:
  // `db` holds the sent_emails table (migrations/0001_notifications.sql).
  // Everything passed must outlive the notifier.
  Notifier(db::Database& db, const Templates& templates, mail::Sender& sender, Directory directory,
           obs::Registry& metrics, NotifierOptions options);

  // The bus handler. For an event that asks for a mail (see notice_for):
  //   1. if sent_emails says its email went out, returns true (a duplicate);
  //   2. finds the recipient (user.registered carries it; order events ask
  //      the directory) — none (user gone): logs, sends nothing, returns true;
  //   3. renders the kind's template;
  //   4. claims the event ('sending'); if another delivery holds a live claim,
  //      throws core::Error (transient) so the bus tries again later;
  //   5. sends, then marks it 'sent' and returns true.
  // A failed send releases the claim and rethrows, so the bus retries with
  // backoff and dead-letters the event after its last attempt; malformed
  // payloads throw std::invalid_argument the same way.
  //
  // At least once, not exactly once: a crash (or a database failure) after
  // the server accepted the mail and before it is marked 'sent' sends it
  // again on the next delivery, with the same Message-ID.
  bool handle(const bus::Event& event);

 private:
  void duplicate(const std::string& kind, const bus::Event& event);

  db::Database& db_;
  const Templates& templates_;
  mail::Sender& sender_;
  Directory directory_;
  NotifierOptions options_;
  obs::Family<obs::Counter>& sent_;
  obs::Family<obs::Counter>& failed_;
  obs::Family<obs::Counter>& duplicates_;
};

}  // namespace emporium::notification
