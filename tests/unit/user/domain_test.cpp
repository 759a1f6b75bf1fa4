#include "user/domain.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace emporium::user {
namespace {

namespace json = boost::json;

std::vector<std::string> invalid_fields(const http::Invalid& invalid) {
  std::vector<std::string> out;
  for (const auto& e : invalid.fields) {
    out.push_back(e.field);
  }
  return out;
}

TEST(Email, PlausibleAddressesOnly) {
  EXPECT_TRUE(valid_email("ann@example.com"));
  EXPECT_TRUE(valid_email("a.b+c@sub.example.co.uk"));
  EXPECT_FALSE(valid_email("ann"));
  EXPECT_FALSE(valid_email("@example.com"));
  EXPECT_FALSE(valid_email("ann@example"));
  EXPECT_FALSE(valid_email("ann@@example.com"));
  EXPECT_FALSE(valid_email("ann smith@example.com"));
}

TEST(Roles, NamesRoundTripAndNothingElseIsARole) {
  EXPECT_EQ(role_name(Role::customer), "customer");
  EXPECT_EQ(role_name(Role::admin), "admin");
  EXPECT_EQ(role_from("admin"), Role::admin);
  EXPECT_EQ(role_from("customer"), Role::customer);
  EXPECT_FALSE(role_from("service"));
  EXPECT_FALSE(role_from("Admin"));
}

TEST(RegisterInput, NeedsAnEmailAndAPasswordOfEightCharacters) {
  auto in = read_register(
      json::parse(R"({"email":"ann@example.com","password":"12345678"})").as_object());
  ASSERT_TRUE(in.ok());
  EXPECT_EQ(in->email, "ann@example.com");
  EXPECT_EQ(in->password, "12345678");
  EXPECT_EQ(in->name, "");

  auto bad = read_register(
      json::parse(R"({"email":"ann@example","password":"1234567","admin":true})").as_object());
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().status, 400);
  EXPECT_EQ(invalid_fields(bad.error()), (std::vector<std::string>{"admin", "email", "password"}));
  EXPECT_EQ(bad.error().fields[1].msg, "Must be a valid email address");
}

TEST(LoginInput, AcceptsAnyNonEmptyPassword) {
  auto in = read_login(json::parse(R"({"email":"a","password":"x"})").as_object());
  ASSERT_TRUE(in.ok());
  EXPECT_EQ(in->password, "x");
  auto bad = read_login(json::parse(R"({"email":"a@b.co"})").as_object());
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(invalid_fields(bad.error()), (std::vector<std::string>{"password"}));
}

// Both take the token from the body when sent (else from the refresh cookie,
// see the handler tests); "" is no token, as a blank form field.
TEST(RefreshAndLogoutInput, TokenOptionalInTheBody) {
  auto none = read_refresh(json::object{});
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->token);
  EXPECT_EQ(read_refresh(json::parse(R"({"refreshToken":"t"})").as_object())->token, "t");
  EXPECT_FALSE(read_refresh(json::parse(R"({"refreshToken":""})").as_object())->token);
  EXPECT_FALSE(read_refresh(json::parse(R"({"refreshToken":7})").as_object()).ok());
  auto out = read_logout(json::object{});
  ASSERT_TRUE(out.ok());
  EXPECT_FALSE(out->token);
  EXPECT_EQ(read_logout(json::parse(R"({"refreshToken":"t"})").as_object())->token, "t");
  EXPECT_FALSE(read_logout(json::parse(R"({"refreshToken":""})").as_object())->token);
}

TEST(ProfileUpdate, ANewPasswordNeedsTheCurrentOne) {
  auto bad = read_profile_update(json::parse(R"({"password":"new-password"})").as_object());
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(invalid_fields(bad.error()), (std::vector<std::string>{"currentPassword"}));
  EXPECT_EQ(bad.error().fields[0].msg, "Required to change the password");

  auto empty = read_profile_update(json::object{});
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(invalid_fields(empty.error()), (std::vector<std::string>{"body"}));

  auto ok = read_profile_update(
      json::parse(R"({"password":"new-password","currentPassword":"old"})").as_object());
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->password, "new-password");
  EXPECT_EQ(ok->current_password, "old");
  EXPECT_FALSE(ok->name);
}

TEST(RoleInput, OnlyCustomerOrAdmin) {
  EXPECT_EQ(read_role(json::parse(R"({"role":"admin"})").as_object())->role, Role::admin);
  auto bad = read_role(json::parse(R"({"role":"service"})").as_object());
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().fields.at(0).msg, "Must be customer or admin");
}

}  // namespace
}  // namespace emporium::user
