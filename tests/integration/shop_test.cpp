// The shop through its gateway, in both shapes: the prototype's journey, its
// defects (which must not return), bad input, concurrency and idempotency.
#include "shop.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <set>
#include <thread>

#include "http/client.hpp"
#include "http/problem.hpp"

namespace emporium::test {
namespace {

using namespace std::chrono_literals;
namespace json = boost::json;

// (shape, storage): every shop test runs in both shapes on both stores.
class ShopTest : public ::testing::TestWithParam<std::tuple<std::string, std::string>> {
 protected:
  void SetUp() override { shop = make_shop(std::get<0>(GetParam()), std::get<1>(GetParam())); }
  std::unique_ptr<Shop> shop;
};

INSTANTIATE_TEST_SUITE_P(Shapes, ShopTest,
                         ::testing::Combine(::testing::Values("all", "split"),
                                            ::testing::Values("sqlite", "postgres")),
                         [](const auto& p) {
                           return std::string(std::get<0>(p.param) == "all" ? "AllInOne"
                                                                            : "Split") +
                                  (std::get<1>(p.param) == "sqlite" ? "SQLite" : "PostgreSQL");
                         });

TEST_P(ShopTest, PrototypeJourney) {
  auto ann = shop->register_and_login("ann@example.com");
  const auto id = shop->create_product("Journey Lamp", 24.99, 7, "Home");

  // The product created through the API is findable by id (a prototype defect).
  auto product = shop->call("GET", "/api/products/" + id);
  ASSERT_EQ(product.status, 200);
  EXPECT_EQ(product.obj().at("name").as_string(), "Journey Lamp");
  EXPECT_EQ(product.raw.find("\"price\":24.99") != std::string::npos, true) << product.raw;

  auto added = shop->add_to_cart(ann, id, 2);
  ASSERT_EQ(added.status, 201) << added.raw;
  auto cart = shop->call("GET", "/api/cart/" + ann.id, {}, ann.token);
  ASSERT_EQ(cart.status, 200);
  ASSERT_EQ(cart.obj().at("items").as_array().size(), 1U);
  const auto& line = cart.obj().at("items").as_array()[0].as_object();
  EXPECT_EQ(line.at("productId").as_string(), id);
  EXPECT_EQ(line.at("quantity").as_int64(), 2);
  EXPECT_NE(cart.raw.find("\"subtotal\":49.98"), std::string::npos) << cart.raw;
  EXPECT_NE(cart.raw.find("\"total\":49.98"), std::string::npos) << cart.raw;

  auto order = shop->place_order(ann);
  ASSERT_EQ(order.status, 201) << order.raw;
  EXPECT_EQ(order.obj().at("status").as_string(), "pending");
  EXPECT_EQ(order.obj().at("userId").as_string(), ann.id);
  EXPECT_NE(order.raw.find("\"total\":49.98"), std::string::npos) << order.raw;
  EXPECT_EQ(order.obj().at("items").as_array()[0].as_object().at("productName").as_string(),
            "Journey Lamp");
  EXPECT_EQ(order.obj().at("shippingAddress").as_object().at("zipCode").as_string(), "62701");

  auto orders = shop->call("GET", "/api/orders?userId=" + ann.id, {}, ann.token);
  ASSERT_EQ(orders.status, 200);
  ASSERT_EQ(orders.arr().size(), 1U);
  EXPECT_EQ(orders.arr()[0].as_object().at("id"), order.obj().at("id"));
  EXPECT_EQ(orders.arr()[0].as_object().at("_id"), order.obj().at("id"));
  EXPECT_EQ(orders.headers.get("X-Total-Count").value_or(""), "1");

  // The cart is empty afterwards and the stock went down by exactly 2.
  auto after = shop->call("GET", "/api/cart/" + ann.id, {}, ann.token);
  EXPECT_TRUE(after.obj().at("items").as_array().empty()) << after.raw;
  EXPECT_EQ(shop->stock_of(id), 5);

  auto one = shop->call("GET", "/api/orders/" + std::string(order.obj().at("id").as_string()), {},
                        ann.token);
  EXPECT_EQ(one.status, 200);
}

TEST_P(ShopTest, PricesComeFromTheCatalogNotTheClient) {
  auto bob = shop->register_and_login("bob@example.com");
  const auto id = shop->create_product("Priced Item", 10.00, 5);
  auto tampered =
      shop->call("POST", "/api/cart/" + bob.id + "/items",
                 R"({"productId":")" + id + R"(","quantity":1,"price":0.01})", bob.token);
  EXPECT_EQ(tampered.status, 400);
  ASSERT_EQ(shop->add_to_cart(bob, id, 1).status, 201);
  auto order = shop->place_order(bob);
  ASSERT_EQ(order.status, 201);
  EXPECT_EQ(order.obj().at("total").as_int64(), 10);
}

TEST_P(ShopTest, CartAndOrdersAreClosedToOthers) {
  auto ann = shop->register_and_login("ann@example.com");
  auto eve = shop->register_and_login("eve@example.com");
  const auto id = shop->create_product("Private", 5, 5);
  ASSERT_EQ(shop->add_to_cart(ann, id, 1).status, 201);
  auto order = shop->place_order(ann);
  ASSERT_EQ(order.status, 201);
  const std::string order_id(order.obj().at("id").as_string());

  EXPECT_EQ(shop->call("GET", "/api/cart/" + ann.id).status, 401);
  EXPECT_EQ(shop->call("GET", "/api/cart/" + ann.id, {}, eve.token).status, 403);
  EXPECT_EQ(shop->call("POST", "/api/cart/" + ann.id + "/items",
                       R"({"productId":")" + id + R"(","quantity":1})", eve.token)
                .status,
            403);
  EXPECT_EQ(shop->call("DELETE", "/api/cart/" + ann.id, {}, eve.token).status, 403);
  EXPECT_EQ(shop->call("GET", "/api/orders/" + order_id, {}, eve.token).status, 403);
  EXPECT_EQ(shop->call("GET", "/api/orders?userId=" + ann.id, {}, eve.token).status, 403);
  EXPECT_EQ(shop->call("DELETE", "/api/orders/" + order_id, {}, eve.token).status, 403);
  auto for_other =
      shop->call("POST", "/api/orders",
                 R"({"userId":")" + ann.id + R"(","shippingAddress":)" + Shop::address_json() + "}",
                 eve.token);
  EXPECT_EQ(for_other.status, 403);
  // Eve's own list does not show Ann's order; the admin sees it.
  auto mine = shop->call("GET", "/api/orders", {}, eve.token);
  EXPECT_TRUE(mine.arr().empty());
  EXPECT_EQ(shop->call("GET", "/api/orders/" + order_id, {}, shop->admin_token()).status, 200);
  EXPECT_EQ(shop->call("GET", "/api/cart/" + ann.id, {}, shop->admin_token()).status, 200);
}

TEST_P(ShopTest, TokensAreVerified) {
  auto ann = shop->register_and_login("ann@example.com");
  const std::string path = "/api/cart/" + ann.id;

  auto none = shop->call("GET", path);
  EXPECT_EQ(none.status, 401);
  EXPECT_EQ(none.error(), "No authorization header");

  auto expired = shop->call("GET", path, {}, Shop::expired_token(ann.id, "customer"));
  EXPECT_EQ(expired.status, 401);
  EXPECT_EQ(expired.error(), "Token expired");
  EXPECT_EQ(expired.headers.get("WWW-Authenticate"),
            R"(Bearer error="invalid_token", error_description="token expired")");

  auth::Tokens other(auth::TokenSettings{.secret = "another-secret-another-secret-another"});
  auto forged = shop->call("GET", path, {}, other.issue_access(ann.id, "admin", "sid-1"));
  EXPECT_EQ(forged.status, 401);
  EXPECT_EQ(forged.error(), "Invalid token");

  // alg "none": header {"alg":"none","typ":"JWT"}, the real claims, no signature.
  const auto& real = ann.token;
  const auto dot = real.find('.');
  const std::string none_token =
      "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0" + real.substr(dot, real.rfind('.') - dot) + ".";
  auto unsigned_token = shop->call("GET", path, {}, none_token);
  EXPECT_EQ(unsigned_token.status, 401);
  EXPECT_EQ(unsigned_token.error(), "Invalid token");

  EXPECT_EQ(shop->call("GET", path, {}, "garbage").error(), "Invalid token");
  EXPECT_EQ(shop->call("GET", path, {}, {}, {"Authorization: Basic YWJjOmRlZg=="}).error(),
            "Invalid token");

  // The session cookie from login authenticates like the bearer token.
  auto cookie = shop->call("GET", path, {}, {}, {"Cookie: emporium_session=" + ann.token});
  EXPECT_EQ(cookie.status, 200);
}

TEST_P(ShopTest, CustomersCannotUseAdminEndpoints) {
  auto ann = shop->register_and_login("ann@example.com");
  const auto id = shop->create_product("Admin Only", 1, 1);
  const std::string body = R"({"name":"X","price":1,"category":"Y"})";
  EXPECT_EQ(shop->call("POST", "/api/products", body, ann.token).status, 403);
  EXPECT_EQ(shop->call("PUT", "/api/products/" + id, body, ann.token).status, 403);
  EXPECT_EQ(shop->call("PATCH", "/api/products/" + id, R"({"stock":100})", ann.token).status, 403);
  EXPECT_EQ(shop->call("DELETE", "/api/products/" + id, {}, ann.token).status, 403);
  EXPECT_EQ(shop->call("GET", "/api/users", {}, ann.token).status, 403);
  EXPECT_EQ(
      shop->call("PUT", "/api/users/" + ann.id + "/role", R"({"role":"admin"})", ann.token).status,
      403);
  ASSERT_EQ(shop->add_to_cart(ann, id, 1).status, 201);
  auto order = shop->place_order(ann);
  EXPECT_EQ(
      shop->call("PUT", "/api/orders/" + std::string(order.obj().at("id").as_string()) + "/status",
                 R"({"status":"shipped"})", ann.token)
          .status,
      403);
  EXPECT_EQ(shop->stock_of(id), 0);
}

TEST_P(ShopTest, AdminManagesProductsAndUsers) {
  const auto admin = shop->admin_token();
  const auto id = shop->create_product("Editable", 3.5, 4);
  auto patched = shop->call("PATCH", "/api/products/" + id, R"({"stock":9,"price":4.25})", admin);
  ASSERT_EQ(patched.status, 200) << patched.raw;
  EXPECT_EQ(patched.obj().at("stock").as_int64(), 9);
  EXPECT_EQ(patched.obj().at("name").as_string(), "Editable");
  auto replaced =
      shop->call("PUT", "/api/products/" + id,
                 R"({"name":"Replaced","price":2,"category":"New","description":"d"})", admin);
  ASSERT_EQ(replaced.status, 200) << replaced.raw;
  EXPECT_EQ(replaced.obj().at("stock").as_int64(), 0);  // full replacement
  EXPECT_EQ(replaced.obj().at("category").as_string(), "New");
  auto removed = shop->call("DELETE", "/api/products/" + id, {}, admin);
  EXPECT_EQ(removed.status, 200);
  EXPECT_FALSE(removed.obj().at("message").as_string().empty());
  EXPECT_EQ(shop->call("GET", "/api/products/" + id).status, 404);
  EXPECT_EQ(shop->call("DELETE", "/api/products/" + id, {}, admin).status, 404);

  auto ann = shop->register_and_login("ann@example.com");
  auto users = shop->call("GET", "/api/users?limit=1", {}, admin);
  ASSERT_EQ(users.status, 200);
  EXPECT_EQ(users.obj().at("users").as_array().size(), 1U);
  EXPECT_EQ(users.obj().at("pagination").as_object().at("total").as_int64(), 2);
  auto promoted = shop->call("PUT", "/api/users/" + ann.id + "/role", R"({"role":"admin"})", admin);
  EXPECT_EQ(promoted.status, 200);
  EXPECT_EQ(promoted.obj().at("role").as_string(), "admin");
  EXPECT_EQ(shop->call("PUT", "/api/users/nope/role", R"({"role":"admin"})", admin).status, 404);
}

TEST_P(ShopTest, CatalogQueries) {
  const auto admin = shop->admin_token();
  shop->create_product("Alpha Desk", 120, 3, "Office");
  shop->create_product("Beta Chair", 80.5, 2, "Office");
  shop->create_product("Gamma Mug", 9.99, 50, "Kitchen");
  auto list = shop->call("GET", "/api/products?category=Office&sort=price");
  ASSERT_EQ(list.status, 200);
  const auto& items = list.obj().at("products").as_array();
  ASSERT_EQ(items.size(), 2U);
  EXPECT_EQ(items[0].as_object().at("name").as_string(), "Beta Chair");
  EXPECT_EQ(list.obj().at("pagination").as_object().at("total").as_int64(), 2);

  auto search = shop->call("GET", "/api/products?q=MUG");
  ASSERT_EQ(search.obj().at("products").as_array().size(), 1U);
  auto range = shop->call("GET", "/api/products?minPrice=50&maxPrice=100");
  ASSERT_EQ(range.obj().at("products").as_array().size(), 1U);
  EXPECT_EQ(range.obj().at("products").as_array()[0].as_object().at("name").as_string(),
            "Beta Chair");
  auto paged = shop->call("GET", "/api/products?limit=1&page=2&sort=name");
  EXPECT_EQ(paged.obj().at("products").as_array()[0].as_object().at("name").as_string(),
            "Beta Chair");
  EXPECT_EQ(paged.obj().at("pagination").as_object().at("pages").as_int64(), 3);
  auto clamped = shop->call("GET", "/api/products?limit=5000");
  EXPECT_EQ(clamped.obj().at("pagination").as_object().at("limit").as_int64(), 100);
  auto cats = shop->call("GET", "/api/products/categories");
  ASSERT_EQ(cats.status, 200);
  EXPECT_EQ(cats.raw,
            R"({"categories":[{"name":"Kitchen","count":1},{"name":"Office","count":2}]})");

  EXPECT_EQ(shop->call("GET", "/api/products?sort=random").status, 400);
  EXPECT_EQ(shop->call("GET", "/api/products?page=0").status, 400);
  EXPECT_EQ(shop->call("GET", "/api/products?minPrice=cheap").status, 400);
  EXPECT_EQ(shop->call("GET", "/api/products?q=%25").obj().at("products").as_array().size(), 0U);
}

TEST_P(ShopTest, BadIdsAre404NotCrashes) {
  auto ann = shop->register_and_login("ann@example.com");
  for (const std::string id :
       {"nope", "123", "%00", "' OR 1=1 --", "0000000000000000000000000000000000"}) {
    std::string enc;
    for (unsigned char c : id) {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      enc += std::isalnum(c) ? std::string(1, static_cast<char>(c)) : std::string(buf);
    }
    EXPECT_EQ(shop->call("GET", "/api/products/" + enc).status, 404) << id;
    EXPECT_EQ(shop->call("GET", "/api/orders/" + enc, {}, ann.token).status, 404) << id;
    EXPECT_EQ(shop->call("DELETE", "/api/orders/" + enc, {}, ann.token).status, 404) << id;
    auto add =
        shop->call("POST", "/api/cart/" + ann.id + "/items",
                   json::serialize(json::object{{"productId", id}, {"quantity", 1}}), ann.token);
    EXPECT_EQ(add.status, 404) << id;
    EXPECT_EQ(add.headers.get("Content-Type"), "application/problem+json");
  }
  EXPECT_EQ(shop->call("DELETE", "/api/cart/" + ann.id + "/items/nope", {}, ann.token).status, 404);
}

TEST_P(ShopTest, BadInputIsA4xxProblemAndChangesNothing) {
  auto ann = shop->register_and_login("ann@example.com");
  const auto admin = shop->admin_token();
  const auto id = shop->create_product("Stable", 5, 5);
  struct Case {
    std::string method, path, body;
    bool as_admin;
    int status;
  };
  const std::string cart = "/api/cart/" + ann.id + "/items";
  const std::string long_name(201, 'n');
  const std::vector<Case> cases = {
      {"POST", "/api/users/register", "{not json", false, 400},
      {"POST", "/api/users/register", "[]", false, 400},
      {"POST", "/api/users/register", R"({"email":"x@y.io"})", false, 400},
      {"POST", "/api/users/register", R"({"email":"x@y.io","password":"short"})", false, 400},
      {"POST", "/api/users/register", R"({"email":"no-at-sign","password":"long-enough"})", false,
       400},
      {"POST", "/api/users/register", R"({"email":5,"password":"long-enough"})", false, 400},
      {"POST", "/api/users/register", R"({"email":"x@y.io","password":"long-enough","admin":true})",
       false, 400},
      {"POST", "/api/users/register", R"({"email":"ANN@example.com","password":"long-enough"})",
       false, 409},
      {"POST", "/api/users/login", R"({"email":"ann@example.com"})", false, 400},
      {"POST", "/api/users/login", R"({"email":"ann@example.com","password":"wrong-password"})",
       false, 401},
      {"POST", "/api/users/login", R"({"email":"ghost@example.com","password":"wrong-password"})",
       false, 401},
      {"POST", "/api/products", R"({"name":"X","price":-1,"category":"C"})", true, 400},
      {"POST", "/api/products", R"({"name":"X","price":1.234,"category":"C"})", true, 400},
      {"POST", "/api/products", R"({"name":"X","price":"1","category":"C"})", true, 400},
      {"POST", "/api/products", R"({"name":")" + long_name + R"(","price":1,"category":"C"})", true,
       400},
      {"POST", "/api/products", R"({"name":"X","price":1,"category":"C","stock":1.5})", true, 400},
      {"POST", "/api/products",
       R"J({"name":"X","price":1,"category":"C","imageUrl":"javascript:alert(1)"})J", true, 400},
      {"POST", "/api/products", R"({"name":"X","price":1})", true, 400},
      {"PATCH", "/api/products/" + id, "{}", true, 400},
      {"PATCH", "/api/products/" + id, R"({"stock":-3})", true, 400},
      {"PUT", "/api/products/" + id, R"({"name":"only name"})", true, 400},
      {"POST", cart, R"({"productId":")" + id + R"(","quantity":0})", false, 400},
      {"POST", cart, R"({"productId":")" + id + R"(","quantity":1001})", false, 400},
      {"POST", cart, R"({"productId":")" + id + R"(","quantity":"2"})", false, 400},
      {"POST", cart, R"({"productId":")" + id + R"(","quantity":6})", false, 409},
      {"POST", cart, R"({"quantity":1})", false, 400},
      {"POST", cart, "null", false, 400},
      {"PUT", cart + "/" + id, R"({"quantity":-1})", false, 400},
      {"POST", "/api/orders", R"({"userId":")" + ann.id + R"("})", false, 422},
      {"POST", "/api/orders", R"({"userId":")" + ann.id + R"(","shippingAddress":{"street":"x"}})",
       false, 422},
      {"POST", "/api/orders",
       R"({"userId":")" + ann.id + R"(","shippingAddress":)" + Shop::address_json() + "}", false,
       422},
      {"POST", "/api/orders", R"({"shippingAddress":{}})", false, 400},
      {"PUT", "/api/users/profile", R"({"password":"new-password-1"})", false, 400},
      {"PUT", "/api/users/profile", R"({"name":5})", false, 400},
  };
  for (const auto& c : cases) {
    auto r = shop->call(c.method, c.path, c.body, c.as_admin ? admin : ann.token);
    EXPECT_EQ(r.status, c.status) << c.method << " " << c.path << " " << c.body << " -> " << r.raw;
    EXPECT_EQ(r.headers.get("Content-Type"), "application/problem+json") << c.body;
    EXPECT_FALSE(r.error().empty()) << c.body;
    if (c.status == 400 && c.body.front() == '{' && c.body != "{not json") {
      if (!(c.path == "/api/users/login")) {
        EXPECT_TRUE(r.body.as_object().contains("errors")) << c.body << " -> " << r.raw;
      }
    }
  }
  // Nothing changed: the product, the cart, the orders.
  auto p = shop->call("GET", "/api/products/" + id);
  EXPECT_EQ(p.obj().at("stock").as_int64(), 5);
  EXPECT_EQ(p.obj().at("name").as_string(), "Stable");
  EXPECT_TRUE(
      shop->call("GET", "/api/cart/" + ann.id, {}, ann.token).obj().at("items").as_array().empty());
  EXPECT_TRUE(shop->call("GET", "/api/orders", {}, ann.token).arr().empty());
  EXPECT_EQ(
      shop->call("GET", "/api/products").obj().at("pagination").as_object().at("total").as_int64(),
      1);
  // An oversize body is refused before any handler runs.
  auto huge = shop->call("POST", "/api/users/register", std::string(2 * 1024 * 1024, ' '));
  EXPECT_EQ(huge.status, 413);
}

// Passwords of 10 to 128 characters, not on the list of common ones; a
// body with a key twice is refused whole (Boost.JSON alone keeps the last).
TEST_P(ShopTest, PasswordRulesAndDuplicateKeysAreCheckedAtTheEdgeOfTheService) {
  const auto registers = [&](const std::string& body) {
    return shop->call("POST", "/api/users/register", body);
  };
  const auto can_sign_in = [&](const std::string& email, const std::string& password) {
    return shop->call("POST", "/api/users/login",
                      json::serialize(json::object{{"email", email}, {"password", password}}))
               .status == 200;
  };
  auto nine = registers(R"({"email":"nine@example.com","password":"abcdefghi"})");
  EXPECT_EQ(nine.status, 400) << nine.raw;
  EXPECT_EQ(nine.headers.get("Content-Type"), "application/problem+json");
  EXPECT_EQ(nine.error(), "Validation failed: password Must be 10 to 128 characters");
  auto listed = registers(R"({"email":"listed@example.com","password":"QwertyUIOP"})");
  EXPECT_EQ(listed.status, 400) << listed.raw;
  EXPECT_EQ(listed.error(),
            "Validation failed: password Is one of the most common passwords (found in data "
            "breaches); choose another");
  ASSERT_TRUE(listed.obj().contains("errors")) << listed.raw;
  EXPECT_EQ(listed.obj().at("errors").as_array().at(0).as_object().at("field"), "password");
  EXPECT_FALSE(can_sign_in("nine@example.com", "abcdefghi"));
  EXPECT_FALSE(can_sign_in("listed@example.com", "QwertyUIOP"));

  auto good = registers(R"({"email":"ten@example.com","password":"ten-chars!"})");
  EXPECT_EQ(good.status, 201) << good.raw;
  EXPECT_TRUE(can_sign_in("ten@example.com", "ten-chars!"));

  auto ann = shop->register_and_login("ann@example.com");
  auto weak_change =
      shop->call("PUT", "/api/users/profile",
                 R"({"password":"1234567890","currentPassword":"password-123"})", ann.token);
  EXPECT_EQ(weak_change.status, 400) << weak_change.raw;
  EXPECT_TRUE(can_sign_in("ann@example.com", "password-123"));

  auto twice = registers(
      R"({"email":"dup@example.com","password":"dup-password-1","email":"dup2@example.com"})");
  EXPECT_EQ(twice.status, 400) << twice.raw;
  EXPECT_EQ(twice.headers.get("Content-Type"), "application/problem+json");
  EXPECT_EQ(twice.error(), "Duplicate key in JSON: email");
  EXPECT_FALSE(can_sign_in("dup@example.com", "dup-password-1"));
  EXPECT_FALSE(can_sign_in("dup2@example.com", "dup-password-1"));

  const auto id = shop->create_product("Once", 5, 5);
  auto add = shop->call("POST", "/api/cart/" + ann.id + "/items",
                        R"({"productId":")" + id + R"(","quantity":1,"quantity":4})", ann.token);
  EXPECT_EQ(add.status, 400) << add.raw;
  EXPECT_EQ(add.error(), "Duplicate key in JSON: quantity");
  std::string address = Shop::address_json();
  address.insert(1, R"("city":"Elsewhere",)");
  auto order =
      shop->call("POST", "/api/orders", R"({"shippingAddress":)" + address + "}", ann.token);
  EXPECT_EQ(order.status, 400) << order.raw;
  EXPECT_EQ(order.error(), "Duplicate key in JSON: shippingAddress.city");
  EXPECT_TRUE(
      shop->call("GET", "/api/cart/" + ann.id, {}, ann.token).obj().at("items").as_array().empty());
  EXPECT_TRUE(shop->call("GET", "/api/orders", {}, ann.token).arr().empty());
  EXPECT_EQ(shop->stock_of(id), 5);
}

TEST_P(ShopTest, ConcurrentBuyersNeverOversell) {
  const auto id = shop->create_product("Scarce", 15, 10);
  std::vector<Customer> buyers;
  for (int i = 0; i < 50; ++i) {
    buyers.push_back(shop->register_and_login("buyer" + std::to_string(i) + "@example.com"));
    ASSERT_EQ(shop->add_to_cart(buyers.back(), id, 1).status, 201);
  }
  std::atomic<bool> go{false};
  std::vector<std::future<Reply>> results;
  for (const auto& b : buyers) {
    results.push_back(std::async(std::launch::async, [&, b] {
      while (!go.load()) {
        std::this_thread::yield();
      }
      return shop->place_order(b);
    }));
  }
  go = true;
  int created = 0;
  int conflicts = 0;
  std::vector<std::size_t> winners;
  for (std::size_t i = 0; i < results.size(); ++i) {
    auto r = results[i].get();
    if (r.status == 201) {
      ++created;
      winners.push_back(i);
    } else if (r.status == 409) {
      ++conflicts;
      EXPECT_NE(r.error().find("Scarce"), std::string::npos) << r.raw;
    } else {
      ADD_FAILURE() << "unexpected " << r.status << " " << r.raw;
    }
  }
  EXPECT_EQ(created, 10);
  EXPECT_EQ(conflicts, 40);
  EXPECT_EQ(shop->stock_of(id), 0);
  for (auto i : winners) {
    auto cart = shop->call("GET", "/api/cart/" + buyers[i].id, {}, buyers[i].token);
    EXPECT_TRUE(cart.obj().at("items").as_array().empty()) << cart.raw;
  }
  auto all = shop->call("GET", "/api/orders?limit=100", {}, shop->admin_token());
  EXPECT_EQ(all.headers.get("X-Total-Count").value_or(""), "10");
  EXPECT_EQ(all.arr().size(), 10U);
}

TEST_P(ShopTest, SameIdempotencyKeyGivesOneOrderAndOneDecrement) {
  auto ann = shop->register_and_login("ann@example.com");
  const auto id = shop->create_product("Once", 7, 10);
  ASSERT_EQ(shop->add_to_cart(ann, id, 3).status, 201);
  auto first = shop->place_order(ann, {"Idempotency-Key: checkout-42"});
  ASSERT_EQ(first.status, 201) << first.raw;
  auto second = shop->place_order(ann, {"Idempotency-Key: checkout-42"});
  ASSERT_EQ(second.status, 201) << second.raw;
  EXPECT_EQ(second.obj().at("id"), first.obj().at("id"));
  EXPECT_EQ(second.headers.get("Idempotent-Replayed"), "true");
  EXPECT_EQ(shop->stock_of(id), 7);
  auto orders = shop->call("GET", "/api/orders", {}, ann.token);
  EXPECT_EQ(orders.arr().size(), 1U);
  // Another key with an empty cart is a new attempt: 422.
  EXPECT_EQ(shop->place_order(ann, {"Idempotency-Key: checkout-43"}).status, 422);
}

TEST_P(ShopTest, CancelReturnsStockExactlyOnce) {
  auto ann = shop->register_and_login("ann@example.com");
  const auto id = shop->create_product("Returnable", 12, 6);
  ASSERT_EQ(shop->add_to_cart(ann, id, 4).status, 201);
  auto order = shop->place_order(ann);
  ASSERT_EQ(order.status, 201);
  EXPECT_EQ(shop->stock_of(id), 2);
  const std::string path = "/api/orders/" + std::string(order.obj().at("id").as_string());
  auto cancelled = shop->call("DELETE", path, {}, ann.token);
  ASSERT_EQ(cancelled.status, 200) << cancelled.raw;
  EXPECT_EQ(cancelled.obj().at("status").as_string(), "cancelled");
  EXPECT_EQ(shop->stock_of(id), 6);
  auto again = shop->call("DELETE", path, {}, ann.token);
  EXPECT_EQ(again.status, 409);
  auto via_status =
      shop->call("PUT", path + "/status", R"({"status":"cancelled"})", shop->admin_token());
  EXPECT_EQ(via_status.status, 409);
  EXPECT_EQ(shop->stock_of(id), 6);
  // The record is kept.
  EXPECT_EQ(shop->call("GET", path, {}, ann.token).obj().at("status").as_string(), "cancelled");
}

TEST_P(ShopTest, OrderStatusFollowsItsLifeCycle) {
  auto ann = shop->register_and_login("ann@example.com");
  const auto admin = shop->admin_token();
  const auto id = shop->create_product("Shippable", 30, 3);
  ASSERT_EQ(shop->add_to_cart(ann, id, 1).status, 201);
  const std::string path =
      "/api/orders/" + std::string(shop->place_order(ann).obj().at("id").as_string());
  auto move = [&](const std::string& s) {
    return shop->call("PUT", path + "/status", R"({"status":")" + s + "\"}", admin).status;
  };
  EXPECT_EQ(move("shipped"), 409);
  EXPECT_EQ(move("processing"), 200);
  EXPECT_EQ(move("shipped"), 200);
  EXPECT_EQ(shop->call("DELETE", path, {}, ann.token).status, 409);
  EXPECT_EQ(move("cancelled"), 409);
  EXPECT_EQ(move("delivered"), 200);
  EXPECT_EQ(move("pending"), 409);
  EXPECT_EQ(move("lost"), 400);
  EXPECT_EQ(shop->stock_of(id), 2);
}

TEST_P(ShopTest, RefreshTokensRotateAndReuseRevokesTheLogin) {
  auto ann = shop->register_and_login("ann@example.com");
  auto r1 =
      shop->call("POST", "/api/users/refresh", R"({"refreshToken":")" + ann.refresh_token + "\"}");
  ASSERT_EQ(r1.status, 200) << r1.raw;
  const std::string second(r1.obj().at("refreshToken").as_string());
  EXPECT_NE(second, ann.refresh_token);
  EXPECT_EQ(r1.obj().at("tokenType").as_string(), "Bearer");
  auto profile =
      shop->call("GET", "/api/users/profile", {}, std::string(r1.obj().at("token").as_string()));
  EXPECT_EQ(profile.status, 200);
  EXPECT_EQ(profile.obj().at("email").as_string(), "ann@example.com");

