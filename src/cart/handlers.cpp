#include "cart/handlers.hpp"

#include <boost/json.hpp>
#include <optional>

#include "http/json.hpp"

namespace emporium::cart {

namespace json = boost::json;
using http::Request;
using http::Response;

namespace {

Response fail(Error code) {
  return http::problem(http::Failure<Error>{.code = code});
}

// Runs `body` (Writer& -> Outcome) as one write transaction of `store`,
// committed only when it succeeds; returns its outcome.
template <class F>
Outcome in_transaction(Store& store, F body) {
  Outcome outcome;
  store.write([&](Writer& w) {
    outcome = body(w);
    return outcome.ok();
  });
  return outcome;
}

json::array render_lines(const PricedCart& priced) {
  json::array out;
  for (const auto& l : priced.lines) {
    out.push_back(json::object{{"productId", l.product_id},
                               {"name", l.name},
                               {"price", http::money(l.price_cents)},
                               {"quantity", l.quantity},
                               {"subtotal", http::money(l.subtotal_cents)}});
  }
  return out;
}

}  // namespace

json::object Handlers::render(const std::string& user_id, const std::string& request_id) {
  auto stored = store_.cart(user_id);
  std::vector<std::string> ids;
  for (const auto& l : stored.lines) {
    ids.push_back(l.product_id);
  }
  const auto priced = price(stored.lines, catalog_.lookup(ids, request_id));
  json::value updated_at = nullptr;
  if (stored.updated_at) {
    updated_at = json::value(*stored.updated_at);
  }
  return json::object{{"userId", user_id},
                      {"items", render_lines(priced)},
                      {"total", http::money(priced.total_cents)},
                      {"updatedAt", std::move(updated_at)}};
}

Response Handlers::with_message(const std::string& user_id, const std::string& request_id,
                                std::string_view message, int status) {
  auto body = render(user_id, request_id);
  body["message"] = message;
  return http::json_response(status, body);
}

Response Handlers::view(Request& req, const std::string& user_id) {
  return http::json_response(200, render(user_id, req.request_id));
}

Response Handlers::add(Request& req, const std::string& user_id, AddItem in) {
  const auto products = catalog_.lookup({in.product_id}, req.request_id);
  const auto it = products.find(in.product_id);
  if (it == products.end()) {
    return fail(Error::product_not_found);
  }
  bool created = false;
  const auto now = now_();
  auto added = in_transaction(store_, [&](Writer& w) -> Outcome {
    created = w.insert_cart(user_id, now);
    if (!created) {
      w.touch_cart(user_id, now);
    }
    const auto have = w.item_quantity(user_id, in.product_id);
    auto want = quantity_after_add(have.value_or(0), in.quantity, it->second);
    if (!want) {
      return core::fail(std::move(want).error());
    }
    if (have) {
      w.set_item(user_id, in.product_id, *want);
    } else {
      w.insert_item(user_id, in.product_id, *want, now);
    }
    return {};
  });
  if (!added) {
    return http::problem(added.error());
  }
  return with_message(user_id, req.request_id, "Item added to cart", created ? 201 : 200);
}

Response Handlers::set(Request& req, const std::string& user_id, SetQuantity in) {
  const std::string product_id(req.param("productId"));
  std::optional<svc::ProductSummary> product;
  if (in.quantity > 0) {
    const auto products = catalog_.lookup({product_id}, req.request_id);
    const auto it = products.find(product_id);
    if (it == products.end()) {
      return fail(Error::product_not_found);
    }
    product = it->second;
  }
  auto changed = in_transaction(store_, [&](Writer& w) -> Outcome {
    if (!w.item_quantity(user_id, product_id)) {
      return core::fail(http::Failure<Error>{.code = Error::item_not_in_cart});
    }
    if (in.quantity == 0) {
      w.delete_item(user_id, product_id);
    } else {
      if (auto stocked = check_stock(in.quantity, *product); !stocked) {
        return stocked;
      }
      w.set_item(user_id, product_id, in.quantity);
    }
    w.touch_cart(user_id, now_());
    return {};
  });
  if (!changed) {
    return http::problem(changed.error());
  }
  return with_message(user_id, req.request_id,
                      in.quantity == 0 ? "Item removed from cart" : "Cart updated");
}

Response Handlers::remove(Request& req, const std::string& user_id) {
  const std::string product_id(req.param("productId"));
  auto removed = in_transaction(store_, [&](Writer& w) -> Outcome {
    if (!w.delete_item(user_id, product_id)) {
      return core::fail(http::Failure<Error>{.code = Error::item_not_in_cart});
    }
    w.touch_cart(user_id, now_());
    return {};
  });
  if (!removed) {
    return http::problem(removed.error());
  }
  return with_message(user_id, req.request_id, "Item removed from cart");
}

void Handlers::clear_items(const std::string& user_id) {
  store_.write([&](Writer& w) {
    w.clear(user_id);
    w.touch_cart(user_id, now_());
    return true;
  });
}

Response Handlers::clear(Request&, const std::string& user_id) {
  clear_items(user_id);
  return http::json_response(200, json::object{{"message", "Cart cleared"}});
}

Response Handlers::internal_items(Request& req) {
  json::array out;
  for (const auto& l : store_.items(std::string(req.param("userId")))) {
    out.push_back(json::object{{"productId", l.product_id}, {"quantity", l.quantity}});
  }
  return http::json_response(200, json::object{{"items", std::move(out)}});
}

Response Handlers::internal_checkout(Request& req, const Checkout& in) {
  const std::string user_id(req.param("userId"));
  bool applied = false;
  store_.write([&](Writer& w) {
    const auto now = now_();
    applied = w.record_checkout(in.order_id, user_id, now);
    if (!applied) {
      return false;
    }
    for (const auto& line : in.lines) {
      const auto have = w.item_quantity(user_id, line.product_id);
      if (!have) {
        continue;
      }
      if (auto left = left_after_checkout(*have, line.quantity)) {
        w.set_item(user_id, line.product_id, *left);
      } else {
        w.delete_item(user_id, line.product_id);
      }
    }
    w.touch_cart(user_id, now);
    return true;
  });
  return http::json_response(
      200, json::object{{"message", applied ? "Order's items removed" : "Already removed"},
                        {"applied", applied}});
}

Response Handlers::internal_clear(Request& req) {
  clear_items(std::string(req.param("userId")));
  return http::json_response(200, json::object{{"message", "Cart cleared"}});
}

}  // namespace emporium::cart
