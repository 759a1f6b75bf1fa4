#include "notification/notifier.hpp"

#include <exception>

#include "core/error.hpp"
#include "core/ids.hpp"
#include "obs/log.hpp"

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

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool is_sent(db::Connection& c, const std::string& event_id) {
  const auto rows = c.exec(kStatus, {event_id}).rows;
  return !rows.empty() && rows.front().text(0) == "sent";
}

}  // namespace

Notifier::Notifier(db::Database& db, const Templates& templates, mail::Sender& sender,
                   Directory directory, obs::Registry& metrics, NotifierOptions options)
    : db_(db),
      templates_(templates),
      sender_(sender),
      directory_(std::move(directory)),
      options_(std::move(options)),
      sent_(metrics.counter("emporium_emails_sent_total",
                            "Emails the mail server accepted, by kind.", {"kind"})),
      failed_(metrics.counter("emporium_emails_failed_total",
                              "Failed attempts to send an email, by kind.", {"kind"})),
      duplicates_(metrics.counter(
          "emporium_emails_duplicates_total",
          "Deliveries of an event whose email had already been sent, by kind.", {"kind"})) {
  mail::parse_mailbox(options_.from);  // fails at start-up rather than at the first send
  for (auto kind : kKinds) {
    sent_.with({kind});
    failed_.with({kind});
    duplicates_.with({kind});
  }
}

void Notifier::duplicate(const std::string& kind, const bus::Event& event) {
  duplicates_.with({kind}).inc();
  obs::info("email already sent for this event; delivery skipped",
            {{"kind", kind}, {"event_id", event.id}});
}

bool Notifier::handle(const bus::Event& event) {
  auto notice = notice_for(event);
  if (!notice) {
    return true;
  }
  const std::string& kind = notice->kind;
  {
    auto c = db_.acquire();
    if (is_sent(*c, event.id)) {
      duplicate(kind, event);
      return true;
    }
  }
  if (notice->email.empty()) {
    auto user = directory_(notice->user_id, event.id);
    if (!user) {
      obs::warn("no email sent: the user does not exist",
                {{"kind", kind}, {"event_id", event.id}, {"user_id", notice->user_id}});
      return true;
    }
    notice->email = user->email;
    notice->name = user->name;
  }
  notice->vars.insert_or_assign("name", greeting_name(notice->name));
  const auto rendered = render(templates_.get(kind), notice->vars);
  const mail::Mail mail{options_.from, notice->email, rendered.subject, rendered.body, event.id};

  const auto now = now_ms();
  const auto claimed_until = now + options_.claim_ttl.count();
  {
    auto c = db_.acquire();
    const auto claimed =
        c->exec(kClaim, {event.id, kind, notice->email, claimed_until, core::now_iso8601(), now})
            .affected;
    if (claimed != 1) {
      if (is_sent(*c, event.id)) {
        duplicate(kind, event);
        return true;
      }
      throw core::Error("another delivery of event " + event.id + " is sending its email", true);
    }
  }
  try {
    sender_.send(mail);
  } catch (const std::exception& e) {
    failed_.with({kind}).inc();
    obs::warn("email not sent; the event will be delivered again",
              {{"kind", kind}, {"event_id", event.id}, {"error", e.what()}});
    try {
      auto c = db_.acquire();
      c->exec(kRelease,
              {event.id, std::string(e.what()).substr(0, 500), core::now_iso8601(), claimed_until});
    } catch (const std::exception&) {
      // The claim lapses at claimed_until by itself.
    }
    throw;
  }
  // The server has the mail. Should this update fail (or the process die
  // first), a later delivery sends it again: at least once.
  {
    auto c = db_.acquire();
    c->exec(kMarkSent, {event.id, core::now_iso8601()});
  }
  sent_.with({kind}).inc();
  obs::info("email sent", {{"kind", kind}, {"event_id", event.id}});
  return true;
}

}  // namespace emporium::notification