  // Reusing the rotated token revokes the family: the newer one stops working too.
  auto reuse =
      shop->call("POST", "/api/users/refresh", R"({"refreshToken":")" + ann.refresh_token + "\"}");
  EXPECT_EQ(reuse.status, 401);
  auto after = shop->call("POST", "/api/users/refresh", R"({"refreshToken":")" + second + "\"}");
  EXPECT_EQ(after.status, 401);
}

TEST_P(ShopTest, LoginSetsAndLogoutClearsTheSessionCookie) {
  shop->register_and_login("ann@example.com");
  auto login = shop->call("POST", "/api/users/login",
                          R"({"email":"ann@example.com","password":"password-123"})");
  const auto cookie = std::string(login.headers.get("Set-Cookie").value_or(""));
  EXPECT_NE(cookie.find("emporium_session="), std::string::npos);
  EXPECT_NE(cookie.find("HttpOnly"), std::string::npos);
  EXPECT_NE(cookie.find("SameSite=Strict"), std::string::npos);
  const std::string refresh(login.obj().at("refreshToken").as_string());
  auto out = shop->call("POST", "/api/users/logout", R"({"refreshToken":")" + refresh + "\"}");
  EXPECT_EQ(out.status, 200);
  EXPECT_NE(std::string(out.headers.get("Set-Cookie").value_or("")).find("Max-Age=0"),
            std::string::npos);
  EXPECT_EQ(
      shop->call("POST", "/api/users/refresh", R"({"refreshToken":")" + refresh + "\"}").status,
      401);
}

