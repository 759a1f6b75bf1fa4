#include "http/router.hpp"

#include <gtest/gtest.h>

namespace emporium::http {
namespace {

Handler named(std::string name) {
  return [name](Request&) { return Response::json(200, name); };
}

Router shop_router() {
  Router r;
  r.add("GET", "/api/products", named("list"));
  r.add("POST", "/api/products", named("create"));
  r.add("GET", "/api/products/{id}", named("get"));
  r.add("PUT", "/api/products/{id}", named("put"));
  r.add("GET", "/api/products/categories", named("categories"));
  r.add("DELETE", "/api/cart/{userId}/items/{productId}", named("remove"));
  return r;
}

std::string call(const Router::Match& m) {
  Request req;
  return m.route->handler(req).body;
}

TEST(Router, MatchesLiteralAndParameterisedPaths) {
  auto r = shop_router();
  auto list = r.match("GET", "/api/products");
  ASSERT_EQ(list.status, 200);
  EXPECT_EQ(call(list), "list");
  EXPECT_EQ(call(r.match("POST", "/api/products")), "create");

  auto get = r.match("GET", "/api/products/p-42");
  ASSERT_EQ(get.status, 200);
  EXPECT_EQ(call(get), "get");
  ASSERT_EQ(get.params.size(), 1U);
  EXPECT_EQ(get.params[0].first, "id");
  EXPECT_EQ(get.params[0].second, "p-42");

  auto two = r.match("DELETE", "/api/cart/u1/items/p2");
  ASSERT_EQ(two.status, 200);
  EXPECT_EQ(two.params[0].second, "u1");
  EXPECT_EQ(two.params[1].second, "p2");
}

TEST(Router, LiteralSegmentBeatsParameter) {
  auto r = shop_router();
  EXPECT_EQ(call(r.match("GET", "/api/products/categories")), "categories");
  // Other methods on the literal path do not fall through to {id}.
  auto put = r.match("PUT", "/api/products/categories");
  EXPECT_EQ(put.status, 405);
}

TEST(Router, UnknownPathIs404AndWrongMethodIs405WithAllow) {
  auto r = shop_router();
  EXPECT_EQ(r.match("GET", "/api/nothing").status, 404);
  EXPECT_EQ(r.match("GET", "/api/products/a/b").status, 404);
  EXPECT_EQ(r.match("GET", "/").status, 404);
  auto m = r.match("DELETE", "/api/products/p1");
  EXPECT_EQ(m.status, 405);
  EXPECT_EQ(m.allow, "GET, HEAD, PUT");
  EXPECT_EQ(m.route, nullptr);
}

TEST(Router, HeadUsesGetAndTrailingSlashIsIgnored) {
  auto r = shop_router();
  EXPECT_EQ(call(r.match("HEAD", "/api/products/p1")), "get");
  EXPECT_EQ(call(r.match("GET", "/api/products/")), "list");
}

TEST(Router, ParametersArePercentDecodedAndEmptySegmentsDoNotMatch) {
  auto r = shop_router();
  auto m = r.match("GET", "/api/products/a%2Fb%20c");
  ASSERT_EQ(m.status, 200);
  EXPECT_EQ(m.params[0].second, "a/b c");
  EXPECT_EQ(r.match("DELETE", "/api/cart//items/p2").status, 404);
  EXPECT_EQ(r.match("GET", "/api/products/%zz").status, 404);
}

TEST(Router, RejectsMalformedAndDuplicateTemplates) {
  Router r;
  EXPECT_THROW(r.add("GET", "/a/{}", named("x")), std::invalid_argument);
  EXPECT_THROW(r.add("GET", "/a/x{id}", named("x")), std::invalid_argument);
  r.add("GET", "/a/{id}", named("x"));
  EXPECT_THROW(r.add("GET", "/a/{other}", named("y")), std::invalid_argument);
  EXPECT_NO_THROW(r.add("POST", "/a/{id}", named("z")));
}

}  // namespace
}  // namespace emporium::http
