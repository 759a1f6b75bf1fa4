#include "auth/auth.hpp"

#include <argon2.h>
#include <jwt.h>
#include <openssl/rand.h>

#include <cerrno>
#include <cstdlib>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <unordered_map>

#include "core/ids.hpp"
#include "http/problem.hpp"

namespace emporium::auth {

namespace {

struct JwtDeleter {
  void operator()(jwt_t* j) const noexcept { jwt_free(j); }
};
using JwtPtr = std::unique_ptr<jwt_t, JwtDeleter>;

constexpr std::uint32_t kArgonTime = 2;
constexpr std::uint32_t kArgonMemoryKiB = 19 * 1024;
constexpr std::uint32_t kArgonLanes = 1;
constexpr std::size_t kSaltLen = 16;
constexpr std::size_t kHashLen = 32;

std::optional<std::string> grant(jwt_t* j, const char* name) {
  errno = 0;
  const char* v = jwt_get_grant(j, name);
  if (v == nullptr || errno != 0) {
    return std::nullopt;
  }
  return std::string(v);
}

std::optional<long> grant_int(jwt_t* j, const char* name) {
  errno = 0;
  const long v = jwt_get_grant_int(j, name);
  if (errno != 0) {
    return std::nullopt;
  }
  return v;
}

}  // namespace

http::Response unauthorized(AuthError error) {
  std::string_view message = "Invalid token";
  switch (error) {
    case AuthError::missing:
      message = "No authorization header";
      break;
    case AuthError::expired:
      message = "Token expired";
      break;
    case AuthError::invalid:
      break;
    case AuthError::not_a_service:
      message = "Invalid service credential";
      break;
    case AuthError::revoked:
      message = "Session revoked";
      break;
    case AuthError::not_json:
      return http::problem(415, "Content-Type must be application/json");
    case AuthError::foreign_origin:
      return http::problem(403, "Origin not allowed");
  }
  auto res = http::problem(401, message);
  std::string_view challenge = R"(Bearer realm="emporium")";
  if (error == AuthError::expired) {
    challenge = R"(Bearer error="invalid_token", error_description="token expired")";
  } else if (error == AuthError::revoked) {
    challenge = R"(Bearer error="invalid_token", error_description="session revoked")";
  }
  res.headers.set("WWW-Authenticate", challenge);
  return res;
}

std::string key_id(std::string_view secret) {
  return core::sha256_hex("emporium-jwt-kid:" + std::string(secret)).substr(0, 16);
}

// Tokens that verified, by their bytes: what verify() returned and when
// they expire.
class VerifiedTokens {
 public:
  struct Entry {
    std::string audience;
    Identity identity;
    long exp = 0;
  };
  static constexpr std::size_t kMaxEntries = 10'000;

  std::optional<Entry> find(std::string_view token) const {
    std::lock_guard lock(mutex_);
    auto it = entries_.find(token);
    if (it == entries_.end()) {
      return std::nullopt;
    }
    return it->second;
  }
  void add(std::string_view token, Entry entry) {
    std::lock_guard lock(mutex_);
    if (entries_.size() >= kMaxEntries) {
      entries_.clear();
    }
    entries_.insert_or_assign(std::string(token), std::move(entry));
  }

 private:
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept {
      return std::hash<std::string_view>{}(s);
    }
  };
  mutable std::mutex mutex_;
  std::unordered_map<std::string, Entry, Hash, std::equal_to<>> entries_;
};

Tokens::Tokens(TokenSettings settings)
    : settings_(std::move(settings)),
      kid_(key_id(settings_.secret)),
      denylist_(std::make_unique<Denylist>()),
      verified_(std::make_unique<VerifiedTokens>()) {
  if (settings_.secret.empty()) {
    throw std::invalid_argument("token secret must not be empty");
  }
  if (!settings_.previous_secret.empty()) {
    previous_kid_ = key_id(settings_.previous_secret);
  }
}

Tokens::~Tokens() = default;
Tokens::Tokens(Tokens&&) noexcept = default;
Tokens& Tokens::operator=(Tokens&&) noexcept = default;