TEST_P(ShopTest, ProfileUpdatesNeedTheCurrentPasswordToChangeIt) {
  auto ann = shop->register_and_login("ann@example.com");
  auto renamed = shop->call("PUT", "/api/users/profile", R"({"name":"Ann B"})", ann.token);
  ASSERT_EQ(renamed.status, 200);
  EXPECT_EQ(renamed.obj().at("name").as_string(), "Ann B");
  auto wrong =
      shop->call("PUT", "/api/users/profile",
                 R"({"password":"new-password-1","currentPassword":"nope-nope"})", ann.token);
  EXPECT_EQ(wrong.status, 403);
  auto changed =
      shop->call("PUT", "/api/users/profile",
                 R"({"password":"new-password-1","currentPassword":"password-123"})", ann.token);
  EXPECT_EQ(changed.status, 200);
  EXPECT_EQ(shop->call("POST", "/api/users/login",
                       R"({"email":"ann@example.com","password":"new-password-1"})")
                .status,
            200);
  EXPECT_EQ(shop->call("POST", "/api/users/login",
                       R"({"email":"ann@example.com","password":"password-123"})")
                .status,
            401);
}

TEST_P(ShopTest, CartEditing) {
  auto ann = shop->register_and_login("ann@example.com");
  const auto a = shop->create_product("Item A", 2.5, 10);
  const auto b = shop->create_product("Item B", 1, 10);
  EXPECT_EQ(shop->add_to_cart(ann, a, 2).status, 201);
  EXPECT_EQ(shop->add_to_cart(ann, a, 3).status, 200);  // adds up
  EXPECT_EQ(shop->add_to_cart(ann, b, 1).status, 200);
  const std::string base = "/api/cart/" + ann.id;
  auto cart = shop->call("GET", base, {}, ann.token);
  EXPECT_NE(cart.raw.find("\"total\":13.5"), std::string::npos) << cart.raw;
  auto set = shop->call("PUT", base + "/items/" + a, R"({"quantity":1})", ann.token);
  EXPECT_EQ(set.status, 200);
  EXPECT_NE(set.raw.find("\"total\":3.5"), std::string::npos) << set.raw;
  EXPECT_EQ(shop->call("PUT", base + "/items/" + a, R"({"quantity":11})", ann.token).status, 409);
  EXPECT_EQ(shop->call("PUT", base + "/items/" + a, R"({"quantity":0})", ann.token).status, 200);
  EXPECT_EQ(shop->call("DELETE", base + "/items/" + a, {}, ann.token).status, 404);
  EXPECT_EQ(shop->call("DELETE", base + "/items/" + b, {}, ann.token).status, 200);
  auto cleared = shop->call("DELETE", base, {}, ann.token);
  EXPECT_EQ(cleared.status, 200);
  EXPECT_FALSE(cleared.obj().at("message").as_string().empty());
  EXPECT_EQ(shop->call("DELETE", base, {}, ann.token).status, 200);  // already empty
  EXPECT_TRUE(shop->call("GET", base, {}, ann.token).obj().at("items").as_array().empty());
}

