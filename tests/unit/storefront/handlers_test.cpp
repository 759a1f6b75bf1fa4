#include "storefront/handlers.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "http/router.hpp"
#include "storefront/domain.hpp"

namespace emporium::storefront {
namespace {

http::Request get(std::string path, std::string accept_encoding = "") {
  http::Request req;
  req.method = "GET";
  req.path = path;
  req.target = std::move(path);
  if (!accept_encoding.empty()) {
    req.headers.set("Accept-Encoding", accept_encoding);
  }
  return req;
}

class Storefront : public ::testing::Test {
 protected:
  const Assets assets_{{{"index.html", "<h1>shop</h1>"},
                        {"index.html.gz", "GZ-INDEX"},
                        {"index.html.br", "BR-INDEX"},
                        {"admin/index.html", "<h1>admin</h1>"},
                        {"assets/app-1a2b3c.js", "console.log(1)"},
                        {"assets/app-1a2b3c.js.br", "BR-JS"},
                        {"favicon.svg", "<svg/>"}}};
  const Handlers handlers_{assets_};
};

TEST_F(Storefront, VariantsBelongToTheirFile) {
  EXPECT_EQ(assets_.size(), 4U);
  EXPECT_EQ(assets_.find("index.html.gz"), nullptr);
  EXPECT_EQ(assets_.find("index.html")->gzip, "GZ-INDEX");
  EXPECT_EQ(assets_.find("assets/app-1a2b3c.js")->brotli, "BR-JS");
  EXPECT_TRUE(assets_.find("assets/app-1a2b3c.js")->gzip.empty());
}

TEST_F(Storefront, PagesOfTheAppAnswerWithItsEntryPoint) {
  for (const char* path : {"/", "/cart", "/products/p-1", "/orders/o-1/", "/signin"}) {
    const auto res = handlers_.serve(get(path));
    EXPECT_EQ(res.status, 200) << path;
    EXPECT_EQ(res.body, "<h1>shop</h1>") << path;
    EXPECT_EQ(res.headers.get("Content-Type").value_or(""), "text/html; charset=utf-8");
    EXPECT_EQ(res.headers.get("Cache-Control").value_or(""), "no-cache") << path;
    EXPECT_EQ(res.headers.get("Content-Security-Policy").value_or(""), kContentSecurityPolicy);
  }
  for (const char* path : {"/admin", "/admin/", "/admin/orders"}) {
    EXPECT_EQ(handlers_.serve(get(path)).body, "<h1>admin</h1>") << path;
  }
  // Not the admin console: only the /admin segment is.
  EXPECT_EQ(handlers_.serve(get("/administrator")).body, "<h1>shop</h1>");
}

TEST_F(Storefront, HashedAssetsAreImmutableAndPrecompressedVariantsNegotiated) {
  auto res = handlers_.serve(get("/assets/app-1a2b3c.js", "gzip, deflate, br"));
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(res.body, "BR-JS");
  EXPECT_EQ(res.headers.get("Content-Encoding").value_or(""), "br");
  EXPECT_EQ(res.headers.get("Vary").value_or(""), "Accept-Encoding");
  EXPECT_EQ(res.headers.get("Content-Type").value_or(""), "text/javascript; charset=utf-8");
  EXPECT_EQ(res.headers.get("Cache-Control").value_or(""), "public, max-age=31536000, immutable");

  // No gzip variant of the script: the bytes as built, without Content-Encoding.
  res = handlers_.serve(get("/assets/app-1a2b3c.js", "gzip"));
  EXPECT_EQ(res.body, "console.log(1)");
  EXPECT_FALSE(res.headers.has("Content-Encoding"));

  EXPECT_EQ(handlers_.serve(get("/", "gzip;q=1.0, br;q=0")).body, "GZ-INDEX");
  EXPECT_EQ(handlers_.serve(get("/", "identity")).body, "<h1>shop</h1>");
  EXPECT_EQ(handlers_.serve(get("/favicon.svg", "br")).body, "<svg/>");
}

TEST_F(Storefront, RevalidationByEtagAnswers304WithoutABody) {
  const auto first = handlers_.serve(get("/"));
  const auto etag = std::string(first.headers.get("ETag").value_or(""));
  ASSERT_EQ(etag.size(), 34U);
  auto again = get("/cart");
  again.headers.set("If-None-Match", etag);
  const auto res = handlers_.serve(again);
  EXPECT_EQ(res.status, 304);
  EXPECT_TRUE(res.body.empty());
  EXPECT_EQ(res.headers.get("ETag").value_or(""), etag);
  // Another file's tag does not match.
  auto other = get("/admin");
  other.headers.set("If-None-Match", etag);
  EXPECT_EQ(handlers_.serve(other).status, 200);
}

TEST_F(Storefront, ApiPathsMissingFilesAndWritesAreProblems) {
  for (const char* path : {"/api", "/api/nope", "/internal/carts/u1", "/metrics",
                           "/assets/app-0000.js", "/robots.txt"}) {
    const auto res = handlers_.serve(get(path));
    EXPECT_EQ(res.status, 404) << path;
    EXPECT_EQ(res.headers.get("Content-Type").value_or(""), "application/problem+json");
    EXPECT_EQ(boost::json::parse(res.body).at("error").as_string(), "Not found");
  }
  auto post = get("/cart");
  post.method = "POST";
  const auto res = handlers_.serve(post);
  EXPECT_EQ(res.status, 405);
  EXPECT_EQ(res.headers.get("Allow").value_or(""), "GET, HEAD");
  auto internal = get("/internal/stock/reservations");
  internal.method = "POST";
  EXPECT_EQ(handlers_.serve(internal).status, 404);
}

TEST(StorefrontUnbuilt, EveryPathIsNotFound) {
  const Assets none({});
  const Handlers handlers(none);
  EXPECT_TRUE(none.empty());
  EXPECT_EQ(handlers.serve(get("/")).status, 404);
}

TEST(StorefrontDomain, EncodingChoiceFollowsQValues) {
  EXPECT_EQ(choose_encoding("br", true, true), "br");
  EXPECT_EQ(choose_encoding("BR;q=0.5, gzip", true, true), "br");
  EXPECT_EQ(choose_encoding("br;q=0.000, gzip", true, true), "gzip");
  EXPECT_EQ(choose_encoding("br;q=0.001", true, true), "br");
  EXPECT_EQ(choose_encoding("br, gzip", false, true), "gzip");
  EXPECT_EQ(choose_encoding("deflate", true, true), "");
  EXPECT_EQ(choose_encoding("", true, true), "");
}

TEST(StorefrontDomain, TheRootPrefixTakesEveryPathNoRouteTakes) {
  http::Router router;
  router.add("GET", "/api/products", [](http::Request&) { return http::Response{}; });
  router.add_prefix("/api/cart", [](http::Request&) { return http::Response{}; });
  router.add_prefix("/", [](http::Request&) { return http::Response{}; });
  EXPECT_EQ(router.match("GET", "/api/products").route->path_template, "/api/products");
  EXPECT_EQ(router.match("GET", "/api/cart/u1").route->path_template, "/api/cart/*");
  EXPECT_EQ(router.match("GET", "/cart").route->path_template, "/*");
  EXPECT_EQ(router.match("GET", "/").route->path_template, "/*");
  EXPECT_EQ(router.match("GET", "/api/nope").route->path_template, "/*");
}

}  // namespace
}  // namespace emporium::storefront
