#include "user/service.hpp"

#include <algorithm>

#include "bus/outbox.hpp"
#include "common/embedded.hpp"
#include "common/guards.hpp"
#include "http/json.hpp"
#include "svc/revocations.hpp"
#include "user/admin.hpp"
#include "user/domain.hpp"
#include "user/handlers.hpp"
#include "user/passwords.hpp"
#include "user/sessions.hpp"
#include "user/store.hpp"
#include "user/throttle.hpp"

namespace emporium::user {

namespace {

using http::Request;
using http::with_body;

Settings settings_from(const config::Config& config) {
  return Settings{.refresh_ttl = std::chrono::duration_cast<std::chrono::seconds>(
                      config.duration("refresh_ttl")),
                  .cookie_secure = config.boolean("cookie_secure"),
                  .conceal_accounts = config.str("mode") == "production"};
}

// As with_body, except that a request without a body reaches `handler` with
// an empty T instead of failing as malformed JSON.
template <class T, class F>
http::Handler optional_body(http::Reader<T> read, F handler) {
  return [handler, with = with_body<T>(read, handler)](Request& req) {
    return req.body.empty() ? handler(req, T{}) : with(req);
  };
}

BackoffPolicy backoff_from(const config::Config& config) {
  const auto max = config.duration("sign_in_backoff_max");
  return BackoffPolicy{.after = config.integer("sign_in_backoff_after"),
                       .base = config.duration("sign_in_backoff_base"),
                       .max = max,
                       .forget = std::max(std::chrono::milliseconds(3'600'000), 2 * max)};
}

// With Redis, revocations are shared there; without, other processes read
// them from this service (GET /internal/sessions/revoked).
std::unique_ptr<svc::RedisRevocations> shared_feed(const config::Config& config) {
  const auto& url = config.str("redis_url");
  return url.empty() ? nullptr : std::make_unique<svc::RedisRevocations>(url);
}

class UserService final : public Service {
 public:
  explicit UserService(ServiceContext& ctx)
      : store_(ctx.database()),
        throttle_(ctx.database(), backoff_from(ctx.config)),
        shared_(shared_feed(ctx.config)),
        sessions_(store_, ctx.tokens, shared_.get()),
        handlers_(store_, passwords_, ctx.tokens, sessions_, settings_from(ctx.config),
                  ctx.events_written, &throttle_) {
    add_routes(ctx.routes, ctx.tokens);
    if (!shared_) {
      // The registry reads Redis when there is one; else this process (and
      // every user-service replica) reads the revocations in the database.
      sync_ = std::make_unique<auth::RevocationSync>(
          sessions_, ctx.tokens.denylist(),
          std::chrono::duration_cast<std::chrono::milliseconds>(
              ctx.config.duration("revocation_poll")));
    }
    bootstrap_admin(store_, AdminBootstrap{.email = ctx.config.str("admin_email"),
                                           .password = ctx.config.str("admin_password"),
                                           .development = ctx.config.str("mode") == "development"});
  }

 private:
  void add_routes(Routes& r, const auth::Tokens& tokens) {
    auto& h = handlers_;
    r.add_public("POST", "/api/users/register",
                 with_body<RegisterInput>(read_register, [&h](Request& req, RegisterInput in) {
                   return h.register_user(req, std::move(in));
                 }));
    r.add_public("POST", "/api/users/login",
                 with_body<LoginInput>(read_login, [&h](Request& req, const LoginInput& in) {
                   return h.login(req, in);
                 }));
    r.add_public(
        "POST", "/api/users/refresh",
        optional_body<RefreshInput>(read_refresh, [&h](Request& req, const RefreshInput& in) {
          return h.refresh(req, in);
        }));
    r.add_public("POST", "/api/users/logout",
                 optional_body<LogoutInput>(read_logout, [&h](Request& req, const LogoutInput& in) {
                   return h.logout(req, in);
                 }));
    r.add_public("GET", "/api/users/profile",
                 signed_in(tokens, [&h](Request& req, const auth::Identity& who) {
                   return h.profile(req, who);
                 }));
    r.add_public(
        "PUT", "/api/users/profile",
        signed_in(tokens, with_body<ProfileUpdate>(
                              read_profile_update,
                              [&h](Request& req, const auth::Identity& who, ProfileUpdate in) {
                                return h.update_profile(req, who, std::move(in));
                              })));
    r.add_public("GET", "/api/users",
                 admin_only(tokens, [&h](Request& req, const auth::Identity& who) {
                   return h.list(req, who);
                 }));
    r.add_public("PUT", "/api/users/{id}/role",
                 admin_only(tokens, with_body<RoleInput>(
                                        read_role,
                                        [&h](Request& req, const auth::Identity& who,
                                             RoleInput in) { return h.set_role(req, who, in); })));
    r.add_internal("GET", "/internal/users/{id}",
                   service_only(tokens, [&h](Request& req) { return h.internal_user(req); }));
    r.add_internal("GET", "/internal/sessions/revoked", service_only(tokens, [&h](Request& req) {
                     return h.internal_revocations(req);
                   }));
  }

  SqlStore store_;
  SqlThrottle throttle_;
  Argon2Passwords passwords_;
  std::unique_ptr<svc::RedisRevocations> shared_;
  Sessions sessions_;
  Handlers handlers_;
  std::unique_ptr<auth::RevocationSync> sync_;  // last: stops first
};

std::vector<db::Migration> migrations() {
  auto m = db::migrations_from(embedded::user_migrations());
  m.push_back(bus::outbox_migration(2));
  // In version order: the newest last (backups read it as the schema version).
  std::sort(m.begin(), m.end(), [](const auto& a, const auto& b) { return a.version < b.version; });
  return m;
}

std::unique_ptr<Service> mount(ServiceContext& ctx) {
  return std::make_unique<UserService>(ctx);
}

}  // namespace

const ServiceModule& module() {
  static const ServiceModule m{.name = "user",
                               .default_listen = "0.0.0.0:3002",
                               .migrations = migrations,
                               .mount = mount,
                               .outbox = true};
  return m;
}

}  // namespace emporium::user