TEST_P(ShopTest, InternalEndpointsAreNotReachableFromOutside) {
  auto ann = shop->register_and_login("ann@example.com");
  const auto id = shop->create_product("Guarded", 1, 5);
  const std::string body =
      R"({"orderId":"x","items":[{"productId":")" + id + R"(","quantity":5}]})";
  auto r = shop->call("POST", "/internal/stock/reservations", body, shop->admin_token());
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(shop->call("GET", "/internal/carts/" + ann.id, {}, ann.token).status, 404);
  EXPECT_EQ(shop->stock_of(id), 5);
}

TEST(SplitShape, InternalEndpointsRequireAServiceCredential) {
  SplitShop shop;
  const auto id = shop.create_product("Guarded", 1, 5);
  const std::string body =
      R"({"orderId":"x","items":[{"productId":")" + id + R"(","quantity":5}]})";
  const auto port = shop.service_port("product");
  auto no_token = request("POST", port, "/internal/stock/reservations", body,
                          {"Content-Type: application/json"});
  ASSERT_TRUE(no_token);
  EXPECT_EQ(no_token->status, 401);
  auto as_admin =
      request("POST", port, "/internal/stock/reservations", body,
              {"Content-Type: application/json", "Authorization: Bearer " + shop.admin_token()});
  ASSERT_TRUE(as_admin);
  EXPECT_EQ(as_admin->status, 401);
  EXPECT_EQ(shop.stock_of(id), 5);
}

