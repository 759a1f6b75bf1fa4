#include "cart/handlers.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "cart/errors.hpp"
#include "fakes.hpp"
#include "http/json.hpp"

namespace emporium::cart::testing {
namespace {

namespace json = boost::json;
using http::Request;
using http::Response;

// The handlers behind the routes, composed with the guards and the body
// adapter exactly as service.cpp mounts them, over a fake store and catalog.
class CartHandlers : public ::testing::Test {
 protected:
  CartHandlers() {
    catalog.put("mug", "Mug", 1999, 10);
    catalog.put("lamp", "Lamp", 500, 3);
  }

  http::Handler view_route() {
    return cart_owner(tokens, [this](Request& q, const std::string& u) { return h.view(q, u); });
  }
  http::Handler add_route() {
    return cart_owner(tokens, http::with_body<AddItem>(
                                  read_add_item, [this](Request& q, const std::string& u,
                                                        AddItem in) { return h.add(q, u, in); }));
  }
  http::Handler set_route() {
    return cart_owner(
        tokens, http::with_body<SetQuantity>(
                    read_set_quantity, [this](Request& q, const std::string& u, SetQuantity in) {
                      return h.set(q, u, in);
                    }));
  }
  http::Handler remove_route() {
    return cart_owner(tokens, [this](Request& q, const std::string& u) { return h.remove(q, u); });
  }
  http::Handler clear_route() {
    return cart_owner(tokens, [this](Request& q, const std::string& u) { return h.clear(q, u); });
  }

  // A request by `caller` (a customer unless `role` says otherwise) for the
  // cart of `user`, about `product` when given.
  Request request(const std::string& user, std::string body = {}, const std::string& product = {},
                  const std::string& caller = "u1", std::string_view role = auth::kRoleCustomer) {
    Request req;
    req.params = {{"userId", user}};
    if (!product.empty()) {
      req.params.emplace_back("productId", product);
    }
    req.body = std::move(body);
    req.request_id = "req-1";
    req.headers.set("Authorization", "Bearer " + tokens.issue_access(caller, role, "sid-1"));
    return req;
  }

  Response call(const http::Handler& route, Request req) { return route(req); }

