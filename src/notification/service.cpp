#include "notification/service.hpp"

#include <algorithm>
#include <stdexcept>

#include "common/embedded.hpp"
#include "mail/smtp.hpp"
#include "notification/domain.hpp"
#include "notification/handlers.hpp"
#include "notification/store.hpp"
#include "obs/log.hpp"
#include "svc/clients.hpp"

namespace emporium::notification {

namespace {

// Deadline of one SMTP send, connecting included.
constexpr std::chrono::milliseconds kSmtpTimeout{10'000};

// With smtp_url empty (development): each email goes to the log instead,
// checked as if it were sent.
class LogSender final : public mail::Sender {
 public:
  void send(const mail::Mail& m) override {
    mail::format_message(m, std::chrono::system_clock::now());
    obs::info("email logged, not sent (smtp_url is empty)", {{"from", m.from},
                                                             {"to", m.to},
                                                             {"subject", m.subject},
                                                             {"body", m.body},
                                                             {"message_id", m.id}});
  }
};

std::unique_ptr<mail::Sender> make_sender(const config::Config& config) {
  const auto& url = config.str("smtp_url");
  if (url.empty()) {
    obs::info("smtp_url is empty: emails are written to the log, not sent");
    return std::make_unique<LogSender>();
  }
  try {
    auto sender = std::make_unique<mail::SmtpSender>(url, kSmtpTimeout);
    obs::info("emails go out through SMTP", {{"smtp_url", sender->redacted_url()}});
    return sender;
  } catch (const std::invalid_argument& e) {
    throw config::ConfigError(std::string("invalid value for smtp_url: ") + e.what());
  }
}

std::string checked_from(const config::Config& config) {
  const auto& from = config.str("mail_from");
  try {
    mail::parse_mailbox(from);
  } catch (const std::invalid_argument& e) {
    throw config::ConfigError(std::string("invalid value for mail_from: ") + e.what());
  }
  return from;
}

// Without amqp_url each process has a bus of its own: a notification service
// in a process without the user and order services would never hear of them.
void warn_if_deaf(const ServiceContext& ctx) {
  if (!ctx.config.str("amqp_url").empty()) {
    return;
  }
  for (std::string_view producer : {"user", "order"}) {
    if (!ctx.runs_here(producer)) {
      obs::warn(
          "amqp_url is empty: the notification service gets only the events of services "
          "in this process, and the user and order services are not among them");
      return;
    }
  }
}

// The directory over the user service's internal API.
class UserDirectory final : public Directory {
 public:
  explicit UserDirectory(svc::UserApi users) : users_(std::move(users)) {}
  std::optional<svc::UserProfile> find(const std::string& user_id,
                                       const std::string& request_id) override {
    return users_.profile(user_id, request_id);
  }

 private:
  svc::UserApi users_;
};

// The queue it consumes and the event types bound to it.
const Subscription& subscription() {
  static const Subscription s{"notification",
                              {"order.*", "user.registered", "user.registration_attempted"}};
  return s;
}

class NotificationService final : public Service {
 public:
  explicit NotificationService(ServiceContext& ctx)
      : templates_(embedded::mail_templates()),
        sender_(make_sender(ctx.config)),
        users_(svc::UserApi(ctx.upstream("user"), ctx.tokens, "notification")),
        store_(ctx.database()),
        notifier_(store_, templates_, *sender_, users_, ctx.metrics,
                  NotifierOptions{.from = checked_from(ctx.config)}) {
    ctx.subscribe(std::string(subscription().queue), subscription().patterns,
                  [this](const bus::Event& e) { return notifier_.handle(e); });
    warn_if_deaf(ctx);
  }

 private:
  Templates templates_;
  std::unique_ptr<mail::Sender> sender_;
  UserDirectory users_;
  SqlStore store_;
  Notifier notifier_;
};

}  // namespace

namespace {

std::vector<db::Migration> migrations() {
  return db::migrations_from(embedded::notification_migrations());
}

std::unique_ptr<Service> mount(ServiceContext& ctx) {
  return std::make_unique<NotificationService>(ctx);
}

}  // namespace

const ServiceModule& module() {
  static const ServiceModule m{.name = "notification",
                               .default_listen = "0.0.0.0:3005",
                               .migrations = migrations,
                               .mount = mount,
                               .outbox = false,
                               .subscriptions = {subscription()}};
  return m;
}

}  // namespace emporium::notification
