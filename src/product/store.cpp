#include "product/store.hpp"

#include <boost/json.hpp>
#include <cctype>

#include "bus/outbox.hpp"
#include "core/ids.hpp"
#include "http/json.hpp"

namespace emporium::product {

namespace {

#define EMPORIUM_PRODUCT_FILTER                                       \
  " WHERE (CAST($1 AS TEXT) IS NULL OR category = $1)"                \
  " AND (CAST($2 AS TEXT) IS NULL OR lower(name) LIKE $2 ESCAPE '\\'" \
  "      OR lower(description) LIKE $2 ESCAPE '\\')"                  \
  " AND (CAST($3 AS BIGINT) IS NULL OR price_cents >= $3)"            \
  " AND (CAST($4 AS BIGINT) IS NULL OR price_cents <= $4)"

constexpr std::string_view kListByPrice =
    "SELECT id, name, description, price_cents, currency, category, stock, image_url, created_at, "
    "updated_at FROM products" EMPORIUM_PRODUCT_FILTER
    " ORDER BY price_cents ASC, id ASC LIMIT $5 OFFSET $6";
constexpr std::string_view kListByPriceDesc =
    "SELECT id, name, description, price_cents, currency, category, stock, image_url, created_at, "
    "updated_at FROM products" EMPORIUM_PRODUCT_FILTER
    " ORDER BY price_cents DESC, id ASC LIMIT $5 OFFSET $6";
constexpr std::string_view kListByName =
    "SELECT id, name, description, price_cents, currency, category, stock, image_url, created_at, "
    "updated_at FROM products" EMPORIUM_PRODUCT_FILTER
    " ORDER BY lower(name) ASC, id ASC LIMIT $5 OFFSET $6";
constexpr std::string_view kListNewest =
    "SELECT id, name, description, price_cents, currency, category, stock, image_url, created_at, "
    "updated_at FROM products" EMPORIUM_PRODUCT_FILTER
    " ORDER BY created_at DESC, id DESC LIMIT $5 OFFSET $6";
constexpr std::string_view kCount = "SELECT count(*) FROM products" EMPORIUM_PRODUCT_FILTER;

#undef EMPORIUM_PRODUCT_FILTER

constexpr std::string_view kGet =
    "SELECT id, name, description, price_cents, currency, category, stock, image_url, created_at, "
    "updated_at FROM products WHERE id = $1";
constexpr std::string_view kCategories =
    "SELECT category, count(*) FROM products GROUP BY category ORDER BY category";
constexpr std::string_view kInsert =
    "INSERT INTO products (id, name, description, price_cents, currency, category, stock, "
    "image_url, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)";
// Stock is written only when given ($7 not NULL): an edit of other fields
// must not put back a stock level read before concurrent sales.
constexpr std::string_view kUpdate =
    "UPDATE products SET name = $2, description = $3, price_cents = $4, currency = $5, "
    "category = $6, stock = COALESCE(CAST($7 AS BIGINT), stock), image_url = $8, updated_at = $9 "
    "WHERE id = $1";
constexpr std::string_view kDelete = "DELETE FROM products WHERE id = $1";
constexpr std::string_view kCountAll = "SELECT count(*) FROM products";

constexpr std::string_view kStockOf = "SELECT stock FROM products WHERE id = $1";
constexpr std::string_view kClaimOrder =
    "INSERT INTO stock_reservation_orders (order_id, created_at) VALUES ($1, $2) "
    "ON CONFLICT (order_id) DO NOTHING";
constexpr std::string_view kFindReservation =
    "SELECT product_id, name, currency, price_cents, quantity FROM stock_reservations "
    "WHERE order_id = $1 ORDER BY product_id";
constexpr std::string_view kTakeStock =
    "UPDATE products SET stock = stock - $2, updated_at = $3 WHERE id = $1 AND stock >= $2";
constexpr std::string_view kRecordReservation =
    "INSERT INTO stock_reservations (order_id, product_id, name, price_cents, currency, quantity, "
    "created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)";
constexpr std::string_view kMarkReleased =
    "UPDATE stock_reservations SET released_at = $2 WHERE order_id = $1 AND released_at IS NULL";
constexpr std::string_view kReturnStock =
    "UPDATE products SET stock = stock + $2, updated_at = $3 WHERE id = $1";
constexpr std::string_view kReservedProducts =
    "SELECT DISTINCT product_id FROM stock_reservations WHERE order_id = $1";

db::Value opt(const std::optional<std::string>& v) {
  return v ? db::Value(*v) : db::Value(nullptr);
}
db::Value opt(const std::optional<std::int64_t>& v) {
  return v ? db::Value(*v) : db::Value(nullptr);
}

Product from_row(const db::Row& r) {
  Product p;
  p.id = r.text(0);
  p.name = r.text(1);
  p.description = r.text(2);
  p.price_cents = r.integer(3);
  p.currency = r.text(4);
  p.category = r.text(5);
  p.stock = r.integer(6);
  if (!r.is_null(7)) {
    p.image_url = r.text(7);
  }
  p.created_at = r.text(8);
  p.updated_at = r.text(9);
  return p;
}

std::string like_pattern(const std::string& text) {
  std::string out = "%";
  for (char c : text) {
    if (c == '%' || c == '_' || c == '\\') {
      out += '\\';
    }
    out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  out += '%';
  return out;
}

// Takes `qty` of product `id` for the order, within the caller's
// transaction; announces stock.low when the sale crosses the threshold.
std::variant<svc::ReservedLine, svc::Shortage> take_stock(db::Connection& c,
                                                          const std::string& order_id,
                                                          const std::string& id, std::int64_t qty,
                                                          const std::string& now) {
  auto rows = c.exec(kGet, {id}).rows;
  if (rows.empty()) {
    return svc::Shortage{id, "", 0, qty};
  }
  const auto p = from_row(rows[0]);
  if (c.exec(kTakeStock, {id, qty, now}).affected == 0) {
    return svc::Shortage{id, p.name, p.stock, qty};
  }
  // p.stock was read before the decrement, under the same write lock
  // (SQLite) or row lock (PostgreSQL: the UPDATE waited for it), so
  // crossing the threshold is announced once.
  const auto left = c.exec(kStockOf, {id}).rows.at(0).integer(0);
  if (crossed_low_stock(left, qty)) {
    bus::add_event(
        c, bus::make_event(bus::types::product_stock_low,
                           http::dump(boost::json::object{{"product_id", id},
                                                          {"name", p.name},
                                                          {"stock", left},
                                                          {"threshold", kLowStockThreshold}})));
  }
  c.exec(kRecordReservation, {order_id, id, p.name, p.price_cents, p.currency, qty, now});
  return svc::ReservedLine{id, p.name, p.currency, p.price_cents, qty};
}

}  // namespace

Page SqlStore::list(const ListQuery& q) {
  std::string_view sql = kListNewest;
  switch (q.sort) {
    case Sort::price_asc:
      sql = kListByPrice;
      break;
    case Sort::price_desc:
      sql = kListByPriceDesc;
      break;
    case Sort::name_asc:
      sql = kListByName;
      break;
    case Sort::newest:
      sql = kListNewest;
      break;
  }
  const std::optional<std::string> pattern =
      q.text ? std::optional<std::string>(like_pattern(*q.text)) : std::nullopt;
  std::vector<db::Value> filter{opt(q.category), opt(pattern), opt(q.min_cents), opt(q.max_cents)};
  auto c = db_.acquire();
  Page page;
  page.total = c->exec(kCount, filter).rows.at(0).integer(0);
  filter.emplace_back(q.limit);
  filter.emplace_back((q.page - 1) * q.limit);
  for (const auto& row : c->exec(sql, filter).rows) {
    page.items.push_back(from_row(row));
  }
  return page;
}

std::optional<Product> SqlStore::get(const std::string& id) {
  auto c = db_.acquire();
  auto rows = c->exec(kGet, {id}).rows;
  if (rows.empty()) {
    return std::nullopt;
  }
  return from_row(rows[0]);
}

std::vector<Product> SqlStore::get_many(const std::vector<std::string>& ids) {
  std::vector<Product> out;
  auto c = db_.acquire();
  for (const auto& id : ids) {
    auto rows = c->exec(kGet, {id}).rows;
    if (!rows.empty()) {
      out.push_back(from_row(rows[0]));
    }
  }
  return out;
}

std::vector<CategoryCount> SqlStore::categories() {
  auto c = db_.acquire();
  std::vector<CategoryCount> out;
  for (const auto& row : c->exec(kCategories).rows) {
    out.emplace_back(row.text(0), row.integer(1));
  }
  return out;
}

void SqlStore::insert(const Product& p) {
  auto c = db_.acquire();
  c->exec(kInsert, {p.id, p.name, p.description, p.price_cents, p.currency, p.category, p.stock,
                    opt(p.image_url), p.created_at, p.updated_at});
}

bool SqlStore::update(const Product& p, std::optional<std::int64_t> stock) {
  auto c = db_.acquire();
  return c->exec(kUpdate, {p.id, p.name, p.description, p.price_cents, p.currency, p.category,
                           opt(stock), opt(p.image_url), p.updated_at})
             .affected > 0;
}

bool SqlStore::remove(const std::string& id) {
  auto c = db_.acquire();
  return c->exec(kDelete, {id}).affected > 0;
}

std::int64_t SqlStore::count() {
  auto c = db_.acquire();
  return c->exec(kCountAll).rows.at(0).integer(0);
}

Reservation SqlStore::reserve(const std::string& order_id, const std::vector<svc::Line>& lines) {
  // Repeated products are checked against their total.
  const auto wanted = merge_lines(lines);
  auto c = db_.acquire();
  db::Transaction tx(*c, true);
  c->exec(kClaimOrder, {order_id, core::now_iso8601()});
  auto existing = c->exec(kFindReservation, {order_id}).rows;
  std::vector<svc::ReservedLine> out;
  if (!existing.empty()) {
    for (const auto& r : existing) {
      out.push_back({r.text(0), r.text(1), r.text(2), r.integer(3), r.integer(4)});
    }
    return out;
  }
  const auto now = core::now_iso8601();
  for (const auto& [id, qty] : wanted) {
    auto taken = take_stock(*c, order_id, id, qty, now);
    if (auto* shortage = std::get_if<svc::Shortage>(&taken)) {
      return std::move(*shortage);  // tx rolls back
    }
    out.push_back(std::move(std::get<svc::ReservedLine>(taken)));
  }
  tx.commit();
  return out;
}

bool SqlStore::release(const std::string& order_id) {
  auto c = db_.acquire();
  db::Transaction tx(*c, true);
  const auto now = core::now_iso8601();
  if (c->exec(kMarkReleased, {order_id, now}).affected == 0) {
    return false;  // nothing reserved, or already given back
  }
  for (const auto& r : c->exec(kFindReservation, {order_id}).rows) {
    c->exec(kReturnStock, {r.text(0), r.integer(4), now});
  }
  tx.commit();
  return true;
}

std::vector<std::string> SqlStore::reserved_products(const std::string& order_id) {
  std::vector<std::string> out;
  auto c = db_.acquire();
  for (const auto& row : c->exec(kReservedProducts, {order_id}).rows) {
    out.push_back(row.text(0));
  }
  return out;
}

}  // namespace emporium::product
