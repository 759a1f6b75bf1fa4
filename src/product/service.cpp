#include "product/service.hpp"

#include <boost/json.hpp>
#include <cmath>

#include "bus/outbox.hpp"
#include "common/embedded.hpp"
#include "common/guards.hpp"
#include "core/ids.hpp"
#include "http/json.hpp"
#include "obs/log.hpp"
#include "product/cache.hpp"
#include "product/store.hpp"

namespace emporium::product {

namespace json = boost::json;
using http::Request;
using http::Response;

namespace {

std::optional<std::int64_t> query_money(const Request& req, std::string_view name,
                                        std::vector<http::FieldError>& errors) {
  auto raw = req.query_param(name);
  if (!raw) {
    return std::nullopt;
  }
  try {
    std::size_t used = 0;
    const double d = std::stod(std::string(*raw), &used);
    if (used == raw->size() && d >= 0 && d < 1e12) {
      return static_cast<std::int64_t>(std::llround(d * 100.0));
    }
  } catch (const std::exception&) {
  }
  errors.push_back({std::string(name), "Must be a non-negative number"});
  return std::nullopt;
}

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

// Loads the demo catalog into an empty store; returns how many products
// were added (0 when the catalog already has products).
int seed_demo(Store& store) {
  if (store.count() > 0) {
    return 0;
  }
  const auto files = embedded::demo_catalog();
  const auto catalog = json::parse(files.at(0).second).as_array();
  int added = 0;
  // Spread creation times so "newest first" has a stable, meaningful order.
  auto t = std::chrono::system_clock::now() - std::chrono::hours(24 * 60);
  for (const auto& item : catalog) {
    std::vector<http::FieldError> errors;
    auto in = read_product_input(item.as_object(), InputMode::create, errors);
    if (!errors.empty()) {
      throw std::runtime_error("demo catalog entry invalid: " + errors.front().field + " " +
                               errors.front().msg);
    }
    Product p;
    p.id = core::new_id();
    apply(in, p);
    t += std::chrono::hours(24);
    p.created_at = p.updated_at = core::to_iso8601(t);
    store.insert(p);
    ++added;
  }
  return added;
}

int seed(db::Database& database) {
  Store store(database);
  return seed_demo(store);
}

class ProductService final : public Service {
 public:
  explicit ProductService(ServiceContext& ctx)
      : store_(ctx.database()),
        tokens_(ctx.tokens),
        database_(ctx.database()),
        cache_(ctx.config, ctx.metrics),
        events_written_(ctx.events_written) {
    auto& r = ctx.routes;
    r.add_public("GET", "/api/products", [this](Request& req) { return list(req); });
    r.add_public("GET", "/api/products/categories", [this](Request&) { return categories(); });
    r.add_public("GET", "/api/products/{id}", [this](Request& req) { return get(req); });
    r.add_public(
        "POST", "/api/products",
        admin_only(tokens_, [this](Request& req, const auth::Identity&) { return create(req); }));
    r.add_public("PUT", "/api/products/{id}",
                 admin_only(tokens_, [this](Request& req, const auth::Identity&) {
                   return change(req, InputMode::replace);
                 }));
    r.add_public("PATCH", "/api/products/{id}",
                 admin_only(tokens_, [this](Request& req, const auth::Identity&) {
                   return change(req, InputMode::patch);
                 }));
    r.add_public(
        "DELETE", "/api/products/{id}",
        admin_only(tokens_, [this](Request& req, const auth::Identity&) { return remove(req); }));

    r.add_internal("POST", "/internal/products/lookup",
                   service_only(tokens_, [this](Request& req) { return lookup(req); }));
    r.add_internal("POST", "/internal/stock/reservations",
                   service_only(tokens_, [this](Request& req) { return reserve(req); }));
    r.add_internal("DELETE", "/internal/stock/reservations/{orderId}",
                   service_only(tokens_, [this](Request& req) { return release(req); }));

    if (ctx.config.boolean("demo_catalog")) {
      if (const int added = seed_demo(store_); added > 0) {
        obs::info("demo catalog loaded", {{"products", static_cast<std::int64_t>(added)}});
      }
    }
    // Entries a shared cache may hold from an earlier life of this catalog
    // (list pages; by-id entries expire after cache_ttl) are not trusted.
    cache_.invalidate({});
  }

