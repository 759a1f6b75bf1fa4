#include "notification/handlers.hpp"

#include <exception>
#include <stdexcept>

#include "core/error.hpp"
#include "obs/log.hpp"

namespace emporium::notification {

namespace {

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// A failed send as a value: transient unless the server refused the mail for
// good or the mail cannot be written. Called inside the catch block.
Failure send_failure(const std::exception& e) {
  const auto* infra = dynamic_cast<const core::Error*>(&e);
  const auto code =
      infra != nullptr && infra->transient() ? Error::send_failed : Error::send_refused;
  return Failure{.code = code, .detail = e.what(), .cause = std::current_exception()};
}

}  // namespace

Notifier::Notifier(Store& store, const Templates& templates, mail::Sender& sender,
                   Directory& directory, obs::Registry& metrics, NotifierOptions options)
    : store_(store),
      templates_(templates),
      sender_(sender),
      directory_(directory),
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

Delivery Notifier::duplicate(const std::string& kind, const std::string& event_id) {
  duplicates_.with({kind}).inc();
  obs::info("email already sent for this event; delivery skipped",
            {{"kind", kind}, {"event_id", event_id}});
  return Delivery::duplicate;
}

bool Notifier::handle(const bus::Event& event) {
  auto delivered = deliver(event);
  if (!delivered.ok()) {
    throw_for_bus(delivered.error());
  }
  return true;
}

core::Result<Delivery, Failure> Notifier::deliver(const bus::Event& event) {
  std::optional<Notice> notice;
  try {
    notice = notice_for(event);
  } catch (const std::invalid_argument& e) {
    return core::fail(Failure{.code = Error::malformed_event, .detail = e.what()});
  }
  if (!notice) {
    return Delivery::no_email;
  }
  if (store_.is_sent(event.id)) {
    return duplicate(notice->kind, event.id);
  }
  if (!find_recipient(*notice, event)) {
    return Delivery::no_recipient;
  }
  const auto mail = compose(*notice, event);
  return send(*notice, mail, event.id);
}

bool Notifier::find_recipient(Notice& notice, const bus::Event& event) {
  if (!notice.email.empty()) {
    return true;
  }
  auto user = directory_.find(notice.user_id, event.id);
  if (!user) {
    obs::warn("no email sent: the user does not exist",
              {{"kind", notice.kind}, {"event_id", event.id}, {"user_id", notice.user_id}});
    return false;
  }
  notice.email = user->email;
  notice.name = user->name;
  return true;
}

mail::Mail Notifier::compose(Notice& notice, const bus::Event& event) const {
  notice.vars.insert_or_assign("name", greeting_name(notice.name));
  const auto rendered = render(templates_.get(notice.kind), notice.vars);
  return mail::Mail{options_.from, notice.email, rendered.subject, rendered.body, event.id};
}

core::Result<Delivery, Failure> Notifier::send(const Notice& notice, const mail::Mail& mail,
                                               const std::string& event_id) {
  const std::string& kind = notice.kind;
  const auto now = now_ms();
  const auto claimed_until = now + options_.claim_ttl.count();
  switch (store_.claim({event_id, kind, notice.email, now, claimed_until})) {
    case Claim::claimed:
      break;
    case Claim::already_sent:
      return duplicate(kind, event_id);
    case Claim::held:
      return core::fail(
          Failure{.code = Error::claim_held,
                  .detail = "another delivery of event " + event_id + " is sending its email"});
  }
  try {
    sender_.send(mail);
  } catch (const std::exception& e) {
    auto failure = send_failure(e);
    failed_.with({kind}).inc();
    obs::warn("email not sent; the event will be delivered again",
              {{"kind", kind}, {"event_id", event_id}, {"error", e.what()}});
    try {
      store_.release(event_id, e.what(), claimed_until);
    } catch (const std::exception&) {
      // The claim lapses at claimed_until by itself.
    }
    return core::fail(std::move(failure));
  }
  // The server has the mail. Should this update fail (or the process die
  // first), a later delivery sends it again: at least once.
  store_.mark_sent(event_id);
  sent_.with({kind}).inc();
  obs::info("email sent", {{"kind", kind}, {"event_id", event_id}});
  return Delivery::sent;
}

}  // namespace emporium::notification