  FakeStore store;
  FakeCatalog catalog;
  FakeClock clock;
  Handlers h{store, catalog, [this] { return clock(); }};
  auth::Tokens tokens{auth::TokenSettings{.secret = "cart-unit-test-secret"}};
};

json::object body_of(const Response& res) {
  return json::parse(res.body).as_object();
}

std::string problem_body(int status, std::string_view title, std::string_view message) {
  return http::dump(json::object{{"type", "about:blank"},
                                 {"title", title},
                                 {"status", status},
                                 {"detail", message},
                                 {"error", message}});
}

TEST_F(CartHandlers, AddingToANewCartAnswers201WithTheCart) {
  auto res = call(add_route(), request("u1", R"({"productId":"mug","quantity":2})"));
  EXPECT_EQ(res.status, 201);
  EXPECT_EQ(res.headers.get("Content-Type").value_or(""), "application/json");
  EXPECT_EQ(res.body, R"({"userId":"u1","items":[{"productId":"mug","name":"Mug","price":19.99,)"
                      R"("quantity":2,"subtotal":39.98}],"total":39.98,)"
                      R"("updatedAt":"2026-01-01T00:00:01.000Z","message":"Item added to cart"})");
  EXPECT_EQ(store.quantity("u1", "mug"), 2);
  EXPECT_EQ(store.carts.at("u1").updated_at, "2026-01-01T00:00:01.000Z");
  EXPECT_EQ(store.carts.at("u1").lines.at(0).added_at, "2026-01-01T00:00:01.000Z");
  EXPECT_EQ(catalog.request_ids.front(), "req-1");
}

TEST_F(CartHandlers, AddingToAnExistingCartAnswers200AndSumsTheLine) {
  store.put("u1", "mug", 3);
  auto res = call(add_route(), request("u1", R"({"productId":"mug","quantity":4})"));
  EXPECT_EQ(res.status, 200);
  const auto body = body_of(res);
  EXPECT_EQ(body.at("message"), "Item added to cart");
  EXPECT_EQ(body.at("items").as_array().at(0).as_object().at("quantity"), 7);
  EXPECT_EQ(store.quantity("u1", "mug"), 7);
  EXPECT_EQ(store.carts.at("u1").updated_at, clock.last());

  res = call(add_route(), request("u1", R"({"productId":"lamp","quantity":1})"));
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(store.quantity("u1", "lamp"), 1);
}

TEST_F(CartHandlers, AddingPastTheLimitIs409AndChangesNothing) {
  catalog.put("pen", "Pen", 100, 5000);
  store.put("u1", "pen", 999);
  auto res = call(add_route(), request("u1", R"({"productId":"pen","quantity":2})"));
  EXPECT_EQ(res.status, 409);
  EXPECT_EQ(res.headers.get("Content-Type").value_or(""), "application/problem+json");
  EXPECT_EQ(res.body, problem_body(409, "Conflict", "At most 1000 of a product fit in the cart"));
  EXPECT_EQ(store.quantity("u1", "pen"), 999);
  EXPECT_EQ(store.carts.at("u1").updated_at, "2026-01-01T00:00:00.000Z");
  EXPECT_EQ(store.commits, 0);

  res = call(add_route(), request("u1", R"({"productId":"pen","quantity":1})"));
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(store.quantity("u1", "pen"), 1000);
}

TEST_F(CartHandlers, AddingPastTheStockIs409NamingTheProductAndCreatesNoCart) {
  auto res = call(add_route(), request("u1", R"({"productId":"lamp","quantity":4})"));
  EXPECT_EQ(res.status, 409);
  EXPECT_EQ(res.body, problem_body(409, "Conflict", "Insufficient stock for Lamp: 3 available"));
  EXPECT_TRUE(store.carts.empty());

  store.put("u1", "lamp", 2);
  res = call(add_route(), request("u1", R"({"productId":"lamp","quantity":2})"));
  EXPECT_EQ(res.status, 409);
  EXPECT_EQ(body_of(res).at("error"), "Insufficient stock for Lamp: 3 available");
  EXPECT_EQ(store.quantity("u1", "lamp"), 2);
}

TEST_F(CartHandlers, AddingAnUnknownProductIs404) {
  auto res = call(add_route(), request("u1", R"({"productId":"ghost","quantity":1})"));
  EXPECT_EQ(res.status, 404);
  EXPECT_EQ(res.body, problem_body(404, "Not Found", "Product not found"));
  EXPECT_TRUE(store.carts.empty());
}

TEST_F(CartHandlers, ABadAddBodyIs400ListingEveryFieldAndReachesNeitherCatalogNorStore) {
  auto res = call(add_route(), request("u1", R"({"quantity":0,"colour":"red"})"));
  EXPECT_EQ(res.status, 400);
  const auto body = body_of(res);
  EXPECT_EQ(body.at("error"), "Validation failed: colour Unknown field");
  std::vector<std::string> fields;
  for (const auto& e : body.at("errors").as_array()) {
    fields.emplace_back(e.as_object().at("field").as_string());
  }
  EXPECT_EQ(fields, (std::vector<std::string>{"colour", "productId", "quantity"}));
  EXPECT_EQ(body.at("errors").as_array().at(2).as_object().at("msg"), "Must be between 1 and 1000");

  res = call(add_route(), request("u1", R"({"productId":"mug","quantity":1001})"));
  EXPECT_EQ(res.status, 400);
  EXPECT_EQ(body_of(res).at("error"), "Validation failed: quantity Must be between 1 and 1000");

  res = call(add_route(), request("u1", "{not json"));
  EXPECT_EQ(res.status, 400);
  EXPECT_EQ(res.body, problem_body(400, "Bad Request", "Malformed JSON"));

  res = call(add_route(), request("u1", "[1]"));
  EXPECT_EQ(body_of(res).at("error"), "Body must be a JSON object");
  EXPECT_TRUE(catalog.lookups.empty());
  EXPECT_TRUE(store.carts.empty());
}

TEST_F(CartHandlers, SettingTheQuantityUpdatesTheLine) {
  store.put("u1", "mug", 1);
  auto res = call(set_route(), request("u1", R"({"quantity":5})", "mug"));
  EXPECT_EQ(res.status, 200);
  const auto body = body_of(res);
  EXPECT_EQ(body.at("message"), "Cart updated");
  EXPECT_EQ(http::dump(body.at("total")), "99.95");
  EXPECT_EQ(store.quantity("u1", "mug"), 5);
  EXPECT_EQ(store.carts.at("u1").updated_at, clock.last());
}

TEST_F(CartHandlers, SettingZeroRemovesTheLineWithoutAskingTheCatalog) {
  store.put("u1", "mug", 2);
  store.put("u1", "gone", 1);  // no longer in the catalog
  auto res = call(set_route(), request("u1", R"({"quantity":0})", "gone"));
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(body_of(res).at("message"), "Item removed from cart");
  EXPECT_EQ(store.quantity("u1", "gone"), std::nullopt);
  EXPECT_EQ(store.quantity("u1", "mug"), 2);
  ASSERT_EQ(catalog.lookups.size(), 1u);  // only the cart's rendering
  EXPECT_EQ(catalog.lookups[0], (std::vector<std::string>{"mug"}));
}

TEST_F(CartHandlers, SettingALineThatIsNotInTheCartIs404) {
  store.put("u1", "lamp", 1);
  auto res = call(set_route(), request("u1", R"({"quantity":2})", "mug"));
  EXPECT_EQ(res.status, 404);
  EXPECT_EQ(res.body, problem_body(404, "Not Found", "Item not in cart"));
  res = call(set_route(), request("u1", R"({"quantity":0})", "mug"));
  EXPECT_EQ(res.status, 404);
  EXPECT_EQ(body_of(res).at("error"), "Item not in cart");
  EXPECT_EQ(store.carts.at("u1").updated_at, "2026-01-01T00:00:00.000Z");
  EXPECT_EQ(store.commits, 0);
}

TEST_F(CartHandlers, SettingAnUnknownProductIs404AndPastTheStock409) {
  store.put("u1", "lamp", 1);
  store.put("u1", "ghost", 1);
  auto res = call(set_route(), request("u1", R"({"quantity":2})", "ghost"));
  EXPECT_EQ(res.status, 404);
  EXPECT_EQ(body_of(res).at("error"), "Product not found");

  res = call(set_route(), request("u1", R"({"quantity":4})", "lamp"));
  EXPECT_EQ(res.status, 409);
  EXPECT_EQ(body_of(res).at("error"), "Insufficient stock for Lamp: 3 available");
  EXPECT_EQ(store.quantity("u1", "lamp"), 1);

  res = call(set_route(), request("u1", R"({"quantity":-1})", "lamp"));
  EXPECT_EQ(res.status, 400);
  EXPECT_EQ(body_of(res).at("error"), "Validation failed: quantity Must be between 0 and 1000");
}

TEST_F(CartHandlers, RemovingDeletesTheLineOr404s) {
  store.put("u1", "mug", 2);
  store.put("u1", "lamp", 1, "2026-01-01T00:00:00.500Z");
  auto res = call(remove_route(), request("u1", {}, "mug"));
  EXPECT_EQ(res.status, 200);
  const auto body = body_of(res);
  EXPECT_EQ(body.at("message"), "Item removed from cart");
  EXPECT_EQ(body.at("items").as_array().size(), 1u);
  EXPECT_EQ(store.quantity("u1", "mug"), std::nullopt);
  EXPECT_EQ(store.carts.at("u1").updated_at, clock.last());

  res = call(remove_route(), request("u1", {}, "mug"));
  EXPECT_EQ(res.status, 404);
  EXPECT_EQ(res.body, problem_body(404, "Not Found", "Item not in cart"));
}

TEST_F(CartHandlers, ClearingEmptiesTheCart) {
  store.put("u1", "mug", 2);
  store.put("u1", "lamp", 1);
  auto res = call(clear_route(), request("u1"));
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(res.body, R"({"message":"Cart cleared"})");
  EXPECT_TRUE(store.carts.at("u1").lines.empty());
  EXPECT_EQ(store.carts.at("u1").updated_at, clock.last());

  res = call(clear_route(), request("u2", {}, {}, "u2"));  // no cart: still 200
  EXPECT_EQ(res.status, 200);
  EXPECT_FALSE(store.carts.contains("u2"));
}

TEST_F(CartHandlers, ViewingPricesEachLineAndTotalsThem) {
  store.put("u1", "lamp", 3, "2026-01-01T00:00:00.100Z");
  store.put("u1", "mug", 2, "2026-01-01T00:00:00.200Z");
  store.put("u1", "gone", 1, "2026-01-01T00:00:00.300Z");  // removed from the catalog
  auto res = call(view_route(), request("u1"));
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(res.body,
            R"({"userId":"u1","items":[)"
            R"({"productId":"lamp","name":"Lamp","price":5,"quantity":3,"subtotal":15},)"
            R"({"productId":"mug","name":"Mug","price":19.99,"quantity":2,)"
            R"("subtotal":39.98}],"total":54.98,"updatedAt":"2026-01-01T00:00:00.300Z"})");
  EXPECT_EQ(catalog.lookups.at(0), (std::vector<std::string>{"lamp", "mug", "gone"}));
}

TEST_F(CartHandlers, ViewingAUserWithoutACartShowsAnEmptyOne) {
  auto res = call(view_route(), request("u1"));
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(res.body, R"({"userId":"u1","items":[],"total":0,"updatedAt":null})");
}

TEST_F(CartHandlers, AnotherUsersCartIs403BeforeTheBodyIsRead) {
  store.put("u2", "mug", 1);
  const std::string forbidden = problem_body(403, "Forbidden", "Access denied to this cart");
  EXPECT_EQ(call(view_route(), request("u2")).body, forbidden);
  auto res = call(add_route(), request("u2", "{not json"));
  EXPECT_EQ(res.status, 403);
  EXPECT_EQ(res.body, forbidden);
  EXPECT_EQ(call(set_route(), request("u2", R"({"quantity":0})", "mug")).status, 403);
  EXPECT_EQ(call(remove_route(), request("u2", {}, "mug")).status, 403);
  EXPECT_EQ(call(clear_route(), request("u2")).status, 403);
  EXPECT_EQ(store.quantity("u2", "mug"), 1);
  EXPECT_TRUE(catalog.lookups.empty());
}

TEST_F(CartHandlers, AnAdminMayActOnAnyCart) {
  auto res = call(add_route(),
                  request("u2", R"({"productId":"mug","quantity":1})", {}, "a1", auth::kRoleAdmin));
  EXPECT_EQ(res.status, 201);
  EXPECT_EQ(body_of(res).at("userId"), "u2");
  EXPECT_EQ(store.quantity("u2", "mug"), 1);
  EXPECT_EQ(call(view_route(), request("u2", {}, {}, "a1", auth::kRoleAdmin)).status, 200);
}

TEST_F(CartHandlers, NoTokenIs401) {
  Request req;
  req.params = {{"userId", "u1"}};
  req.body = R"({"productId":"mug","quantity":1})";
  auto res = add_route()(req);
  EXPECT_EQ(res.status, 401);
  EXPECT_EQ(body_of(res).at("error"), "No authorization header");
  EXPECT_TRUE(store.carts.empty());
}

TEST_F(CartHandlers, TheInternalEndpointsListAndClearTheLines) {
  store.put("u1", "mug", 2, "2026-01-01T00:00:00.100Z");
  store.put("u1", "lamp", 1, "2026-01-01T00:00:00.200Z");
  Request req;
  req.params = {{"userId", "u1"}};
  auto res = h.internal_items(req);
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(res.body,
            R"({"items":[{"productId":"mug","quantity":2},{"productId":"lamp","quantity":1}]})");
  res = h.internal_clear(req);
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(res.body, R"({"message":"Cart cleared"})");
  EXPECT_TRUE(store.carts.at("u1").lines.empty());
  EXPECT_EQ(h.internal_items(req).body, R"({"items":[]})");
  EXPECT_TRUE(catalog.lookups.empty());
}

// After an order the cart loses exactly what the order bought, once: a line
// added, or raised, after the order was placed stays.
TEST_F(CartHandlers, ACheckoutTakesOutWhatTheOrderBoughtOnce) {
  store.put("u1", "mug", 3, "2026-01-01T00:00:00.100Z");  // 2 bought, 1 added since
  store.put("u1", "lamp", 1, "2026-01-01T00:00:00.200Z");
  store.put("u1", "sock", 4, "2026-01-01T00:00:00.300Z");  // added after the order
  Request req;
  req.params = {{"userId", "u1"}};
  const Checkout order{.order_id = "o-1",
                       .lines = {{.product_id = "mug", .quantity = 2},
                                 {.product_id = "lamp", .quantity = 1},
                                 {.product_id = "gone", .quantity = 1}}};
  auto res = h.internal_checkout(req, order);
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(res.body, R"({"message":"Order's items removed","applied":true})");
  EXPECT_EQ(store.quantity("u1", "mug"), 1);
  EXPECT_EQ(store.quantity("u1", "lamp"), std::nullopt);
  EXPECT_EQ(store.quantity("u1", "sock"), 4);
  EXPECT_EQ(store.checkouts.at("o-1"), "u1");

  // The same order again (a retry, or the task runner after the inline try)
  // takes nothing more.
  res = h.internal_checkout(req, order);
  EXPECT_EQ(res.body, R"({"message":"Already removed","applied":false})");
  EXPECT_EQ(store.quantity("u1", "mug"), 1);
  EXPECT_EQ(store.quantity("u1", "sock"), 4);
}

TEST(CartCheckoutInput, NeedsAnOrderIdAndItsLines) {
  const auto read = [](std::string_view body) {
    return read_checkout(boost::json::parse(body).as_object());
  };
  auto ok = read(R"({"orderId":"o-1","items":[{"productId":"mug","quantity":2}]})");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->order_id, "o-1");
  ASSERT_EQ(ok->lines.size(), 1U);
  EXPECT_EQ(ok->lines[0].quantity, 2);
  EXPECT_FALSE(read(R"({"orderId":"o-1","items":[]})").ok());
  EXPECT_FALSE(read(R"({"items":[{"productId":"mug","quantity":2}]})").ok());
  EXPECT_FALSE(read(R"({"orderId":"o-1","items":[{"productId":"mug","quantity":0}]})").ok());
  EXPECT_FALSE(read(R"({"orderId":"o-1","items":[7]})").ok());
  EXPECT_EQ(left_after_checkout(3, 2), 1);
  EXPECT_EQ(left_after_checkout(2, 2), std::nullopt);
  EXPECT_EQ(left_after_checkout(1, 2), std::nullopt);
}

TEST(CartErrors, EachCodeHasItsStatusAndText) {
  const std::pair<Error, std::pair<int, std::string_view>> table[] = {
      {Error::not_owner, {403, "Access denied to this cart"}},
      {Error::product_not_found, {404, "Product not found"}},
      {Error::item_not_in_cart, {404, "Item not in cart"}},
      {Error::too_many, {409, "At most 1000 of a product fit in the cart"}},
      {Error::insufficient_stock, {409, "Insufficient stock"}},
  };
  for (const auto& [code, expected] : table) {
    const auto res = http::problem(http::Failure<Error>{.code = code});
    EXPECT_EQ(res.status, expected.first);
    const auto body = json::parse(res.body).as_object();
    EXPECT_EQ(body.at("status"), expected.first);
    EXPECT_EQ(body.at("error").as_string(), expected.second);
    EXPECT_EQ(body.at("detail").as_string(), expected.second);
    EXPECT_EQ(body.at("title").as_string(), http::reason_phrase(expected.first));
  }
}

}  // namespace
}  // namespace emporium::cart::testing
