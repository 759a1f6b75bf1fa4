#include "user/service.hpp"

#include <boost/json.hpp>
#include <semaphore>

#include "bus/outbox.hpp"
#include "common/embedded.hpp"
#include "common/guards.hpp"
#include "core/error.hpp"
#include "core/ids.hpp"
#include "http/json.hpp"
#include "obs/log.hpp"
#include "user/store.hpp"

namespace emporium::user {

namespace json = boost::json;
using http::Request;
using http::Response;

bool valid_email(std::string_view e) {
  if (e.size() < 3 || e.size() > 254) {
    return false;
  }
  const auto at = e.find('@');
  if (at == std::string_view::npos || at == 0 || e.find('@', at + 1) != std::string_view::npos) {
    return false;
  }
  const auto domain = e.substr(at + 1);
  const auto dot = domain.rfind('.');
  if (dot == std::string_view::npos || dot == 0 || dot + 1 >= domain.size()) {
    return false;
  }
  for (char c : e) {
    if (static_cast<unsigned char>(c) <= ' ' || c == '<' || c == '>' || c == ',' || c == ';') {
      return false;
    }
  }
  return true;
}

namespace {

// Thrown when the password-hashing slots stay busy: answered 503.
core::Error hashing_busy() {
  return core::Error("password hashing saturated", true);
}

json::object public_user(const User& u) {
  return json::object{{"id", u.id},
                      {"email", u.email},
                      {"name", u.name},
                      {"role", u.role},
                      {"createdAt", u.created_at}};
}

class UserService final : public Service {
 public:
  explicit UserService(ServiceContext& ctx)
      : store_(ctx.database()),
        tokens_(ctx.tokens),
        refresh_ttl_(
            std::chrono::duration_cast<std::chrono::seconds>(ctx.config.duration("refresh_ttl"))),
        cookie_secure_(ctx.config.boolean("cookie_secure")),
        events_written_(ctx.events_written),
        dummy_hash_(auth::hash_password(core::new_token())) {
    auto& r = ctx.routes;
    r.add_public("POST", "/api/users/register",
                 [this](Request& req) { return register_user(req); });
    r.add_public("POST", "/api/users/login", [this](Request& req) { return login(req); });
    r.add_public("POST", "/api/users/refresh", [this](Request& req) { return refresh(req); });
    r.add_public("POST", "/api/users/logout", [this](Request& req) { return logout(req); });
    r.add_public(
        "GET", "/api/users/profile",
        signed_in(tokens_, [this](Request&, const auth::Identity& who) { return profile(who); }));
    r.add_public("PUT", "/api/users/profile",
                 signed_in(tokens_, [this](Request& req, const auth::Identity& who) {
                   return update_profile(req, who);
                 }));
    r.add_public(
        "GET", "/api/users",
        admin_only(tokens_, [this](Request& req, const auth::Identity&) { return list(req); }));
    r.add_public(
        "PUT", "/api/users/{id}/role",
        admin_only(tokens_, [this](Request& req, const auth::Identity&) { return set_role(req); }));
    r.add_internal("GET", "/internal/users/{id}",
                   service_only(tokens_, [this](Request& req) { return internal_user(req); }));
    bootstrap_admin(ctx.config);
  }

 private:
  void bootstrap_admin(const config::Config& config) {
    std::string email = config.str("admin_email");
    std::string password = config.str("admin_password");
    if (email.empty()) {
      return;
    }
    bool generated = false;
    if (password.empty()) {
      if (store_.by_email(email)) {
        return;  // exists already; its password was shown when it was created
      }
      if (config.str("mode") != "development") {
        obs::warn("admin_password not set; no admin account created", {{"email", email}});
        return;
      }
      password = core::new_token().substr(0, 20);
      generated = true;
    }
    if (auto existing = store_.by_email(email)) {
      if (existing->role == auth::kRoleAdmin) {
        return;
      }
      // Promote an existing account only if it is the operator's: anyone can
      // register an address, so the configured password must match.
      if (generated || !auth::verify_password(existing->password_hash, password)) {
        obs::error(
            "admin_email belongs to an account whose password is not admin_password; "
            "not promoting it",
            {{"email", email}});
        return;
      }
      store_.set_role(existing->id, std::string(auth::kRoleAdmin), core::now_iso8601());
      obs::info("admin role granted", {{"email", email}});
      return;
    }
    if (password.size() < 8) {
      throw std::runtime_error("admin_password must have at least 8 characters");
    }
    const auto now = core::now_iso8601();
    User u{core::new_id(),
           email,
           "Administrator",
           auth::hash_password(password),
           std::string(auth::kRoleAdmin),
           now,
           now};
    store_.insert(u);
    if (generated) {
      obs::warn("admin account created with a generated password; change it after signing in",
                {{"email", email}, {"password", password}});
    } else {
      obs::info("admin account created", {{"email", email}});
    }
  }

