#include "order/handlers.hpp"

#include <gtest/gtest.h>

#include "harness.hpp"

namespace emporium::order::testing {
namespace {

namespace json = boost::json;

std::string error_of(const http::Response& res) {
  return std::string(body_of(res).at("error").as_string());
}

TEST(OrderPlace, CreatesTheOrderReservesStockAndEmptiesTheCart) {
  Shop shop;
  const auto ann = customer("ann");
  shop.carts.put("ann", {{"mug", 2}, {"lamp", 1}});
  auto res = shop.place_for(ann);
  ASSERT_EQ(res.status, 201) << res.body;
  const auto order = body_of(res);
  const std::string id(order.at("id").as_string());
  EXPECT_EQ(res.headers.get("Location").value_or(""), "/api/orders/" + id);
  EXPECT_EQ(order.at("userId").as_string(), "ann");
  EXPECT_EQ(order.at("status").as_string(), "pending");
  EXPECT_EQ(http::dump(order.at("total")), "44.98");
  EXPECT_EQ(order.at("currency").as_string(), "USD");
  EXPECT_EQ(order.at("items").as_array().size(), 2U);
  EXPECT_EQ(order.at("shippingAddress").at("street").as_string(), "1 Main St");
  EXPECT_EQ(order.at("shippingAddress").at("zipCode").as_string(), "62701");
  EXPECT_EQ(order.at("createdAt"), order.at("updatedAt"));

  EXPECT_TRUE(shop.carts.lines_of("ann").empty());
  EXPECT_EQ(shop.products.stock_of("mug"), 3);
  EXPECT_EQ(shop.products.stock_of("lamp"), 1);
  ASSERT_EQ(shop.store.tasks_of(TaskKind::clear_cart).size(), 1U);
  EXPECT_TRUE(shop.store.tasks_of(TaskKind::clear_cart)[0].done_at);
  ASSERT_EQ(shop.store.tasks_of(TaskKind::release_stock).size(), 1U);  // the insurance
  EXPECT_TRUE(shop.store.tasks_of(TaskKind::release_stock)[0].done_at);
  ASSERT_EQ(shop.store.events().size(), 1U);
  EXPECT_EQ(shop.store.events()[0].type, "order.placed");
  const auto payload = json::parse(shop.store.events()[0].payload).as_object();
  EXPECT_EQ(payload.at("order_id").as_string(), id);
  EXPECT_EQ(payload.at("total_cents").as_int64(), 4498);
  EXPECT_EQ(shop.events_written, 1);

  // What the client was told is what a read shows.
  auto read = shop.get(ann, id);
  ASSERT_EQ(read.status, 200);
  EXPECT_EQ(body_of(read).at("total"), order.at("total"));
  EXPECT_EQ(body_of(read).at("shippingAddress"), order.at("shippingAddress"));
}

TEST(OrderPlace, EmptyCartIs422) {
  Shop shop;
  auto res = shop.place_for(customer("ann"));
  EXPECT_EQ(res.status, 422);
  EXPECT_EQ(error_of(res), "Cart is empty");
  EXPECT_TRUE(shop.store.tasks_of(TaskKind::release_stock).empty());
  EXPECT_EQ(shop.store.order_count(), 0U);
}

TEST(OrderPlace, ShortageIs409NamingTheProductAndTakesNothing) {
  Shop shop;
  shop.carts.put("ann", {{"mug", 1}, {"lamp", 3}});
  auto res = shop.place_for(customer("ann"));
  EXPECT_EQ(res.status, 409);
  EXPECT_EQ(error_of(res), "Insufficient stock for Lamp: 2 available, 3 requested");
  EXPECT_EQ(body_of(res).at("detail").as_string(), error_of(res));
  EXPECT_EQ(shop.products.stock_of("mug"), 5);
  EXPECT_EQ(shop.products.stock_of("lamp"), 2);
  EXPECT_EQ(shop.store.order_count(), 0U);
  EXPECT_EQ(shop.carts.lines_of("ann").size(), 2U);
  ASSERT_EQ(shop.store.tasks_of(TaskKind::release_stock).size(), 1U);
  EXPECT_TRUE(shop.store.tasks_of(TaskKind::release_stock)[0].done_at);  // insurance retired

  shop.carts.put("ann", {{"gone", 1}});
  res = shop.place_for(customer("ann"));
  EXPECT_EQ(res.status, 409);
  EXPECT_EQ(error_of(res), "Product gone is no longer available");
}

TEST(OrderPlace, BadAddressIs422NamingEveryField) {
  Shop shop;
  shop.carts.put("ann", {{"mug", 1}});
  auto res = shop.place(
      customer("ann"),
      R"({"userId":"ann","shippingAddress":{"street":"1 Main St","state":"","zipCode":7,"country":"US","floor":2}})");
  ASSERT_EQ(res.status, 422) << res.body;
  const auto body = body_of(res);
  EXPECT_EQ(body.at("detail").as_string(),
            "Validation failed: shippingAddress.floor Unknown field");
  std::vector<std::string> fields;
  for (const auto& e : body.at("errors").as_array()) {
    fields.emplace_back(e.at("field").as_string());
  }
  EXPECT_EQ(fields, (std::vector<std::string>{"shippingAddress.floor", "shippingAddress.city",
                                              "shippingAddress.state", "shippingAddress.zipCode"}));

  res = shop.place(customer("ann"), R"({"userId":"ann"})");
  EXPECT_EQ(res.status, 422);
  EXPECT_EQ(body_of(res).at("detail").as_string(), "Validation failed: shippingAddress Required");
  EXPECT_EQ(shop.products.stock_of("mug"), 5);
  EXPECT_EQ(shop.store.order_count(), 0U);
}

TEST(OrderPlace, BadBodyIs400) {
  Shop shop;
  auto res = shop.place(customer("ann"), "{");
  EXPECT_EQ(res.status, 400);
  EXPECT_EQ(error_of(res), "Malformed JSON");
  res = shop.place(customer("ann"), R"({"shippingAddress":{},"coupon":"X"})");
  EXPECT_EQ(res.status, 400);
  EXPECT_EQ(error_of(res), "Validation failed: coupon Unknown field");
}

TEST(OrderPlace, ForAnotherUserIs403BeforeTheAddressIsJudged) {
  Shop shop;
  shop.carts.put("bob", {{"mug", 1}});
  auto res = shop.place(customer("ann"), R"({"userId":"bob"})");
  EXPECT_EQ(res.status, 403);
  EXPECT_EQ(error_of(res), "Cannot place an order for another user");
  EXPECT_EQ(shop.products.reserve_calls, 0);
  // An admin may.
  EXPECT_EQ(shop.place(admin(), order_body("bob")).status, 201);
}

TEST(OrderPlace, RepeatedIdempotencyKeyReplaysTheFirstOrder) {
  Shop shop;
  const auto ann = customer("ann");
  shop.carts.put("ann", {{"mug", 2}});
  auto first = shop.place_for(ann, "key-1");
  ASSERT_EQ(first.status, 201);
  EXPECT_FALSE(first.headers.has("Idempotent-Replayed"));
  shop.carts.put("ann", {{"mug", 2}});
  auto again = shop.place_for(ann, "key-1");
  EXPECT_EQ(again.status, 201);
  EXPECT_EQ(again.headers.get("Idempotent-Replayed").value_or(""), "true");
  EXPECT_EQ(body_of(again).at("id"), body_of(first).at("id"));
  EXPECT_EQ(shop.products.reserve_calls, 1);
  EXPECT_EQ(shop.products.stock_of("mug"), 3);
  EXPECT_EQ(shop.store.order_count(), 1U);

  auto res = shop.place_for(ann, std::string(201, 'k'));
  EXPECT_EQ(res.status, 400);
  EXPECT_EQ(error_of(res), "Idempotency-Key must be 1 to 200 characters");
}

TEST(OrderPlace, LosingAnIdempotencyRaceReplaysTheWinnerAndGivesStockBack) {
  Shop shop;
  const auto ann = customer("ann");
  shop.carts.put("ann", {{"mug", 2}});
  Order winner{.id = "winner",
               .user_id = "ann",
               .currency = "USD",
               .shipping_address = R"({"street":"x"})",
               .created_at = "2026-01-01T00:00:00.000Z",
               .updated_at = "2026-01-01T00:00:00.000Z",
               .items = {}};
  shop.products.after_reserve = [&] { shop.store.insert(winner, "key-1"); };
  auto res = shop.place_for(ann, "key-1");
  EXPECT_EQ(res.status, 201);
  EXPECT_EQ(res.headers.get("Idempotent-Replayed").value_or(""), "true");
  EXPECT_EQ(body_of(res).at("id").as_string(), "winner");
  EXPECT_EQ(shop.products.releases, 1);
  EXPECT_EQ(shop.products.stock_of("mug"), 5);
}

TEST(OrderPlace, ExpiredReservationIs503WithRetryAfterAndStoresNothing) {
  Shop shop;
  shop.carts.put("ann", {{"mug", 2}});
  // The runner used the insurance (and gave the stock back) before the order was stored.
  shop.products.after_reserve = [&] { shop.store.finish_pending(TaskKind::release_stock); };
  auto res = shop.place_for(customer("ann"));
  EXPECT_EQ(res.status, 503);
  EXPECT_EQ(res.headers.get("Retry-After").value_or(""), "1");
  EXPECT_EQ(error_of(res), "Service temporarily unavailable");
  EXPECT_EQ(body_of(res).at("title").as_string(), "Service Unavailable");
  EXPECT_EQ(shop.store.order_count(), 0U);
  EXPECT_TRUE(shop.store.events().empty());
  EXPECT_EQ(shop.products.releases, 0);  // the insurance's job, not the request's
  EXPECT_EQ(shop.carts.lines_of("ann").size(), 1U);
}

TEST(OrderRead, OwnersAndAdminsOnly) {
  Shop shop;
  shop.carts.put("ann", {{"mug", 1}});
  const auto id = std::string(body_of(shop.place_for(customer("ann"))).at("id").as_string());
  EXPECT_EQ(shop.get(customer("ann"), id).status, 200);
  EXPECT_EQ(shop.get(admin(), id).status, 200);
  auto res = shop.get(customer("bob"), id);
  EXPECT_EQ(res.status, 403);
  EXPECT_EQ(error_of(res), "Access denied to this order");
  res = shop.get(customer("ann"), "nope");
  EXPECT_EQ(res.status, 404);
  EXPECT_EQ(error_of(res), "Order not found");
}

TEST(OrderList, CustomersSeeTheirOwnAdminsEveryones) {
  Shop shop;
  shop.carts.put("ann", {{"mug", 1}});
  ASSERT_EQ(shop.place_for(customer("ann")).status, 201);
  shop.carts.put("bob", {{"mug", 1}});
  ASSERT_EQ(shop.place_for(customer("bob")).status, 201);

  auto mine_res = shop.list(customer("ann"));
  const auto mine = json::parse(mine_res.body).as_array();
  ASSERT_EQ(mine.size(), 1U);
  EXPECT_EQ(mine[0].at("userId").as_string(), "ann");
  EXPECT_EQ(mine[0].at("_id"), mine[0].at("id"));
  EXPECT_EQ(mine_res.headers.get("X-Total-Count").value_or(""), "1");

  auto res = shop.list(customer("ann"), "bob");
  EXPECT_EQ(res.status, 403);
  EXPECT_EQ(error_of(res), "Access denied to these orders");

  auto all = shop.list(admin());
  EXPECT_EQ(json::parse(all.body).as_array().size(), 2U);
  EXPECT_EQ(all.headers.get("X-Total-Count").value_or(""), "2");
  EXPECT_EQ(json::parse(shop.list(admin(), "bob").body).as_array().size(), 1U);
}

TEST(OrderStatusChange, AllowedMovesAndRefusedOnes) {
  Shop shop;
  shop.carts.put("ann", {{"mug", 1}});
  const auto id = std::string(body_of(shop.place_for(customer("ann"))).at("id").as_string());
  auto res = shop.set_status(id, R"({"status":"processing"})");
  ASSERT_EQ(res.status, 200) << res.body;
  EXPECT_EQ(body_of(res).at("status").as_string(), "processing");
  EXPECT_EQ(body_of(shop.get(customer("ann"), id)).at("status").as_string(), "processing");
  EXPECT_EQ(shop.store.events().back().type, "order.status_changed");

  res = shop.set_status(id, R"({"status":"pending"})");
  EXPECT_EQ(res.status, 409);
  EXPECT_EQ(error_of(res), "Cannot change an order from processing to pending");
  res = shop.set_status(id, R"({"status":"lost"})");
  EXPECT_EQ(res.status, 400);
  EXPECT_EQ(error_of(res),
            "Validation failed: status Must be one of pending, processing, shipped, delivered, "
            "cancelled");
  res = shop.set_status("nope", R"({"status":"shipped"})");
  EXPECT_EQ(res.status, 404);

  shop.store.before_update = [](Order& o) { o.status = Status::cancelled; };
  res = shop.set_status(id, R"({"status":"shipped"})");
  EXPECT_EQ(res.status, 409);
  EXPECT_EQ(error_of(res), "Order changed concurrently; try again");
}

TEST(OrderStatusChange, CancelGivesTheStockBackOnce) {
  Shop shop;
  shop.carts.put("ann", {{"mug", 2}});
  const auto id = std::string(body_of(shop.place_for(customer("ann"))).at("id").as_string());
  ASSERT_EQ(shop.products.stock_of("mug"), 3);

  auto res = shop.cancel(customer("bob"), id);
  EXPECT_EQ(res.status, 403);
  EXPECT_EQ(error_of(res), "Access denied to this order");

  res = shop.cancel(customer("ann"), id);
  ASSERT_EQ(res.status, 200);
  EXPECT_EQ(body_of(res).at("status").as_string(), "cancelled");
  EXPECT_EQ(shop.products.stock_of("mug"), 5);
  EXPECT_EQ(shop.store.events().back().type, "order.cancelled");

  res = shop.cancel(customer("ann"), id);
  EXPECT_EQ(res.status, 409);
  EXPECT_EQ(error_of(res), "Cannot change an order from cancelled to cancelled");
  EXPECT_EQ(shop.products.stock_of("mug"), 5);
  EXPECT_EQ(shop.products.releases, 1);
  const auto releases = shop.store.tasks_of(TaskKind::release_stock);
  ASSERT_EQ(releases.size(), 2U);  // the insurance and the cancel's
  EXPECT_TRUE(releases[1].done_at);
}

// Every code of the table reaches the client with its status and text.
TEST(OrderErrors, EachCodeAnswersItsStatusAndText) {
  const Error codes[] = {Error::foreign_user,        Error::bad_idempotency_key,
                         Error::cart_empty,          Error::out_of_stock,
                         Error::reservation_expired, Error::orders_forbidden,
                         Error::not_found,           Error::order_forbidden,
                         Error::transition_refused,  Error::changed_concurrently};
  for (auto code : codes) {
    const auto& s = spec(code);
    auto res = problem(Failure{.code = code});
    EXPECT_EQ(res.status, s.status);
    EXPECT_EQ(error_of(res), s.error);
    EXPECT_EQ(body_of(res).at("title").as_string(), http::reason_phrase(s.status));
    EXPECT_EQ(res.headers.has("Retry-After"), s.status == 503);
  }
  EXPECT_EQ(spec(Error::foreign_user).status, 403);
  EXPECT_EQ(spec(Error::cart_empty).status, 422);
  EXPECT_EQ(spec(Error::reservation_expired).status, 503);
  EXPECT_EQ(spec(Error::not_found).status, 404);
}

}  // namespace
}  // namespace emporium::order::testing