TEST(SplitShape, GatewayAnswers503WhenAServiceIsDownAndRecovers) {
  SplitShop shop;
  auto ann = shop.register_and_login("ann@example.com");
  shop.kill_cart();
  auto down = shop.call("GET", "/api/cart/" + ann.id, {}, ann.token);
  EXPECT_EQ(down.status, 503);
  EXPECT_EQ(down.headers.get("Content-Type"), "application/problem+json");
  EXPECT_NE(down.error().find("cart"), std::string::npos);
  // Edge verification still answers without the service.
  EXPECT_EQ(shop.call("GET", "/api/cart/" + ann.id).status, 401);
  shop.start_cart();
  bool recovered = false;
  for (int i = 0; i < 100 && !recovered; ++i) {
    recovered = shop.call("GET", "/api/cart/" + ann.id, {}, ann.token).status == 200;
    if (!recovered) {
      std::this_thread::sleep_for(100ms);
    }
  }
  EXPECT_TRUE(recovered);
}

// The order service reaches the cart service through this proxy, which stops
// the cart service right after checkout has read the cart: clearing it then
// fails, and must happen later, once the cart service is back.
TEST(SplitShape, CartServiceStoppedDuringCheckoutOrderStandsAndCartEmptiesLater) {
  std::atomic<SplitShop*> shop_ptr{nullptr};
  std::atomic<bool> armed{false};
  std::unique_ptr<http::Client> to_cart;
  std::mutex mutex;
  std::uint16_t cart_port = 0;
  http::ServerOptions opts;
  opts.io_threads = 1;
  InProcessServer proxy(opts, [&](http::Router& r) {
    r.add_prefix("/internal", [&](http::Request& req) {
      http::CallOptions call;
      call.headers = req.headers;
      call.headers.remove("Host");
      call.headers.remove("Content-Length");
      http::Client* client = nullptr;
      {
        std::lock_guard lock(mutex);
        if (!to_cart) {
          http::ClientOptions co;
          co.base_url = "http://127.0.0.1:" + std::to_string(cart_port);
          co.max_attempts = 1;
          co.breaker_threshold = 1000;
          to_cart = std::make_unique<http::Client>(co);
        }
        client = to_cart.get();
      }
      auto res = client->call(req.method, req.target, req.body, call);
      if (req.method == "GET" && armed.exchange(false)) {
        shop_ptr.load()->kill_cart();
      }
      if (!res.has_value()) {
        return http::problem(503, "cart service unreachable");
      }
      return std::move(*res);
    });
  });
  SplitShop shop([&](std::uint16_t port) {
    cart_port = port;
    return "http://127.0.0.1:" + std::to_string(proxy.port());
  });
  shop_ptr = &shop;
  auto ann = shop.register_and_login("ann@example.com");
  const auto id = shop.create_product("Durable", 9, 5);
  ASSERT_EQ(shop.add_to_cart(ann, id, 2).status, 201);

  armed = true;
  auto order = shop.place_order(ann);
  ASSERT_EQ(order.status, 201) << order.raw;
  const std::string order_id(order.obj().at("id").as_string());
  EXPECT_EQ(shop.stock_of(id), 3);
  EXPECT_EQ(shop.call("GET", "/api/orders/" + order_id, {}, ann.token).status, 200);

  shop.start_cart();
  // The cart still holds the items until the order service's retry runs.
  bool emptied = false;
  for (int i = 0; i < 300 && !emptied; ++i) {
    auto cart = shop.call("GET", "/api/cart/" + ann.id, {}, ann.token);
    emptied = cart.status == 200 && cart.obj().at("items").as_array().empty();
    if (!emptied) {
      std::this_thread::sleep_for(100ms);
    }
  }
  EXPECT_TRUE(emptied) << "cart was never emptied after the cart service came back";
  EXPECT_EQ(shop.stock_of(id), 3);
  EXPECT_EQ(shop.call("GET", "/api/orders", {}, ann.token).arr().size(), 1U);
}

}  // namespace
}  // namespace emporium::test