  Response issue_session(const User& u, const std::string& refresh_token) {
    const auto access = tokens_.issue_access(u.id, u.role);
    const auto ttl = tokens_.settings().access_ttl;
    auto res = http::json_response(
        200,
        json::object{
            {"token", access},
            {"refreshToken", refresh_token},
            {"expiresIn", ttl.count()},
            {"tokenType", "Bearer"},
            {"user",
             json::object{{"id", u.id}, {"email", u.email}, {"name", u.name}, {"role", u.role}}}});
    res.headers.add("Set-Cookie", auth::session_cookie(access, ttl, cookie_secure_));
    return res;
  }

  std::string hash(std::string_view password) {
    Slot slot(*this);
    return auth::hash_password(password);
  }
  bool verify(std::string_view encoded, std::string_view password) {
    Slot slot(*this);
    return auth::verify_password(encoded, password);
  }
  struct Slot {
    explicit Slot(UserService& s) : owner(s) {
      if (!owner.hashing_.try_acquire_for(std::chrono::seconds(3))) {
        throw hashing_busy();
      }
    }
    ~Slot() { owner.hashing_.release(); }
    UserService& owner;
  };

  std::int64_t refresh_expiry() const { return core::unix_seconds() + refresh_ttl_.count(); }

  Response register_user(const Request& req) {
    auto body = http::parse_object(req.body);
    if (!body) {
      return http::problem(body.error());
    }
    http::Fields f(*body, {"email", "password", "name"});
    auto email = f.string("email", 3, 254);
    if (email && !valid_email(*email)) {
      f.add_error("email", "Must be a valid email address");
    }
    auto password = f.string("password", 8, 128);
    auto name = f.string("name", 0, 100, false);
    if (!f.ok()) {
      return f.problem();
    }
    const auto now = core::now_iso8601();
    User u{core::new_id(),
           *email,
           name.value_or(""),
           hash(*password),
           std::string(auth::kRoleCustomer),
           now,
           now};
    const auto event = bus::make_event(
        bus::types::user_registered,
        http::dump(json::object{{"user_id", u.id}, {"email", u.email}, {"name", u.name}}));
    if (!store_.insert(u, event)) {
      return http::problem(409, "Email already registered");
    }
    events_written_();
    auto res =
        http::json_response(201, json::object{{"id", u.id}, {"email", u.email}, {"name", u.name}});
    res.headers.set("Location", "/api/users/profile");
    return res;
  }

  Response login(const Request& req) {
    auto body = http::parse_object(req.body);
    if (!body) {
      return http::problem(body.error());
    }
    http::Fields f(*body, {"email", "password"});
    auto email = f.string("email", 1, 254);
    auto password = f.string("password", 1, 128);
    if (!f.ok()) {
      return f.problem();
    }
    auto u = store_.by_email(*email);
    // Verify against a dummy hash for unknown emails so both cases take as long.
    const bool ok = verify(u ? u->password_hash : dummy_hash_, *password);
    if (!u || !ok) {
      return http::problem(401, "Invalid credentials");
    }
    const auto refresh_token = core::new_token();
    store_.add_refresh(core::sha256_hex(refresh_token), core::new_id(), u->id, refresh_expiry());
    return issue_session(*u, refresh_token);
  }

  Response refresh(const Request& req) {
    auto body = http::parse_object(req.body);
    if (!body) {
      return http::problem(body.error());
    }
    http::Fields f(*body, {"refreshToken"});
    auto token = f.string("refreshToken", 1, 200);
    if (!f.ok()) {
      return f.problem();
    }
    const auto next = core::new_token();
    std::string user_id;
    switch (store_.rotate_refresh(core::sha256_hex(*token), core::sha256_hex(next),
                                  refresh_expiry(), user_id)) {
      case RotateResult::unknown:
        return http::problem(401, "Invalid refresh token");
      case RotateResult::expired:
        return http::problem(401, "Refresh token expired");
      case RotateResult::reused:
        obs::warn("refresh token reused; login revoked",
                  {{"user_id", user_id}, {"request_id", req.request_id}});
        return http::problem(401, "Refresh token reused; please sign in again");
      case RotateResult::rotated:
        break;
    }
    auto u = store_.by_id(user_id);
    if (!u) {
      return http::problem(401, "Invalid refresh token");
    }
    return issue_session(*u, next);
  }

