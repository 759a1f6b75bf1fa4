#include "user/handlers.hpp"

#include <boost/json.hpp>
#include <charconv>

#include "bus/outbox.hpp"
#include "core/error.hpp"
#include "core/ids.hpp"
#include "http/json.hpp"
#include "obs/log.hpp"
#include "svc/revocations.hpp"

namespace emporium::user {

namespace json = boost::json;
using http::Request;
using http::Response;

namespace {

json::object public_user(const User& u) {
  return json::object{{"id", u.id},
                      {"email", u.email},
                      {"name", u.name},
                      {"role", u.role},
                      {"createdAt", u.created_at}};
}

}  // namespace

Response Handlers::fail(const Request& req, Error code) const {
  if (code == Error::hashing_busy) {
    obs::error("dependency unavailable", {{"request_id", req.request_id},
                                          {"route", req.route},
                                          {"exception", "password hashing saturated"}});
  }
  return answer(code);
}

std::int64_t Handlers::refresh_expiry() const {
  return core::unix_seconds() + settings_.refresh_ttl.count();
}

Response Handlers::issue_session(const User& u, const std::string& refresh_token,
                                 const std::string& sid) {
  const auto access = tokens_.issue_access(u.id, u.role, sid);
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
  res.headers.add("Set-Cookie", auth::session_cookie(access, ttl, settings_.cookie_secure));
  res.headers.add("Set-Cookie", auth::refresh_cookie(refresh_token, settings_.refresh_ttl,
                                                     settings_.cookie_secure));
  return res;
}

Response Handlers::register_user(Request& req, RegisterInput in) {
  auto hash = passwords_.hash(in.password);
  if (!hash) {
    return fail(req, hash.error());
  }
  const auto now = core::now_iso8601();
  User u{core::new_id(),
         std::move(in.email),
         std::move(in.name),
         std::move(*hash),
         std::string(role_name(Role::customer)),
         now,
         now};
  const auto event = bus::make_event(
      bus::types::user_registered,
      http::dump(json::object{{"user_id", u.id}, {"email", u.email}, {"name", u.name}}));
  if (auto added = store_.insert(u, event); !added) {
    if (added.error() == Error::email_taken && settings_.conceal_accounts) {
      tell_owner(u.email);
      return registered(u);
    }
    return fail(req, added.error());
  }
  events_written_();
  return registered(u);
}

Response Handlers::registered(const User& u) const {
  if (settings_.conceal_accounts) {
    return http::json_response(202, json::object{{"message", kAcceptedMessage}});
  }
  auto res =
      http::json_response(201, json::object{{"id", u.id}, {"email", u.email}, {"name", u.name}});
  res.headers.set("Location", "/api/users/profile");
  return res;
}

void Handlers::tell_owner(const std::string& email) {
  const auto owner = store_.by_email(email);
  if (!owner) {
    return;  // deleted since the insert failed
  }
  // The owner's own address and name: nothing the requester typed but the email.
  store_.add_event(bus::make_event(
      bus::types::user_registration_attempted,
      http::dump(
          json::object{{"user_id", owner->id}, {"email", owner->email}, {"name", owner->name}})));
  events_written_();
}

Response Handlers::login(Request& req, const LoginInput& in) {
  if (throttle_ != nullptr) {
    if (auto step = throttle_->begin(in.email); !step.allowed) {
      return backed_off(step.retry_after);
    }
  }
  auto u = store_.by_email(in.email);
  // An unknown email is checked against a stand-in hash so both cases take as long.
  auto ok = passwords_.verify(u ? std::optional<std::string_view>(u->password_hash) : std::nullopt,
                              in.password);
  if (!ok) {
    return fail(req, ok.error());
  }
  if (!u || !*ok) {
    return fail(req, Error::bad_credentials);
  }
  if (throttle_ != nullptr) {
    throttle_->succeeded(in.email);
  }
  const auto refresh_token = core::new_token();
  const auto family = core::new_id();
  store_.add_refresh(core::sha256_hex(refresh_token), family, u->id, refresh_expiry());
  return issue_session(*u, refresh_token, family);
}

core::Result<std::optional<std::string>, auth::AuthError> Handlers::refresh_token_of(
    const Request& req, const std::optional<std::string>& in_body) const {
  if (in_body) {
    return in_body;
  }
  auto from_cookie = auth::cookie(req, auth::kRefreshCookie);
  if (from_cookie) {
    if (auto refused = auth::cookie_write_refused(req, tokens_.settings())) {
      return core::fail(*refused);
    }
  }
  return from_cookie;
}

Response Handlers::refresh(Request& req, const RefreshInput& in) {
  const auto token = refresh_token_of(req, in.token);
  if (!token) {
    return auth::unauthorized(token.error());
  }
  const auto& sent = *token;
  if (!sent || sent->empty()) {
    return http::problem(http::Invalid{.detail = "Validation failed: refreshToken Required",
                                       .fields = {{"refreshToken", "Required"}}});
  }
  const auto next = core::new_token();
  const auto rotation =
      store_.rotate_refresh(core::sha256_hex(*sent), core::sha256_hex(next), refresh_expiry());
  switch (rotation.outcome) {
    case RotateOutcome::unknown:
      return fail(req, Error::refresh_unknown);
    case RotateOutcome::expired:
      return fail(req, Error::refresh_expired);
    case RotateOutcome::reused:
      sessions_.revoke({rotation.family});
      obs::warn("refresh token reused; login revoked",
                {{"user_id", rotation.user_id}, {"request_id", req.request_id}});
      return fail(req, Error::refresh_reused);
    case RotateOutcome::rotated:
      break;
  }
  // The account as it is now: a role changed since the last token shows.
  auto u = store_.by_id(rotation.user_id);
  if (!u) {
    return fail(req, Error::refresh_unknown);
  }
  return issue_session(*u, next, rotation.family);
}

Response Handlers::logout(Request& req, const LogoutInput& in) {
  auto token = refresh_token_of(req, in.token);
  if (!token) {
    return auth::unauthorized(token.error());
  }
  if (*token && !(*token)->empty()) {
    if (auto family = store_.revoke_family_of(core::sha256_hex(**token))) {
      sessions_.revoke({*family});
    }
  }
  auto res = http::json_response(200, json::object{{"message", "Logged out"}});
  res.headers.add("Set-Cookie", auth::clear_session_cookie(settings_.cookie_secure));
  res.headers.add("Set-Cookie", auth::clear_refresh_cookie(settings_.cookie_secure));
  return res;
}

Response Handlers::profile(Request& req, const auth::Identity& who) {
  auto u = store_.by_id(who.subject);
  if (!u) {
    return fail(req, Error::user_not_found);
  }
  return http::json_response(200, public_user(*u));
}

Response Handlers::update_profile(Request& req, const auth::Identity& who, ProfileUpdate in) {
  auto u = store_.by_id(who.subject);
  if (!u) {
    return fail(req, Error::user_not_found);
  }
  std::optional<std::string> new_hash;
  if (in.password) {
    auto matches = passwords_.verify(u->password_hash, *in.current_password);
    if (!matches) {
      return fail(req, matches.error());
    }
    if (!*matches) {
      return fail(req, Error::wrong_current_password);
    }
    auto hash = passwords_.hash(*in.password);
    if (!hash) {
      return fail(req, hash.error());
    }
    new_hash = std::move(*hash);
  }
  u->name = in.name.value_or(u->name);
  const auto change = store_.update_profile(u->id, u->name, new_hash, core::now_iso8601());
  auto res = http::json_response(200, public_user(*u));
  if (new_hash) {
    // Every session ends (a thief's too); the caller, who knew the current
    // password, continues in a new one.
    auto ended = change.ended_sessions;
    ended.push_back(who.sid);
    sessions_.revoke(ended);
    const auto refresh_token = core::new_token();
    const auto family = core::new_id();
    store_.add_refresh(core::sha256_hex(refresh_token), family, u->id, refresh_expiry());
    const auto ttl = tokens_.settings().access_ttl;
    res.headers.add("Set-Cookie", auth::session_cookie(tokens_.issue_access(u->id, u->role, family),
                                                       ttl, settings_.cookie_secure));
    res.headers.add("Set-Cookie", auth::refresh_cookie(refresh_token, settings_.refresh_ttl,
                                                       settings_.cookie_secure));
  }
  return res;
}

Response Handlers::list(Request& req, const auth::Identity&) {
  std::vector<http::FieldError> errors;
  const auto page = http::page_request(req, errors);
  if (!errors.empty()) {
    return http::query_problem(std::move(errors));
  }
  json::array users;
  for (const auto& u : store_.list(page.limit, page.offset())) {
    users.push_back(public_user(u));
  }
  return http::json_response(200,
                             json::object{{"users", std::move(users)},
                                          {"pagination", http::pagination(page, store_.count())}});
}

Response Handlers::set_role(Request& req, const auth::Identity&, RoleInput in) {
  const std::string id(req.param("id"));
  const auto ended = store_.set_role(id, std::string(role_name(in.role)), core::now_iso8601());
  if (!ended) {
    return fail(req, Error::user_not_found);
  }
  sessions_.revoke(*ended);
  return http::json_response(200, public_user(*store_.by_id(id)));
}

Response Handlers::internal_user(Request& req) {
  auto u = store_.by_id(std::string(req.param("id")));
  if (!u) {
    return fail(req, Error::user_not_found);
  }
  return http::json_response(200,
                             json::object{{"id", u->id}, {"email", u->email}, {"name", u->name}});
}

Response Handlers::internal_revocations(Request& req) {
  std::int64_t cursor = 0;
  if (auto since = req.query_param("since")) {
    const auto* end = since->data() + since->size();
    auto [p, ec] = std::from_chars(since->data(), end, cursor);
    if (ec != std::errc() || p != end) {
      return http::problem(http::Invalid{.detail = "Validation failed: since must be an integer",
                                         .fields = {{"since", "Must be an integer"}}});
    }
  }
  auto batch = sessions_.since(cursor);
  if (!batch) {
    throw core::Error("session revocations: database unavailable", true);
  }
  return http::Response::json(200, svc::revocations_json(*batch));
}

}  // namespace emporium::user