namespace emporium::test {
namespace {

// Every change that others care about leaves an event in its service's
// outbox, committed with the change, and the relay publishes it.
TEST(Events, ChangesAreRelayedFromTheOutbox) {
  AllInOneShop shop;
  auto ann = shop.register_and_login("ann@example.com");
  const auto id = shop.create_product("Eventful", 5, 7);
  ASSERT_EQ(shop.add_to_cart(ann, id, 3).status, 201);
  auto order = shop.place_order(ann);
  ASSERT_EQ(order.status, 201);
  const std::string path = "/api/orders/" + std::string(order.obj().at("id").as_string());
  ASSERT_EQ(
      shop.call("PUT", path + "/status", R"({"status":"processing"})", shop.admin_token()).status,
      200);
  ASSERT_EQ(shop.call("DELETE", path, {}, ann.token).status, 200);

  const std::vector<std::string> expected = {
      R"(emporium_outbox_published_total{outbox="user",type="user.registered"} 1)",
      R"(emporium_outbox_published_total{outbox="order",type="order.placed"} 1)",
      R"(emporium_outbox_published_total{outbox="order",type="order.status_changed"} 1)",
      R"(emporium_outbox_published_total{outbox="order",type="order.cancelled"} 1)",
      R"(emporium_outbox_published_total{outbox="product",type="product.stock_low"} 1)",
      R"(emporium_outbox_backlog{outbox="order"} 0)",
  };
  std::string text;
  bool all = false;
  for (int i = 0; i < 100 && !all; ++i) {
    const auto res = request("GET", admin_port(shop.port()), "/metrics");
    text = res ? res->body : std::string();
    all = std::all_of(expected.begin(), expected.end(), [&](const std::string& line) {
      return text.find(line) != std::string::npos;
    });
    if (!all) {
      std::this_thread::sleep_for(50ms);
    }
  }
  for (const auto& line : expected) {
    EXPECT_NE(text.find(line), std::string::npos) << line;
  }
}

}  // namespace
}  // namespace emporium::test