Revocation Tokens::revocation(std::string sid) const {
  return Revocation{std::move(sid),
                    core::unix_seconds() + settings_.access_ttl.count() + settings_.leeway.count()};
}

std::string Tokens::issue(std::string_view subject, std::string_view role, std::chrono::seconds ttl,
                          std::string_view audience, std::string_view sid) const {
  jwt_t* raw = nullptr;
  if (jwt_new(&raw) != 0) {
    throw std::runtime_error("jwt_new failed");
  }
  JwtPtr j(raw);
  const long now = static_cast<long>(core::unix_seconds());
  const std::string sub(subject);
  const std::string r(role);
  const std::string aud(audience);
  const std::string jti = core::new_id();
  int rc = jwt_add_grant(j.get(), "sub", sub.c_str());
  rc |= jwt_add_grant(j.get(), "role", r.c_str());
  rc |= jwt_add_grant(j.get(), "iss", settings_.issuer.c_str());
  rc |= jwt_add_grant(j.get(), "aud", aud.c_str());
  rc |= jwt_add_grant(j.get(), "jti", jti.c_str());
  rc |= jwt_add_grant_int(j.get(), "iat", now);
  rc |= jwt_add_grant_int(j.get(), "exp", now + static_cast<long>(ttl.count()));
  if (!sid.empty()) {
    rc |= jwt_add_grant(j.get(), "sid", std::string(sid).c_str());
  }
  rc |= jwt_add_header(j.get(), "kid", kid_.c_str());
  rc |= jwt_set_alg(j.get(), JWT_ALG_HS256,
                    reinterpret_cast<const unsigned char*>(settings_.secret.data()),
                    static_cast<int>(settings_.secret.size()));
  if (rc != 0) {
    throw std::runtime_error("jwt grant failed");
  }
  char* encoded = jwt_encode_str(j.get());
  if (encoded == nullptr) {
    throw std::runtime_error("jwt_encode_str failed");
  }
  std::string out(encoded);
  std::free(encoded);
  return out;
}

std::string Tokens::issue_service(std::string_view service_name) const {
  return issue("svc:" + std::string(service_name), kRoleService, std::chrono::seconds(120),
               settings_.internal_audience);
}

namespace {

// The token decoded and its signature checked with `secret`; null when it
// does not verify with that key or its kid is not `kid`. jwt_decode with a
// key verifies the signature and refuses alg "none".
JwtPtr decode_with(const std::string& token, const std::string& secret, const std::string& kid) {
  jwt_t* raw = nullptr;
  if (jwt_decode(&raw, token.c_str(), reinterpret_cast<const unsigned char*>(secret.data()),
                 static_cast<int>(secret.size())) != 0 ||
      raw == nullptr) {
    return nullptr;
  }
  JwtPtr j(raw);
  errno = 0;
  const char* got = jwt_get_header(j.get(), "kid");
  if (got == nullptr || errno != 0 || kid != got) {
    return nullptr;
  }
  return j;
}

// Verified with the current key, else (after a rotation) the previous one.
JwtPtr decode(std::string_view token, const TokenSettings& s, const std::string& kid,
              const std::string& previous_kid) {
  const std::string t(token);
  if (auto j = decode_with(t, s.secret, kid)) {
    return j;
  }
  if (!previous_kid.empty()) {
    return decode_with(t, s.previous_secret, previous_kid);
  }
  return nullptr;
}

}  // namespace