  Response logout(const Request& req) {
    if (!req.body.empty()) {
      auto body = http::parse_object(req.body);
      if (!body) {
        return http::problem(body.error());
      }
      http::Fields f(*body, {"refreshToken"});
      auto token = f.string("refreshToken", 1, 200, false);
      if (!f.ok()) {
        return f.problem();
      }
      if (token) {
        store_.revoke_family_of(core::sha256_hex(*token));
      }
    }
    auto res = http::json_response(200, json::object{{"message", "Logged out"}});
    res.headers.add("Set-Cookie", auth::clear_session_cookie(cookie_secure_));
    return res;
  }

  Response profile(const auth::Identity& who) {
    auto u = store_.by_id(who.subject);
    if (!u) {
      return http::problem(404, "User not found");
    }
    return http::json_response(200, public_user(*u));
  }

  Response update_profile(const Request& req, const auth::Identity& who) {
    auto body = http::parse_object(req.body);
    if (!body) {
      return http::problem(body.error());
    }
    const auto& o = *body;
    http::Fields f(o, {"name", "password", "currentPassword"});
    auto name = f.string("name", 0, 100, false);
    auto password = f.string("password", 8, 128, false);
    auto current = f.string("currentPassword", 1, 128, false);
    if (o.empty()) {
      f.add_error("body", "At least one of name or password is required");
    }
    if (password && !current) {
      f.add_error("currentPassword", "Required to change the password");
    }
    if (!f.ok()) {
      return f.problem();
    }
    auto u = store_.by_id(who.subject);
    if (!u) {
      return http::problem(404, "User not found");
    }
    std::optional<std::string> new_hash;
    if (password) {
      if (!verify(u->password_hash, *current)) {
        return http::problem(403, "Current password is incorrect");
      }
      new_hash = hash(*password);
    }
    u->name = name.value_or(u->name);
    store_.update_profile(u->id, u->name, new_hash, core::now_iso8601());
    return http::json_response(200, public_user(*u));
  }

  Response list(const Request& req) {
    std::vector<http::FieldError> errors;
    const auto page = http::page_request(req, errors);
    if (!errors.empty()) {
      return http::query_problem(std::move(errors));
    }
    json::array users;
    for (const auto& u : store_.list(page.limit, page.offset())) {
      users.push_back(public_user(u));
    }
    return http::json_response(
        200, json::object{{"users", std::move(users)},
                          {"pagination", http::pagination(page, store_.count())}});
  }

  Response set_role(const Request& req) {
    auto body = http::parse_object(req.body);
    if (!body) {
      return http::problem(body.error());
    }
    http::Fields f(*body, {"role"});
    auto role = f.string("role", 1, 20);
    if (role && *role != auth::kRoleCustomer && *role != auth::kRoleAdmin) {
      f.add_error("role", "Must be customer or admin");
    }
    if (!f.ok()) {
      return f.problem();
    }
    const std::string id(req.param("id"));
    if (!store_.set_role(id, *role, core::now_iso8601())) {
      return http::problem(404, "User not found");
    }
    return http::json_response(200, public_user(*store_.by_id(id)));
  }

  // For other services (notification): who a user is. 404 for an unknown id.
  Response internal_user(const Request& req) {
    auto u = store_.by_id(std::string(req.param("id")));
    if (!u) {
      return http::problem(404, "User not found");
    }
    return http::json_response(200,
                               json::object{{"id", u->id}, {"email", u->email}, {"name", u->name}});
  }

  // At most this many argon2id computations at once (each takes 19 MiB and
  // tens of milliseconds of a core), so a flood of sign-ins cannot take every
  // worker thread from the rest of the shop. Excess callers wait briefly,
  // then get 503.
  std::counting_semaphore<64> hashing_{4};

  Store store_;
  const auth::Tokens& tokens_;
  std::chrono::seconds refresh_ttl_;
  bool cookie_secure_;
  std::function<void()> events_written_;
  std::string dummy_hash_;
};

}  // namespace

namespace {

std::vector<db::Migration> migrations() {
  auto m = db::migrations_from(embedded::user_migrations());
  m.push_back(bus::outbox_migration(2));
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