 private:
  Response list(const Request& req) {
    std::vector<http::FieldError> errors;
    ListQuery q;
    const auto page_req = http::page_request(req, errors);
    q.page = page_req.page;
    q.limit = page_req.limit;
    if (auto c = req.query_param("category"); c && !c->empty()) {
      q.category = std::string(*c);
    }
    if (auto t = req.query_param("q"); t && !t->empty()) {
      if (t->size() > 200) {
        errors.push_back({"q", "Must be at most 200 characters"});
      }
      q.text = std::string(*t);
    }
    q.min_cents = query_money(req, "minPrice", errors);
    q.max_cents = query_money(req, "maxPrice", errors);
    if (auto s = req.query_param("sort"); s && !s->empty()) {
      if (auto sort = parse_sort(*s)) {
        q.sort = *sort;
      } else {
        errors.push_back({"sort", "Must be one of price, -price, name, -createdAt"});
      }
    }
    if (!errors.empty()) {
      return http::query_problem(std::move(errors));
    }
    return Response::json(200, cache_.collection(list_key(q), [&] {
      const auto page = store_.list(q);
      json::array items;
      for (const auto& p : page.items) {
        items.push_back(to_json(p));
      }
      return http::dump(json::object{{"products", std::move(items)},
                                     {"pagination", http::pagination(page_req, page.total)}});
    }));
  }

  Response categories() {
    return Response::json(200, cache_.collection("categories", [&] {
      json::array out;
      for (const auto& [name, count] : store_.categories()) {
        out.push_back(json::object{{"name", name}, {"count", count}});
      }
      return http::dump(json::object{{"categories", std::move(out)}});
    }));
  }

  Response get(const Request& req) {
    const std::string id(req.param("id"));
    auto body = cache_.product(id, [&]() -> std::optional<std::string> {
      auto p = store_.get(id);
      if (!p) {
        return std::nullopt;
      }
      return http::dump(to_json(*p));
    });
    if (!body) {
      return http::problem(404, "Product not found");
    }
    return Response::json(200, std::move(*body));
  }