core::Result<Identity, TokenError> Tokens::verify(std::string_view token,
                                                  std::string_view audience) const {
  if (token.empty() || token.size() > 4096) {
    return core::fail(TokenError::invalid);
  }
  const long now = static_cast<long>(core::unix_seconds());
  const long leeway = static_cast<long>(settings_.leeway.count());
  // Seen before: every check but the expiry holds as it did then (iat and
  // nbf were in the past, and time only moves on).
  if (auto seen = verified_->find(token); seen && seen->audience == audience) {
    if (seen->exp + leeway < now) {
      return core::fail(TokenError::expired);
    }
    return std::move(seen->identity);
  }
  JwtPtr j = decode(token, settings_, kid_, previous_kid_);
  if (!j || jwt_get_alg(j.get()) != JWT_ALG_HS256) {
    return core::fail(TokenError::invalid);
  }
  auto iss = grant(j.get(), "iss");
  auto aud = grant(j.get(), "aud");
  auto sub = grant(j.get(), "sub");
  auto role = grant(j.get(), "role");
  auto jti = grant(j.get(), "jti");
  auto sid = grant(j.get(), "sid");
  auto exp = grant_int(j.get(), "exp");
  auto iat = grant_int(j.get(), "iat");
  if (!iss || *iss != settings_.issuer || !aud || *aud != audience || !sub || sub->empty() ||
      !role || !jti || !exp || !iat || *iat > now + leeway) {
    return core::fail(TokenError::invalid);
  }
  if (auto nbf = grant_int(j.get(), "nbf"); nbf && *nbf > now + leeway) {
    return core::fail(TokenError::invalid);
  }
  if (*role != kRoleService && (!sid || sid->empty())) {
    return core::fail(TokenError::invalid);  // tokens from before sessions: refresh
  }
  if (*exp + leeway < now) {
    return core::fail(TokenError::expired);
  }
  Identity who{*sub, *role, *jti, sid.value_or(std::string())};
  verified_->add(token, {std::string(audience), who, *exp});
  return who;
}

std::optional<std::string> cookie(const http::Request& req, std::string_view name) {
  auto cookies = req.headers.get("Cookie");
  if (!cookies) {
    return std::nullopt;
  }
  std::string_view rest = *cookies;
  while (!rest.empty()) {
    const auto semi = rest.find(';');
    auto pair = rest.substr(0, semi);
    rest = semi == std::string_view::npos ? std::string_view() : rest.substr(semi + 1);
    while (!pair.empty() && pair.front() == ' ') {
      pair.remove_prefix(1);
    }
    const auto eq = pair.find('=');
    if (eq != std::string_view::npos && pair.substr(0, eq) == name) {
      return std::string(pair.substr(eq + 1));
    }
  }
  return std::nullopt;
}

std::optional<std::string> token_from(const http::Request& req) {
  if (auto h = req.headers.get("Authorization")) {
    constexpr std::string_view prefix = "Bearer ";
    if (h->size() > prefix.size() && http::iequals(h->substr(0, prefix.size()), prefix)) {
      return std::string(h->substr(prefix.size()));
    }
    return std::string();  // present but not a bearer token: invalid
  }
  return cookie(req, kSessionCookie);
}

namespace {

bool is_write(std::string_view method) {
  return method == "POST" || method == "PUT" || method == "PATCH" || method == "DELETE";
}

// True for `application/json`, with parameters (charset) or not, any case.
bool json_media_type(std::string_view value) {
  constexpr std::string_view kJson = "application/json";
  const auto end = value.find(';');
  auto type = value.substr(0, end);
  while (!type.empty() && (type.back() == ' ' || type.back() == '\t')) {
    type.remove_suffix(1);
  }
  while (!type.empty() && (type.front() == ' ' || type.front() == '\t')) {
    type.remove_prefix(1);
  }
  return http::iequals(type, kJson);
}

// True when `origin` (scheme://authority) is the request's own: its authority
// is the Host, or the X-Forwarded-Host the gateway passes on.
bool same_origin(const http::Request& req, std::string_view origin) {
  const auto sep = origin.find("://");
  if (sep == std::string_view::npos) {
    return false;
  }
  const auto scheme = origin.substr(0, sep);
  const auto authority = origin.substr(sep + 3);
  if ((scheme != "http" && scheme != "https") || authority.empty()) {
    return false;
  }
  for (std::string_view h : {"Host", "X-Forwarded-Host"}) {
    if (auto host = req.headers.get(h); host && http::iequals(*host, authority)) {
      return true;
    }
  }
  return false;
}

}  // namespace

