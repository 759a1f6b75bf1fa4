#pragma once

#include <string>

#include "user/store.hpp"

namespace emporium::user {

// The operator's admin account, from config at start-up.
struct AdminBootstrap {
  std::string email{};       // admin_email; empty: nothing to do
  std::string password{};    // admin_password; empty: generated in development
  bool development = false;  // mode == "development"
};

// Makes sure `b.email` is an admin account: creates it (with a generated
// password, logged, when none is configured in development), or promotes an
// existing account whose password is the configured one; otherwise leaves
// it alone and logs why. Throws std::runtime_error when the account must be
// created and the configured password breaks the rule of new passwords
// (10 to 128 characters, not a common one).
void bootstrap_admin(Store& store, AdminBootstrap b);

}  // namespace emporium::user
