#include "http/route_class.hpp"

#include <gtest/gtest.h>

namespace emporium::http {
namespace {

TEST(RouteClass, SignInRegistrationRefreshAndProfileWritesHaveTheirOwnClasses) {
  EXPECT_EQ(classify("POST", "/api/users/login"), RouteClass::sign_in);
  EXPECT_EQ(classify("POST", "/api/users/login/"), RouteClass::sign_in);
  EXPECT_EQ(classify("POST", "/api/users/register?x=1"), RouteClass::signup);
  EXPECT_EQ(classify("POST", "/api/users/refresh"), RouteClass::refresh);
  EXPECT_EQ(classify("PUT", "/api/users/profile"), RouteClass::password);
  EXPECT_EQ(classify("GET", "/api/users/profile"), RouteClass::read);
  EXPECT_EQ(classify("GET", "/api/users/login"), RouteClass::read);
}

TEST(RouteClass, OpsAndInternalPathsAreSetApartFromShopTraffic) {
  EXPECT_EQ(classify("GET", "/healthz"), RouteClass::ops);
  EXPECT_EQ(classify("GET", "/readyz"), RouteClass::ops);
  EXPECT_EQ(classify("GET", "/metrics"), RouteClass::ops);
  EXPECT_EQ(classify("POST", "/internal/carts/u1/checkouts"), RouteClass::internal);
  EXPECT_EQ(classify("GET", "/internalx"), RouteClass::read);
}

TEST(RouteClass, OtherRequestsAreReadsOrWritesByMethod) {
  EXPECT_EQ(classify("GET", "/api/products"), RouteClass::read);
  EXPECT_EQ(classify("HEAD", "/"), RouteClass::read);
  EXPECT_EQ(classify("POST", "/api/orders"), RouteClass::write);
  EXPECT_EQ(classify("DELETE", "/api/cart/u1/items/p1"), RouteClass::write);
  EXPECT_EQ(name(RouteClass::sign_in), "sign_in");
  EXPECT_EQ(name(RouteClass::write), "write");
}

}  // namespace
}  // namespace emporium::http