namespace emporium::test {
namespace {

// The cookies a browser would hold for the shop's origin: name -> value, with
// the path each was set for; Max-Age=0 deletes one.
class CookieJar {
 public:
  void take(const Reply& r) {
    for (const auto& [name, value] : r.headers.fields()) {
      if (!http::iequals(name, "Set-Cookie")) {
        continue;
      }
      const auto eq = value.find('=');
      const auto semi = value.find(';');
      const auto cookie = value.substr(0, eq);
      const auto path_at = value.find("Path=");
      const auto path = value.substr(path_at + 5, value.find(';', path_at) - path_at - 5);
      if (value.find("Max-Age=0") != std::string::npos) {
        cookies_.erase(cookie);
      } else {
        cookies_[cookie] = {value.substr(eq + 1, semi - eq - 1), path};
      }
    }
  }
  bool has(const std::string& name) const { return cookies_.count(name) != 0; }
  std::string value(const std::string& name) const { return cookies_.at(name).first; }
  // The Cookie header for a request to `target`.
  std::vector<std::string> header_for(const std::string& target) const {
    std::string out;
    for (const auto& [name, v] : cookies_) {
      if (target.rfind(v.second, 0) == 0) {
        out += (out.empty() ? "" : "; ") + name + "=" + v.first;
      }
    }
    return out.empty() ? std::vector<std::string>{} : std::vector<std::string>{"Cookie: " + out};
  }