std::optional<AuthError> cookie_write_refused(const http::Request& req,
                                              const TokenSettings& settings) {
  if (!is_write(req.method)) {
    return std::nullopt;
  }
  auto type = req.headers.get("Content-Type");
  if (!type || !json_media_type(*type)) {
    return AuthError::not_json;
  }
  auto origin = req.headers.get("Origin");
  if (!origin || same_origin(req, *origin)) {
    return std::nullopt;
  }
  for (const auto& allowed : settings.allowed_origins) {
    if (allowed != "*" && allowed == *origin) {
      return std::nullopt;
    }
  }
  return AuthError::foreign_origin;
}

core::Result<Identity, AuthError> authenticate(const http::Request& req, const Tokens& tokens) {
  auto token = token_from(req);
  if (!token) {
    return core::fail(AuthError::missing);
  }
  if (!req.headers.has("Authorization")) {
    if (auto refused = cookie_write_refused(req, tokens.settings())) {
      return core::fail(*refused);
    }
  }
  auto v = tokens.verify(*token, tokens.settings().audience);
  if (v) {
    if (v->is_service()) {
      return core::fail(AuthError::invalid);
    }
    if (tokens.denylist().revoked(v->sid)) {
      return core::fail(AuthError::revoked);
    }
    return std::move(*v);
  }
  return core::fail(v.error() == TokenError::expired ? AuthError::expired : AuthError::invalid);
}

core::Result<Identity, AuthError> authenticate_service(const http::Request& req,
                                                       const Tokens& tokens) {
  auto token = token_from(req);
  if (!token) {
    return core::fail(AuthError::missing);
  }
  auto v = tokens.verify(*token, tokens.settings().internal_audience);
  if (v && v->is_service()) {
    return std::move(*v);
  }
  return core::fail(AuthError::not_a_service);
}

std::string hash_password(std::string_view password) {
  unsigned char salt[kSaltLen];
  if (RAND_bytes(salt, sizeof salt) != 1) {
    throw std::runtime_error("RAND_bytes failed");
  }
  std::string encoded(
      argon2_encodedlen(kArgonTime, kArgonMemoryKiB, kArgonLanes, kSaltLen, kHashLen, Argon2_id),
      '\0');
  const int rc = argon2id_hash_encoded(kArgonTime, kArgonMemoryKiB, kArgonLanes, password.data(),
                                       password.size(), salt, sizeof salt, kHashLen, encoded.data(),
                                       encoded.size());
  if (rc != ARGON2_OK) {
    throw std::runtime_error(std::string("argon2: ") + argon2_error_message(rc));
  }
  encoded.resize(encoded.find('\0'));
  return encoded;
}

bool verify_password(std::string_view encoded, std::string_view password) {
  const std::string e(encoded);
  return argon2id_verify(e.c_str(), password.data(), password.size()) == ARGON2_OK;
}

namespace {

std::string set_cookie(std::string_view name, std::string_view path, std::string_view value,
                       std::chrono::seconds max_age, bool secure) {
  std::string out(name);
  out.append("=").append(value).append("; Path=").append(path);
  out.append("; HttpOnly; SameSite=Strict; Max-Age=").append(std::to_string(max_age.count()));
  if (secure) {
    out.append("; Secure");
  }
  return out;
}

constexpr std::string_view kRefreshPath = "/api/users";

}  // namespace

std::string session_cookie(std::string_view token, std::chrono::seconds max_age, bool secure) {
  return set_cookie(kSessionCookie, "/", token, max_age, secure);
}

std::string clear_session_cookie(bool secure) {
  return session_cookie("", std::chrono::seconds(0), secure);
}

std::string refresh_cookie(std::string_view token, std::chrono::seconds max_age, bool secure) {
  return set_cookie(kRefreshCookie, kRefreshPath, token, max_age, secure);
}

std::string clear_refresh_cookie(bool secure) {
  return refresh_cookie("", std::chrono::seconds(0), secure);
}

}  // namespace emporium::auth
