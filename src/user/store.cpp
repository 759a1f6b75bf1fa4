#include "user/store.hpp"

#include "bus/outbox.hpp"
#include "core/ids.hpp"

namespace emporium::user {

namespace {

constexpr std::string_view kInsert =
    "INSERT INTO users (id, email, email_key, name, password_hash, role, created_at, updated_at) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
constexpr std::string_view kByEmail =
    "SELECT id, email, name, password_hash, role, created_at, updated_at FROM users "
    "WHERE email_key = $1";
constexpr std::string_view kById =
    "SELECT id, email, name, password_hash, role, created_at, updated_at FROM users WHERE id = $1";
constexpr std::string_view kList =
    "SELECT id, email, name, password_hash, role, created_at, updated_at FROM users "
    "ORDER BY created_at DESC, id DESC LIMIT $1 OFFSET $2";
constexpr std::string_view kCount = "SELECT count(*) FROM users";
constexpr std::string_view kUpdateName =
    "UPDATE users SET name = $2, updated_at = $3 WHERE id = $1";
constexpr std::string_view kUpdateNameAndPassword =
    "UPDATE users SET name = $2, password_hash = $3, updated_at = $4 WHERE id = $1";
constexpr std::string_view kSetRole = "UPDATE users SET role = $2, updated_at = $3 WHERE id = $1";

constexpr std::string_view kAddRefresh =
    "INSERT INTO refresh_tokens (token_hash, family_id, user_id, expires_at, created_at) "
    "VALUES ($1, $2, $3, $4, $5)";
constexpr std::string_view kFindRefresh =
    "SELECT family_id, user_id, expires_at, used_at, revoked_at FROM refresh_tokens "
    "WHERE token_hash = $1";
constexpr std::string_view kUseRefresh =
    "UPDATE refresh_tokens SET used_at = $2 WHERE token_hash = $1 AND used_at IS NULL "
    "AND revoked_at IS NULL";
constexpr std::string_view kRevokeUser =
    "UPDATE refresh_tokens SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL";
constexpr std::string_view kRevokeFamily =
    "UPDATE refresh_tokens SET revoked_at = $2 WHERE family_id = $1 AND revoked_at IS NULL";
// The families of a user that may still issue or hold live tokens.
constexpr std::string_view kLiveFamilies =
    "SELECT DISTINCT family_id FROM refresh_tokens WHERE user_id = $1 AND revoked_at IS NULL "
    "AND expires_at > $2";
constexpr std::string_view kRenameFamily =
    "UPDATE refresh_tokens SET family_id = $2 WHERE family_id = $1";

constexpr std::string_view kAddRevocation =
    "INSERT INTO session_revocations (sid, expires_at, revoked_at_ms) VALUES ($1, $2, $3) "
    "ON CONFLICT (sid) DO UPDATE SET expires_at = excluded.expires_at, "
    "revoked_at_ms = excluded.revoked_at_ms";
constexpr std::string_view kPruneRevocations =
    "DELETE FROM session_revocations WHERE expires_at < $1";
constexpr std::string_view kRevocationsAfter =
    "SELECT sid, expires_at FROM session_revocations WHERE revoked_at_ms > $1 "
    "AND expires_at >= $2";

std::string lower(std::string s) {
  for (auto& c : s) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return s;
}

User from_row(const db::Row& r) {
  return User{r.text(0), r.text(1), r.text(2), r.text(3), r.text(4), r.text(5), r.text(6)};
}

}  // namespace

core::Result<void, Error> SqlStore::insert(const User& u, const std::optional<bus::Event>& event) {
  auto c = db_.acquire();
  try {
    db::Transaction tx(*c, true);
    c->exec(kInsert, {u.id, u.email, lower(u.email), u.name, u.password_hash, u.role, u.created_at,
                      u.updated_at});
    if (event) {
      bus::add_event(*c, *event);
    }
    tx.commit();
    return {};
  } catch (const db::DbError& e) {
    if (e.kind() == db::ErrorKind::constraint) {
      return core::fail(Error::email_taken);
    }
    throw;
  }
}

void SqlStore::add_event(const bus::Event& event) {
  auto c = db_.acquire();
  db::Transaction tx(*c, true);
  bus::add_event(*c, event);
  tx.commit();
}

std::optional<User> SqlStore::by_email(const std::string& email) {
  auto c = db_.acquire();
  auto rows = c->exec(kByEmail, {lower(email)}).rows;
  return rows.empty() ? std::nullopt : std::optional<User>(from_row(rows[0]));
}

std::optional<User> SqlStore::by_id(const std::string& id) {
  auto c = db_.acquire();
  auto rows = c->exec(kById, {id}).rows;
  return rows.empty() ? std::nullopt : std::optional<User>(from_row(rows[0]));
}

std::vector<User> SqlStore::list(std::int64_t limit, std::int64_t offset) {
  auto c = db_.acquire();
  std::vector<User> out;
  for (const auto& r : c->exec(kList, {limit, offset}).rows) {
    out.push_back(from_row(r));
  }
  return out;
}

std::int64_t SqlStore::count() {
  auto c = db_.acquire();
  return c->exec(kCount).rows.at(0).integer(0);
}

namespace {

std::vector<std::string> live_families(db::Connection& c, const std::string& user_id) {
  std::vector<std::string> out;
  for (const auto& r : c.exec(kLiveFamilies, {user_id, core::unix_seconds()}).rows) {
    out.push_back(r.text(0));
  }
  return out;
}

}  // namespace

ProfileChange SqlStore::update_profile(const std::string& id, const std::string& name,
                                       const std::optional<std::string>& password_hash,
                                       const std::string& now) {
  auto c = db_.acquire();
  if (!password_hash) {
    return {c->exec(kUpdateName, {id, name, now}).affected > 0, {}};
  }
  // A new password ends every login: a stolen refresh token dies with it.
  db::Transaction tx(*c, true);
  ProfileChange out;
  out.found = c->exec(kUpdateNameAndPassword, {id, name, *password_hash, now}).affected > 0;
  out.ended_sessions = live_families(*c, id);
  c->exec(kRevokeUser, {id, now});
  tx.commit();
  return out;
}

std::optional<std::vector<std::string>> SqlStore::set_role(const std::string& id,
                                                           const std::string& role,
                                                           const std::string& now) {
  auto c = db_.acquire();
  db::Transaction tx(*c, true);
  if (c->exec(kSetRole, {id, role, now}).affected == 0) {
    return std::nullopt;
  }
  auto families = live_families(*c, id);
  for (const auto& f : families) {
    c->exec(kRenameFamily, {f, core::new_id()});
  }
  tx.commit();
  return families;
}

void SqlStore::add_refresh(const std::string& token_hash, const std::string& family,
                           const std::string& user_id, std::int64_t expires_at) {
  auto c = db_.acquire();
  c->exec(kAddRefresh, {token_hash, family, user_id, expires_at, core::now_iso8601()});
}

Rotation SqlStore::rotate_refresh(const std::string& old_hash, const std::string& new_hash,
                                  std::int64_t new_expires_at) {
  auto c = db_.acquire();
  db::Transaction tx(*c, true);
  auto rows = c->exec(kFindRefresh, {old_hash}).rows;
  if (rows.empty()) {
    return {};
  }
  const auto& r = rows[0];
  const std::string family = r.text(0);
  Rotation out{RotateOutcome::rotated, r.text(1), family};
  const auto now = core::now_iso8601();
  if (!r.is_null(3) || !r.is_null(4)) {
    c->exec(kRevokeFamily, {family, now});
    tx.commit();
    out.outcome = RotateOutcome::reused;
    return out;
  }
  if (r.integer(2) < core::unix_seconds()) {
    out.outcome = RotateOutcome::expired;
    return out;
  }
  if (c->exec(kUseRefresh, {old_hash, now}).affected != 1) {
    c->exec(kRevokeFamily, {family, now});
    tx.commit();
    out.outcome = RotateOutcome::reused;
    return out;
  }
  c->exec(kAddRefresh, {new_hash, family, out.user_id, new_expires_at, now});
  tx.commit();
  return out;
}

std::optional<std::string> SqlStore::revoke_family_of(const std::string& token_hash) {
  auto c = db_.acquire();
  db::Transaction tx(*c, true);
  auto rows = c->exec(kFindRefresh, {token_hash}).rows;
  if (rows.empty()) {
    return std::nullopt;
  }
  auto family = rows[0].text(0);
  c->exec(kRevokeFamily, {family, core::now_iso8601()});
  tx.commit();
  return family;
}

void SqlStore::add_revocations(const std::vector<auth::Revocation>& rs, std::int64_t now_ms) {
  auto c = db_.acquire();
  db::Transaction tx(*c, true);
  for (const auto& r : rs) {
    c->exec(kAddRevocation, {r.sid, r.expires_at, now_ms});
  }
  c->exec(kPruneRevocations, {core::unix_seconds()});
  tx.commit();
}

std::vector<auth::Revocation> SqlStore::revocations_after(std::int64_t after_ms) {
  auto c = db_.acquire();
  std::vector<auth::Revocation> out;
  for (const auto& r : c->exec(kRevocationsAfter, {after_ms, core::unix_seconds()}).rows) {
    out.push_back({r.text(0), r.integer(1)});
  }
  return out;
}

}  // namespace emporium::user