 private:
  std::map<std::string, std::pair<std::string, std::string>> cookies_;
};

// What the prototype's React client does: no Authorization header ever, the
// session cookie alone; it reads `_id` and expects GET /api/orders to be an
// array; its product form sends "" for the fields left blank.
TEST_P(ShopTest, ThePrototypesBrowserClientNeedsOnlyTheCookie) {
  CookieJar jar;
  const auto call = [&](const std::string& method, const std::string& target,
                        const std::string& body = {}) {
    auto r = shop->call(method, target, body, {}, jar.header_for(target));
    jar.take(r);
    return r;
  };
  ASSERT_EQ(call("POST", "/api/users/register",
                 R"({"name":"Cleo","email":"cleo@example.com","password":"password-123"})")
                .status,
            201);
  auto login =
      call("POST", "/api/users/login", R"({"email":"cleo@example.com","password":"password-123"})");
  ASSERT_EQ(login.status, 200) << login.raw;
  ASSERT_TRUE(jar.has("emporium_session") && jar.has("emporium_refresh"));
  const std::string me(login.obj().at("user").as_object().at("id").as_string());

  const auto id = shop->create_product("Kettle", 20, 5);
  auto products = call("GET", "/api/products");
  for (const auto& p : products.obj().at("products").as_array()) {
    EXPECT_EQ(p.at("_id"), p.at("id"));
  }
  ASSERT_EQ(
      call("POST", "/api/cart/" + me + "/items", R"({"productId":")" + id + R"(","quantity":2})")
          .status,
      201);
  auto order = call("POST", "/api/orders",
                    R"({"userId":")" + me + R"(","shippingAddress":)" + Shop::address_json() + "}");
  ASSERT_EQ(order.status, 201) << order.raw;
  EXPECT_EQ(order.obj().at("_id"), order.obj().at("id"));

  auto orders = call("GET", "/api/orders");
  ASSERT_EQ(orders.status, 200) << orders.raw;
  ASSERT_EQ(orders.arr().size(), 1U);
  EXPECT_EQ(orders.arr()[0].at("_id"), order.obj().at("id"));
  EXPECT_EQ(orders.headers.get("X-Total-Count").value_or(""), "1");
  EXPECT_EQ(orders.headers.get("Link").value_or(""),
            "</api/orders?page=1&limit=20>; rel=\"first\", </api/orders?page=1&limit=20>; "
            "rel=\"last\"");
  EXPECT_EQ(shop->stock_of(id), 3);

  // The browser refreshes from its cookie, then logs out: both cookies go,
  // and the refresh token it held is dead. Cookie-authenticated writes send
  // JSON (docs/sessions.md): an empty POST is refused and changes nothing.
  const auto old_refresh = jar.value("emporium_refresh");
  EXPECT_EQ(call("POST", "/api/users/refresh").status, 415);
  EXPECT_EQ(jar.value("emporium_refresh"), old_refresh);
  auto refreshed = call("POST", "/api/users/refresh", "{}");
  ASSERT_EQ(refreshed.status, 200) << refreshed.raw;
  EXPECT_NE(jar.value("emporium_refresh"), old_refresh);
  const auto current = jar.value("emporium_refresh");
  EXPECT_EQ(call("POST", "/api/users/logout").status, 415);
  EXPECT_EQ(call("POST", "/api/users/logout", "{}").status, 200);
  EXPECT_FALSE(jar.has("emporium_session") || jar.has("emporium_refresh"));
  EXPECT_EQ(call("POST", "/api/users/refresh").status, 400);
  EXPECT_EQ(call("POST", "/api/users/refresh", R"({"refreshToken":")" + current + "\"}").status,
            401);
  EXPECT_EQ(call("GET", "/api/orders").status, 401);
}

TEST_P(ShopTest, AnAdminCreatesAProductWithTheCookieAndBlankOptionalFields) {
  CookieJar jar;
  auto login = shop->call(
      "POST", "/api/users/login",
      json::serialize(json::object{{"email", kAdminEmail}, {"password", kAdminPassword}}));
  ASSERT_EQ(login.status, 200);
  jar.take(login);
  auto created = shop->call(
      "POST", "/api/products",
      R"({"name":"Lamp","price":12.5,"category":"Home","stock":4,"description":"","imageUrl":""})",
      {}, jar.header_for("/api/products"));
  ASSERT_EQ(created.status, 201) << created.raw;
  EXPECT_TRUE(created.obj().at("imageUrl").is_null());
  EXPECT_EQ(created.obj().at("description"), "");
  const std::string id(created.obj().at("_id").as_string());
  EXPECT_EQ(shop->stock_of(id), 4);
}

TEST_P(ShopTest, OrdersFilterByStatusAndPageWithLinks) {
  auto ann = shop->register_and_login("ann@example.com");
  const auto id = shop->create_product("Cup", 3, 10);
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(shop->add_to_cart(ann, id, 1).status / 100, 2);
    auto placed = shop->place_order(ann);
    ASSERT_EQ(placed.status, 201) << placed.raw;
    ids.emplace_back(placed.obj().at("id").as_string());
  }
  ASSERT_EQ(shop->call("PUT", "/api/orders/" + ids[0] + "/status", R"({"status":"processing"})",
                       shop->admin_token())
                .status,
            200);
  auto processing = shop->call("GET", "/api/orders?status=processing", {}, shop->admin_token());
  ASSERT_EQ(processing.arr().size(), 1U);
  EXPECT_EQ(processing.arr()[0].at("id").as_string(), ids[0]);
  auto page1 = shop->call("GET", "/api/orders?limit=1&page=1&status=pending", {}, ann.token);
  auto page2 = shop->call("GET", "/api/orders?limit=1&page=2&status=pending", {}, ann.token);
  ASSERT_EQ(page2.status, 200);
  ASSERT_EQ(page1.arr().size(), 1U);
  ASSERT_EQ(page2.arr().size(), 1U);
  std::set<std::string> pending{std::string(page1.arr()[0].at("id").as_string()),
                                std::string(page2.arr()[0].at("id").as_string())};
  EXPECT_EQ(pending, (std::set<std::string>{ids[1], ids[2]}));
  EXPECT_EQ(page2.headers.get("X-Total-Count").value_or(""), "2");
  EXPECT_EQ(page2.headers.get("Link").value_or(""),
            "</api/orders?status=pending&page=1&limit=1>; rel=\"first\", "
            "</api/orders?status=pending&page=1&limit=1>; rel=\"prev\", "
            "</api/orders?status=pending&page=2&limit=1>; rel=\"last\"");
  auto bad = shop->call("GET", "/api/orders?status=lost", {}, ann.token);
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(bad.error(),
            "Invalid query: status Must be one of pending, processing, shipped, "
            "delivered, cancelled");
}

}  // namespace
}  // namespace emporium::test

namespace emporium::test {
namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// The storefront the binary embeds (web/dist when it was built) is served at
// the edge of both shapes: pages, hashed assets with their precompressed
// variant, and the API's paths left to the API.
void expect_storefront(const Shop& shop) {
  const std::string dist = EMPORIUM_WEB_DIST;
  const bool built = std::filesystem::exists(dist + "/index.html");
  auto page = shop.call("GET", "/products/p-1", {}, {}, {"Accept-Encoding: identity"});
  if (!built) {
    EXPECT_EQ(page.status, 404) << "no storefront build in " << dist;
    return;
  }
  ASSERT_EQ(page.status, 200);
  EXPECT_EQ(page.raw, read_file(dist + "/index.html"));
  EXPECT_EQ(page.headers.get("Cache-Control").value_or(""), "no-cache");
  EXPECT_NE(page.headers.get("Content-Security-Policy").value_or("").find("script-src 'self'"),
            std::string::npos);
  auto admin = shop.call("GET", "/admin/orders", {}, {}, {"Accept-Encoding: identity"});
  EXPECT_EQ(admin.raw, read_file(dist + "/admin/index.html"));
  for (const auto& entry : std::filesystem::directory_iterator(dist + "/assets")) {
    const auto name = entry.path().filename().string();
    if (entry.path().extension() != ".js" ||
        !std::filesystem::exists(entry.path().string() + ".br")) {
      continue;
    }
    auto asset = shop.call("GET", "/assets/" + name, {}, {}, {"Accept-Encoding: gzip, br"});
    EXPECT_EQ(asset.status, 200) << name;
    EXPECT_EQ(asset.headers.get("Content-Encoding").value_or(""), "br") << name;
    EXPECT_EQ(asset.raw, read_file(entry.path().string() + ".br")) << name;
    EXPECT_EQ(asset.headers.get("Cache-Control").value_or(""),
              "public, max-age=31536000, immutable");
  }
  auto api = shop.call("GET", "/api/nope");
  EXPECT_EQ(api.status, 404);
  EXPECT_EQ(api.headers.get("Content-Type").value_or(""), "application/problem+json");
}

TEST(Storefront, ServedByTheAllInOneListener) {
  AllInOneShop shop;
  expect_storefront(shop);
}

TEST(Storefront, ServedByTheGatewayOfTheSplitShape) {
  SplitShop shop;
  expect_storefront(shop);
  // The services themselves serve no pages.
  auto direct = request("GET", shop.service_port("product"), "/cart", {}, {});
  ASSERT_TRUE(direct);
  EXPECT_EQ(direct->status, 404);
}

}  // namespace
}  // namespace emporium::test
