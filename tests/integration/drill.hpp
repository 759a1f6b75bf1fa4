#pragma once

// Helpers the restore drills share (backup_test.cpp, pitr_test.cpp): the
// journey steps they repeat and running commands to completion.

#include <string>
#include <vector>

#include "mailbox.hpp"
#include "shop.hpp"

namespace emporium::test {

struct CommandRun {
  int code = -1;
  std::string output;  // stdout and stderr
};

// Runs `emporium args...` to completion (two minutes at most).
CommandRun run_emporium(std::vector<std::string> args);
// Runs `scripts/pg-backup.sh args...` to completion.
CommandRun run_pg_backup(const std::vector<std::string>& args);

// Adds `qty` of `product` to the cart and places the order; returns its id
// ("" when refused, with a test failure recorded).
std::string buy(Shop& shop, const Customer& c, const std::string& product, std::int64_t qty);
// The ids of the customer's orders, sorted.
std::vector<std::string> order_ids(const Shop& shop, const Customer& c);
// Signs in with the password register_and_login uses.
Customer login(const Shop& shop, const std::string& email);
// The HTTP status of a sign-in (401 for an account the shop does not hold).
int login_status(const Shop& shop, const std::string& email);
// How many order confirmations maildev holds for `address`.
std::size_t confirmations(const Maildev& mail, const std::string& address);
// --smtp-url for maildev (EMPORIUM_TEST_SMTP_URL).
std::vector<std::string> smtp_args();

}  // namespace emporium::test