  Response create(const Request& req) {
    auto body = http::parse_object(req.body);
    if (!body) {
      return http::problem(body.error());
    }
    std::vector<http::FieldError> errors;
    auto in = read_product_input(*body, InputMode::create, errors);
    if (!errors.empty()) {
      return http::problem(
          400, "Validation failed: " + errors.front().field + " " + errors.front().msg, errors);
    }
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

  Response change(const Request& req, InputMode mode) {
    auto body = http::parse_object(req.body);
    if (!body) {
      return http::problem(body.error());
    }
    std::vector<http::FieldError> errors;
    auto in = read_product_input(*body, mode, errors);
    if (!errors.empty()) {
      return http::problem(
          400, "Validation failed: " + errors.front().field + " " + errors.front().msg, errors);
    }
    auto p = store_.get(std::string(req.param("id")));
    if (!p) {
      return http::problem(404, "Product not found");
    }
    apply(in, *p);
    p->updated_at = core::now_iso8601();
    Finally invalidate([this, id = p->id] { cache_.invalidate({id}); });
    if (!store_.update(*p, in.stock)) {
      return http::problem(404, "Product not found");
    }
    auto fresh = store_.get(p->id);
    if (!fresh) {
      return http::problem(404, "Product not found");
    }
    return http::json_response(200, to_json(*fresh));
  }

  Response remove(const Request& req) {
    const std::string id(req.param("id"));
    Finally invalidate([this, &id] { cache_.invalidate({id}); });
    if (!store_.remove(id)) {
      return http::problem(404, "Product not found");
    }
    return http::json_response(200, json::object{{"message", "Product deleted"}});
  }

  Response lookup(const Request& req) {
    auto body = http::parse_object(req.body);
    if (!body) {
      return http::problem(body.error());
    }
    std::vector<std::string> ids;
    if (const auto* arr = body->if_contains("ids"); arr && arr->is_array()) {
      for (const auto& v : arr->get_array()) {
        if (v.is_string() && ids.size() < 1000) {
          ids.emplace_back(v.get_string());
        }
      }
    }
    json::array out;
    for (const auto& p : store_.get_many(ids)) {
      out.push_back(json::object{{"id", p.id},
                                 {"name", p.name},
                                 {"priceCents", p.price_cents},
                                 {"currency", p.currency},
                                 {"stock", p.stock}});
    }
    return http::json_response(200, json::object{{"products", std::move(out)}});
  }

  Response reserve(const Request& req) {
    auto body = http::parse_object(req.body);
    if (!body) {
      return http::problem(body.error());
    }
    const auto& o = *body;
    http::Fields f(o, {"orderId", "items"});
    auto order_id = f.string("orderId", 1, 64);
    std::vector<svc::Line> lines;
    const auto* items = o.if_contains("items");
    if (items == nullptr || !items->is_array() || items->get_array().empty()) {
      f.add_error("items", "Must be a non-empty array");
    } else {
      for (const auto& v : items->get_array()) {
        if (!v.is_object()) {
          f.add_error("items", "Must hold objects");
          break;
        }
        http::Fields line(v.get_object(), {"productId", "quantity"});
        auto id = line.string("productId", 1, 64);
        auto qty = line.integer("quantity", 1, 1'000'000);
        if (!line.ok()) {
          f.add_error("items", line.errors().front().field + " " + line.errors().front().msg);
          break;
        }
        lines.push_back({*id, *qty});
      }
    }
    if (!f.ok()) {
      return f.problem();
    }
    Finally invalidate([this, &lines] {
      std::vector<std::string> ids;
      for (const auto& l : lines) {
        ids.push_back(l.product_id);
      }
      cache_.invalidate(ids);
    });
    auto result = store_.reserve(*order_id, lines);
    events_written_();  // a stock.low event may have been written
    if (auto* shortage = std::get_if<svc::Shortage>(&result)) {
      auto res = http::problem(409, shortage->name.empty()
                                        ? "Product " + shortage->product_id + " not found"
                                        : "Insufficient stock for " + shortage->name);
      auto b = json::parse(res.body).as_object();
      b["productId"] = shortage->product_id;
      b["productName"] = shortage->name;
      b["available"] = shortage->available;
      b["requested"] = shortage->requested;
      res.body = http::dump(b);
      return res;
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
                               json::object{{"orderId", *order_id}, {"items", std::move(out)}});
  }

  Response release(const Request& req) {
    const std::string order_id(req.param("orderId"));
    const bool released = store_.release(order_id);
    // Also when this call found it released already: an earlier call may
    // have failed between its commit and its invalidation.
    cache_.invalidate(reserved_products(database_, order_id));
    return http::json_response(200, json::object{{"released", released}});
  }

  Store store_;
  const auth::Tokens& tokens_;
  db::Database& database_;
  ProductCache cache_;
  std::function<void()> events_written_;
};

}  // namespace

namespace {

std::vector<db::Migration> migrations() {
  auto m = db::migrations_from(embedded::product_migrations());
  m.push_back(bus::outbox_migration(3));
  return m;
}

std::unique_ptr<Service> mount(ServiceContext& ctx) {
  return std::make_unique<ProductService>(ctx);
}

}  // namespace

const ServiceModule& module() {
  static const ServiceModule m{.name = "product",
                               .default_listen = "0.0.0.0:3001",
                               .migrations = migrations,
                               .mount = mount,
                               .outbox = true,
                               .seed = seed};
  return m;
}

}  // namespace emporium::product
