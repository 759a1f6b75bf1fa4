#include "user/admin.hpp"

#include <stdexcept>

#include "auth/auth.hpp"
#include "core/ids.hpp"
#include "obs/log.hpp"
#include "user/domain.hpp"
#include "user/passwords.hpp"

namespace emporium::user {

namespace {

// Grants the admin role to `existing` only if it is the operator's: anyone
// can register an address, so the configured password must match.
void promote(Store& store, const User& existing, const AdminBootstrap& b, bool generated) {
  if (existing.role == auth::kRoleAdmin) {
    return;
  }
  if (generated || !auth::verify_password(existing.password_hash, b.password)) {
    obs::error(
        "admin_email belongs to an account whose password is not admin_password; "
        "not promoting it",
        {{"email", b.email}});
    return;
  }
  store.set_role(existing.id, std::string(auth::kRoleAdmin), core::now_iso8601());
  obs::info("admin role granted", {{"email", b.email}});
}

void create(Store& store, const std::string& email, const std::string& password, bool generated) {
  if (password.size() < kPasswordMin || password.size() > kPasswordMax ||
      is_common_password(password)) {
    throw std::runtime_error(
        "admin_password must have 10 to 128 characters and not be a common password");
  }
  const auto now = core::now_iso8601();
  User u{core::new_id(),
         email,
         "Administrator",
         auth::hash_password(password),
         std::string(auth::kRoleAdmin),
         now,
         now};
  // Fails only when the email was registered since the caller looked it up;
  // that account is left as it is.
  (void)store.insert(u, std::nullopt);
  if (generated) {
    obs::warn("admin account created with a generated password; change it after signing in",
              {{"email", email}, {"password", password}});
  } else {
    obs::info("admin account created", {{"email", email}});
  }
}

}  // namespace

void bootstrap_admin(Store& store, AdminBootstrap b) {
  if (b.email.empty()) {
    return;
  }
  bool generated = false;
  if (b.password.empty()) {
    if (store.by_email(b.email)) {
      return;  // exists already; its password was shown when it was created
    }
    if (!b.development) {
      obs::warn("admin_password not set; no admin account created", {{"email", b.email}});
      return;
    }
    b.password = core::new_token().substr(0, 20);
    generated = true;
  }
  if (auto existing = store.by_email(b.email)) {
    promote(store, *existing, b, generated);
    return;
  }
  create(store, b.email, b.password, generated);
}

}  // namespace emporium::user
