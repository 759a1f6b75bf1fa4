#include "cart/service.hpp"

#include <boost/json.hpp>

#include "common/embedded.hpp"
#include "common/guards.hpp"
#include "core/ids.hpp"
#include "http/json.hpp"
#include "svc/clients.hpp"

namespace emporium::cart {

namespace json = boost::json;
using http::Request;
using http::Response;

namespace {

constexpr std::int64_t kMaxQuantity = 1000;

constexpr std::string_view kItems =
    "SELECT product_id, quantity FROM cart_items WHERE user_id = $1 ORDER BY added_at, product_id";
constexpr std::string_view kCartUpdatedAt = "SELECT updated_at FROM carts WHERE user_id = $1";
constexpr std::string_view kInsertCart =
    "INSERT INTO carts (user_id, updated_at) VALUES ($1, $2) ON CONFLICT (user_id) DO NOTHING";
constexpr std::string_view kTouchCart = "UPDATE carts SET updated_at = $2 WHERE user_id = $1";
constexpr std::string_view kItemQuantity =
    "SELECT quantity FROM cart_items WHERE user_id = $1 AND product_id = $2";
constexpr std::string_view kInsertItem =
    "INSERT INTO cart_items (user_id, product_id, quantity, added_at) VALUES ($1, $2, $3, $4)";
constexpr std::string_view kSetItem =
    "UPDATE cart_items SET quantity = $3 WHERE user_id = $1 AND product_id = $2";
constexpr std::string_view kDeleteItem =
    "DELETE FROM cart_items WHERE user_id = $1 AND product_id = $2";
constexpr std::string_view kClear = "DELETE FROM cart_items WHERE user_id = $1";

class CartService final : public Service {
 public:
  explicit CartService(ServiceContext& ctx)
      : db_(ctx.database()),
        tokens_(ctx.tokens),
        products_(ctx.upstream("product"), ctx.tokens, "cart") {
    auto& r = ctx.routes;
    r.add_public("GET", "/api/cart/{userId}", owner(&CartService::view));
    r.add_public("POST", "/api/cart/{userId}/items", owner(&CartService::add));
    r.add_public("PUT", "/api/cart/{userId}/items/{productId}", owner(&CartService::set));
    r.add_public("DELETE", "/api/cart/{userId}/items/{productId}", owner(&CartService::remove));
    r.add_public("DELETE", "/api/cart/{userId}", owner(&CartService::clear));
    r.add_internal("GET", "/internal/carts/{userId}",
                   service_only(tokens_, [this](Request& req) { return internal_items(req); }));
    r.add_internal("DELETE", "/internal/carts/{userId}",
                   service_only(tokens_, [this](Request& req) { return internal_clear(req); }));
  }

 private:
  using Method = Response (CartService::*)(Request&, const std::string&);

  // The caller must be the cart's user or an admin.
  http::Handler owner(Method m) {
    return signed_in(tokens_, [this, m](Request& req, const auth::Identity& who) {
      const std::string user_id(req.param("userId"));
      if (!who.may_act_for(user_id)) {
        return http::problem(403, "Access denied to this cart");
      }
      return (this->*m)(req, user_id);
    });
  }

  struct Item {
    std::string product_id;
    std::int64_t quantity;
  };

  std::vector<Item> items(db::Connection& c, const std::string& user_id) {
    std::vector<Item> out;
    for (const auto& r : c.exec(kItems, {user_id}).rows) {
      out.push_back({r.text(0), r.integer(1)});
    }
    return out;
  }

  // The cart as clients see it, with names and prices from the product service.
  json::object render(const std::string& user_id, const std::string& request_id) {
    std::vector<Item> lines;
    json::value updated_at = nullptr;
    {
      auto c = db_.acquire();
      lines = items(*c, user_id);
      if (auto rows = c->exec(kCartUpdatedAt, {user_id}).rows; !rows.empty()) {
        updated_at = json::value(rows[0].text(0));
      }
    }
    std::vector<std::string> ids;
    for (const auto& l : lines) {
      ids.push_back(l.product_id);
    }
    const auto products = products_.lookup(ids, request_id);
    json::array out;
    std::int64_t total = 0;
    for (const auto& l : lines) {
      auto it = products.find(l.product_id);
      if (it == products.end()) {
        continue;  // the product was removed from the catalog
      }
      const auto subtotal = it->second.price_cents * l.quantity;
      total += subtotal;
      out.push_back(json::object{{"productId", l.product_id},
                                 {"name", it->second.name},
                                 {"price", http::money(it->second.price_cents)},
                                 {"quantity", l.quantity},
                                 {"subtotal", http::money(subtotal)}});
    }
    return json::object{{"userId", user_id},
                        {"items", std::move(out)},
                        {"total", http::money(total)},
                        {"updatedAt", std::move(updated_at)}};
  }

  Response with_message(const std::string& user_id, const std::string& request_id,
                        std::string_view message, int status = 200) {
    auto body = render(user_id, request_id);
    body["message"] = message;
    return http::json_response(status, body);
  }

  Response view(Request& req, const std::string& user_id) {
    return http::json_response(200, render(user_id, req.request_id));
  }

