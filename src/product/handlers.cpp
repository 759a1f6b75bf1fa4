#include "product/handlers.hpp"

#include <boost/json.hpp>
#include <string>
#include <vector>

#include "core/ids.hpp"
#include "http/json.hpp"
#include "obs/log.hpp"
#include "product/errors.hpp"

namespace emporium::product {

namespace json = boost::json;
using http::Request;
using http::Response;

namespace {

// Runs a function when the scope ends, however it ends: after a write, its
// cache invalidation (also when the write threw, in case it had committed).
template <class F>
class Finally {
 public:
  explicit Finally(F f) : f_(std::move(f)) {}
  ~Finally() {
    try {
      f_();
    } catch (const std::exception& e) {
      obs::error("cache invalidation failed", {{"error", std::string_view(e.what())}});
    }
  }
  Finally(const Finally&) = delete;
  Finally& operator=(const Finally&) = delete;

 private:
  F f_;
};

Response not_found() {
  return http::problem(http::Failure<Error>{.code = Error::product_not_found});
}

// The cache key of a list request: every field of the parsed query, so
// equivalent URLs share an entry and unknown parameters do not split it.
std::string list_key(const ListQuery& q) {
  auto opt = [](const auto& v) -> json::value {
    if (v) {
      return json::value(*v);
    }
    return nullptr;
  };
  return "list:" +
         http::dump(json::array{opt(q.category), opt(q.text), opt(q.min_cents), opt(q.max_cents),
                                static_cast<int>(q.sort), q.page, q.limit});
}

// 409 naming the first line a reservation could not cover.
Response shortage_problem(const svc::Shortage& shortage) {
  const bool unknown = shortage.name.empty();
  auto res = http::problem(
      http::Failure<Error>{.code = unknown ? Error::unknown_product : Error::insufficient_stock,
                           .detail = unknown ? "Product " + shortage.product_id + " not found"
                                             : "Insufficient stock for " + shortage.name});
  auto b = json::parse(res.body).as_object();
  b["productId"] = shortage.product_id;
  b["productName"] = shortage.name;
  b["available"] = shortage.available;
  b["requested"] = shortage.requested;
  res.body = http::dump(b);
  return res;
}

}  // namespace

Response Handlers::list(const Request& req) {
  auto q = read_list_query(req);
  if (!q) {
    return http::query_problem(std::move(q).error());
  }
  return Response::json(200, cache_.collection(list_key(*q), [&] {
    const auto page = store_.list(*q);
    json::array items;
    for (const auto& p : page.items) {
      items.push_back(to_json(p));
    }
    const http::PageRequest page_req{.page = q->page, .limit = q->limit};
    return http::dump(json::object{{"products", std::move(items)},
                                   {"pagination", http::pagination(page_req, page.total)}});
  }));
}

Response Handlers::categories(const Request&) {
  return Response::json(200, cache_.collection("categories", [&] {
    json::array out;
    for (const auto& [name, count] : store_.categories()) {
      out.push_back(json::object{{"name", name}, {"count", count}});
    }
    return http::dump(json::object{{"categories", std::move(out)}});
  }));
}

Response Handlers::get(const Request& req) {
  const std::string id(req.param("id"));
  auto body = cache_.product(id, [&]() -> std::optional<std::string> {
    auto p = store_.get(id);
    if (!p) {
      return std::nullopt;
    }
    return http::dump(to_json(*p));
  });
  if (!body) {
    return not_found();
  }
  return Response::json(200, std::move(*body));
}

std::optional<Response> Handlers::cached_list(const Request& req) {
  auto q = read_list_query(req);
  if (!q) {
    return std::nullopt;
  }
  auto body = cache_.cached_collection(list_key(*q));
  if (!body) {
    return std::nullopt;
  }
  return Response::json(200, std::move(*body));
}

std::optional<Response> Handlers::cached_categories(const Request&) {
  auto body = cache_.cached_collection("categories");
  if (!body) {
    return std::nullopt;
  }
  return Response::json(200, std::move(*body));
}

std::optional<Response> Handlers::cached_get(const Request& req) {
  auto body = cache_.cached_product(std::string(req.param("id")));
  if (!body) {
    return std::nullopt;
  }
  return Response::json(200, std::move(*body));
}

Response Handlers::create(const Request&, const ProductInput& in) {
  Product p;
  p.id = core::new_id();
  apply(in, p);
  p.created_at = p.updated_at = core::now_iso8601();
  Finally invalidate([this] { cache_.invalidate({}); });
  store_.insert(p);
  auto res = http::json_response(201, to_json(p));
  res.headers.set("Location", "/api/products/" + p.id);
  return res;
}

Response Handlers::update(const Request& req, const ProductInput& in) {
  auto p = store_.get(std::string(req.param("id")));
  if (!p) {
    return not_found();
  }
  apply(in, *p);
  p->updated_at = core::now_iso8601();
  Finally invalidate([this, id = p->id] { cache_.invalidate({id}); });
  if (!store_.update(*p, in.stock)) {
    return not_found();
  }
  auto fresh = store_.get(p->id);
  if (!fresh) {
    return not_found();
  }
  return http::json_response(200, to_json(*fresh));
}

Response Handlers::remove(const Request& req) {
  const std::string id(req.param("id"));
  Finally invalidate([this, &id] { cache_.invalidate({id}); });
  if (!store_.remove(id)) {
    return not_found();
  }
  return http::json_response(200, json::object{{"message", "Product deleted"}});
}

Response Handlers::lookup(const Request&, const LookupInput& in) {
  json::array out;
  for (const auto& p : store_.get_many(in.ids)) {
    out.push_back(json::object{{"id", p.id},
                               {"name", p.name},
                               {"priceCents", p.price_cents},
                               {"currency", p.currency},
                               {"stock", p.stock}});
  }
  return http::json_response(200, json::object{{"products", std::move(out)}});
}

Response Handlers::reserve(const Request&, ReservationInput in) {
  Finally invalidate([this, &in] {
    std::vector<std::string> ids;
    for (const auto& l : in.lines) {
      ids.push_back(l.product_id);
    }
    cache_.invalidate(ids);
  });
  auto result = store_.reserve(in.order_id, in.lines);
  events_written_();  // a stock.low event may have been written
  if (const auto* shortage = std::get_if<svc::Shortage>(&result)) {
    return shortage_problem(*shortage);
  }
  json::array out;
  for (const auto& l : std::get<std::vector<svc::ReservedLine>>(result)) {
    out.push_back(json::object{{"productId", l.product_id},
                               {"name", l.name},
                               {"currency", l.currency},
                               {"priceCents", l.price_cents},
                               {"quantity", l.quantity}});
  }
  return http::json_response(200,
                             json::object{{"orderId", in.order_id}, {"items", std::move(out)}});
}

Response Handlers::release(const Request& req) {
  const std::string order_id(req.param("orderId"));
  const bool released = store_.release(order_id);
  // Also when this call found it released already: an earlier call may
  // have failed between its commit and its invalidation.
  cache_.invalidate(store_.reserved_products(order_id));
  return http::json_response(200, json::object{{"released", released}});
}

}  // namespace emporium::product
