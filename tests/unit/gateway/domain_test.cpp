#include "gateway/domain.hpp"

#include <gtest/gtest.h>

namespace emporium::gateway {
namespace {

TEST(Gateway, ProtectedRoutesNeedASignedInUser) {
  using gateway::requires_auth;
  EXPECT_FALSE(requires_auth("GET", "/api/products"));
  EXPECT_FALSE(requires_auth("GET", "/api/products/abc"));
  EXPECT_TRUE(requires_auth("POST", "/api/products"));
  EXPECT_TRUE(requires_auth("DELETE", "/api/products/abc"));
  EXPECT_FALSE(requires_auth("POST", "/api/users/login"));
  EXPECT_FALSE(requires_auth("POST", "/api/users/register"));
  EXPECT_FALSE(requires_auth("POST", "/api/users/refresh"));
  EXPECT_TRUE(requires_auth("GET", "/api/users/profile"));
  EXPECT_TRUE(requires_auth("GET", "/api/users"));
  EXPECT_TRUE(requires_auth("GET", "/api/cart/u1"));
  EXPECT_TRUE(requires_auth("POST", "/api/orders"));
}

TEST(GatewayDomain, OpenUserRoutesMatchExactlyOrWithATrailingCharacter) {
  EXPECT_FALSE(requires_auth("POST", "/api/users/logout"));
  EXPECT_FALSE(requires_auth("POST", "/api/users/login/"));
  EXPECT_TRUE(requires_auth("POST", "/api/users/login/extra"));
  EXPECT_TRUE(requires_auth("POST", "/api/users/loginx/y"));
  EXPECT_FALSE(requires_auth("HEAD", "/api/products/abc"));
  EXPECT_TRUE(requires_auth("PATCH", "/api/products/abc"));
  EXPECT_TRUE(requires_auth("GET", "/api/orders/o1"));
  EXPECT_FALSE(requires_auth("GET", "/healthz"));
}

TEST(GatewayDomain, HopByHopHeadersAreRecognisedInAnyCase) {
  for (const char* h : {"Connection", "keep-alive", "TRANSFER-ENCODING", "Content-Length", "Date",
                        "TE", "Trailer", "Upgrade", "Proxy-Connection"}) {
    EXPECT_TRUE(hop_by_hop(h)) << h;
  }
  for (const char* h : {"Content-Type", "Set-Cookie", "Cache-Control", "ETag", "Retry-After",
                        "WWW-Authenticate", "X-Request-Id"}) {
    EXPECT_FALSE(hop_by_hop(h)) << h;
  }
}

}  // namespace
}  // namespace emporium::gateway