  Response add(Request& req, const std::string& user_id) {
    auto body = http::parse_object(req.body);
    if (!body) {
      return http::problem(body.error());
    }
    http::Fields f(*body, {"productId", "quantity"});
    auto product_id = f.string("productId", 1, 64);
    auto quantity = f.integer("quantity", 1, kMaxQuantity);
    if (!f.ok()) {
      return f.problem();
    }
    const auto products = products_.lookup({*product_id}, req.request_id);
    const auto it = products.find(*product_id);
    if (it == products.end()) {
      return http::problem(404, "Product not found");
    }
    bool created = false;
    {
      auto c = db_.acquire();
      db::Transaction tx(*c, true);
      const auto now = core::now_iso8601();
      created = c->exec(kInsertCart, {user_id, now}).affected == 1;
      if (!created) {
        c->exec(kTouchCart, {user_id, now});
      }
      auto current = c->exec(kItemQuantity, {user_id, *product_id}).rows;
      const std::int64_t have = current.empty() ? 0 : current[0].integer(0);
      const std::int64_t want = have + *quantity;
      if (want > kMaxQuantity) {
        return http::problem(409, "At most 1000 of a product fit in the cart");
      }
      if (want > it->second.stock) {
        return http::problem(409, "Insufficient stock for " + it->second.name + ": " +
                                      std::to_string(it->second.stock) + " available");
      }
      if (current.empty()) {
        c->exec(kInsertItem, {user_id, *product_id, want, now});
      } else {
        c->exec(kSetItem, {user_id, *product_id, want});
      }
      tx.commit();
    }
    return with_message(user_id, req.request_id, "Item added to cart", created ? 201 : 200);
  }

  Response set(Request& req, const std::string& user_id) {
    auto body = http::parse_object(req.body);
    if (!body) {
      return http::problem(body.error());
    }
    http::Fields f(*body, {"quantity"});
    auto quantity = f.integer("quantity", 0, kMaxQuantity);
    if (!f.ok()) {
      return f.problem();
    }
    const std::string product_id(req.param("productId"));
    std::optional<svc::ProductSummary> product;
    if (*quantity > 0) {
      const auto products = products_.lookup({product_id}, req.request_id);
      if (auto it = products.find(product_id); it != products.end()) {
        product = it->second;
      } else {
        return http::problem(404, "Product not found");
      }
    }
    {
      auto c = db_.acquire();
      db::Transaction tx(*c, true);
      if (c->exec(kItemQuantity, {user_id, product_id}).rows.empty()) {
        return http::problem(404, "Item not in cart");
      }
      if (*quantity == 0) {
        c->exec(kDeleteItem, {user_id, product_id});
      } else {
        if (*quantity > product->stock) {
          return http::problem(409, "Insufficient stock for " + product->name + ": " +
                                        std::to_string(product->stock) + " available");
        }
        c->exec(kSetItem, {user_id, product_id, *quantity});
      }
      c->exec(kTouchCart, {user_id, core::now_iso8601()});
      tx.commit();
    }
    return with_message(user_id, req.request_id,
                        *quantity == 0 ? "Item removed from cart" : "Cart updated");
  }

  Response remove(Request& req, const std::string& user_id) {
    const std::string product_id(req.param("productId"));
    {
      auto c = db_.acquire();
      db::Transaction tx(*c, true);
      if (c->exec(kDeleteItem, {user_id, product_id}).affected == 0) {
        return http::problem(404, "Item not in cart");
      }
      c->exec(kTouchCart, {user_id, core::now_iso8601()});
      tx.commit();
    }
    return with_message(user_id, req.request_id, "Item removed from cart");
  }

  void clear_items(const std::string& user_id) {
    auto c = db_.acquire();
    db::Transaction tx(*c, true);
    c->exec(kClear, {user_id});
    c->exec(kTouchCart, {user_id, core::now_iso8601()});
    tx.commit();
  }

  Response clear(Request&, const std::string& user_id) {
    clear_items(user_id);
    return http::json_response(200, json::object{{"message", "Cart cleared"}});
  }

  Response internal_items(Request& req) {
    auto c = db_.acquire();
    json::array out;
    for (const auto& i : items(*c, std::string(req.param("userId")))) {
      out.push_back(json::object{{"productId", i.product_id}, {"quantity", i.quantity}});
    }
    return http::json_response(200, json::object{{"items", std::move(out)}});
  }

  Response internal_clear(Request& req) {
    clear_items(std::string(req.param("userId")));
    return http::json_response(200, json::object{{"message", "Cart cleared"}});
  }

  db::Database& db_;
  const auth::Tokens& tokens_;
  svc::ProductApi products_;
};

}  // namespace

namespace {

std::vector<db::Migration> migrations() {
  return db::migrations_from(embedded::cart_migrations());
}

std::unique_ptr<Service> mount(ServiceContext& ctx) {
  return std::make_unique<CartService>(ctx);
}

}  // namespace

const ServiceModule& module() {
  static const ServiceModule m{.name = "cart",
                               .default_listen = "0.0.0.0:3003",
                               .migrations = migrations,
                               .mount = mount,
                               .outbox = false};
  return m;
}

}  // namespace emporium::cart
