#include "drill.hpp"

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstdio>

namespace emporium::test {

CommandRun run_emporium(std::vector<std::string> args) {
  Process p(std::move(args));
  CommandRun r;
  r.code = p.wait_exit(std::chrono::seconds(120));
  r.output = p.output();
  return r;
}

CommandRun run_pg_backup(const std::vector<std::string>& args) {
  std::string cmd = "'" + (repo_root() / "scripts" / "pg-backup.sh").string() + "'";
  for (const auto& a : args) {
    cmd += " '" + a + "'";
  }
  cmd += " 2>&1";
  CommandRun r;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) {
    return r;
  }
  char buf[512];
  while (std::fgets(buf, sizeof buf, p) != nullptr) {
    r.output += buf;
  }
  const int status = ::pclose(p);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

std::string buy(Shop& shop, const Customer& c, const std::string& product, std::int64_t qty) {
  const auto added = shop.add_to_cart(c, product, qty).status;
  EXPECT_TRUE(added == 200 || added == 201) << "add to cart: " << added;
  auto r = shop.place_order(c);
  EXPECT_EQ(r.status, 201) << r.raw;
  return r.status == 201 ? std::string(r.obj().at("id").as_string()) : std::string();
}

std::vector<std::string> order_ids(const Shop& shop, const Customer& c) {
  auto r = shop.call("GET", "/api/orders?limit=100", "", c.token);
  EXPECT_EQ(r.status, 200) << r.raw;
  std::vector<std::string> ids;
  if (r.status == 200) {
    for (const auto& o : r.arr()) {
      ids.emplace_back(o.as_object().at("id").as_string());
    }
  }
  std::sort(ids.begin(), ids.end());
  return ids;
}

namespace {

Reply sign_in(const Shop& shop, const std::string& email) {
  return shop.call("POST", "/api/users/login",
                   R"({"email":")" + email + R"(","password":"password-123"})");
}

}  // namespace

Customer login(const Shop& shop, const std::string& email) {
  auto r = sign_in(shop, email);
  EXPECT_EQ(r.status, 200) << email << ": " << r.raw;
  if (r.status != 200) {
    return {};
  }
  return Customer{std::string(r.obj().at("user").as_object().at("id").as_string()), email,
                  std::string(r.obj().at("token").as_string()), ""};
}

int login_status(const Shop& shop, const std::string& email) {
  return sign_in(shop, email).status;
}

std::size_t confirmations(const Maildev& mail, const std::string& address) {
  return with_subject(mail.to(address), "is confirmed").size();
}

std::vector<std::string> smtp_args() {
  return {"--smtp-url=" + required_env("EMPORIUM_TEST_SMTP_URL")};
}

}  // namespace emporium::test
