#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "bus/event.hpp"
#include "core/result.hpp"
#include "mail/smtp.hpp"
#include "notification/domain.hpp"
#include "notification/errors.hpp"
#include "notification/store.hpp"
#include "obs/metrics.hpp"
#include "svc/clients.hpp"

namespace emporium::notification {

// Who a user is, for the order events that carry only a user id.
class Directory {
 public:
  virtual ~Directory() = default;
  // The user `user_id`: nullopt when there is no such user. Throws
  // (core::Error) when it cannot tell, e.g. the user service is down.
  // `request_id` goes with the call for tracing.
  virtual std::optional<svc::UserProfile> find(const std::string& user_id,
                                               const std::string& request_id) = 0;
};

struct NotifierOptions {
  std::string from;  // the From header, "Name <addr>" or "addr"
  // How long one delivery's claim on an event keeps other deliveries of the
  // same event from sending it too: longer than a send can take.
  std::chrono::milliseconds claim_ttl{60'000};
};

// What a delivery of an event came to, when it succeeded.
enum class Delivery {
  no_email,      // the event asks for no email (see notice_for)
  sent,          // the mail server accepted its email
  duplicate,     // its email had gone out before: nothing sent, counted
  no_recipient,  // the user does not exist: nothing sent, logged
};

// Turns events into emails, one email per event id (see deliver()).
//
// Metrics (label kind: order_placed, order_status_changed, order_cancelled,
// welcome, registration_attempt):
//   emporium_emails_sent_total{kind}        emails the mail server accepted
//   emporium_emails_failed_total{kind}      failed sends (each attempt)
//   emporium_emails_duplicates_total{kind}  deliveries of an event whose email
//                                           had already gone out (skipped)
class Notifier {
 public:
  // Everything passed must outlive the notifier. Throws std::invalid_argument
  // when options.from is not a mailbox.
  Notifier(Store& store, const Templates& templates, mail::Sender& sender, Directory& directory,
           obs::Registry& metrics, NotifierOptions options);

  // One delivery of `event`. For an event that asks for a mail (see notice_for):
  //   1. if the store says its email went out: duplicate;
  //   2. finds the recipient (user events carry it; order events ask
  //      the directory) — none (user gone): logs, sends nothing, no_recipient;
  //   3. renders the kind's template;
  //   4. claims the event; another delivery's live claim: Error::claim_held;
  //   5. sends, then marks it sent: sent.
  // A failed send (send_failed, send_refused) releases the claim so the next
  // delivery may send at once; a malformed payload is malformed_event.
  // Throws when the store or the directory fails, or a template names a
  // value the event does not give (std::invalid_argument).
  //
  // At least once, not exactly once: a crash (or a database failure) after
  // the server accepted the mail and before it is marked sent sends it
  // again on the next delivery, with the same Message-ID.
  core::Result<Delivery, Failure> deliver(const bus::Event& event);

  // The bus handler: deliver(), true on success, and a failure thrown as
  // throw_for_bus says (so the bus retries with backoff and dead-letters the
  // event after its last attempt, keeping the failure's message).
  bool handle(const bus::Event& event);

 private:
  // Fills in the recipient of an order event from the directory; false when
  // the user does not exist.
  bool find_recipient(Notice& notice, const bus::Event& event);
  // Renders the notice's template into the mail for `event` (its Message-ID
  // is the event id).
  mail::Mail compose(Notice& notice, const bus::Event& event) const;
  // Claims the event, sends `mail` and marks it sent (steps 4 and 5).
  core::Result<Delivery, Failure> send(const Notice& notice, const mail::Mail& mail,
                                       const std::string& event_id);
  // Counts and logs a delivery whose email had gone out before.
  Delivery duplicate(const std::string& kind, const std::string& event_id);

  Store& store_;
  const Templates& templates_;
  mail::Sender& sender_;
  Directory& directory_;
  NotifierOptions options_;
  obs::Family<obs::Counter>& sent_;
  obs::Family<obs::Counter>& failed_;
  obs::Family<obs::Counter>& duplicates_;
};

}  // namespace emporium::notification
