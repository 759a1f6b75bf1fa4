#include "backup/bulk_seed.hpp"

#include <algorithm>
#include <random>
#include <vector>

#include "auth/auth.hpp"
#include "core/ids.hpp"

namespace emporium::backup {

namespace {

constexpr std::int64_t kBatch = 2'000;

constexpr std::string_view kInsertProduct =
    "INSERT INTO products (id, name, description, price_cents, currency, category, stock,"
    " created_at, updated_at) VALUES ($1, $2, $3, $4, 'USD', $5, $6, $7, $7)";
constexpr std::string_view kInsertUser =
    "INSERT INTO users (id, email, email_key, name, password_hash, role, created_at, updated_at)"
    " VALUES ($1, $2, $2, $3, $4, 'customer', $5, $5)";
constexpr std::string_view kInsertOrder =
    "INSERT INTO orders (id, user_id, status, total_cents, currency, shipping_address,"
    " idempotency_key, created_at, updated_at) VALUES ($1, $2, 'delivered', $3, 'USD', $4, NULL,"
    " $5, $5)";
constexpr std::string_view kInsertItem =
    "INSERT INTO order_items (order_id, product_id, product_name, quantity, price_cents)"
    " VALUES ($1, $2, $3, $4, $5)";
constexpr std::string_view kInsertReservation =
    "INSERT INTO stock_reservations (order_id, product_id, name, price_cents, currency, quantity,"
    " created_at) VALUES ($1, $2, $3, $4, 'USD', $5, $6)";
constexpr std::string_view kInsertReservationOrder =
    "INSERT INTO stock_reservation_orders (order_id, created_at) VALUES ($1, $2)";
constexpr std::string_view kTakeStock = "UPDATE products SET stock = stock - $1 WHERE id = $2";
constexpr std::string_view kAddress =
    R"({"street":"1 Seed St","city":"Springfield","state":"IL","zipCode":"62701","country":"US"})";

struct Product {
  std::string id;
  std::string name;
  std::int64_t price_cents;
  std::int64_t taken = 0;
};

std::vector<Product> add_products(const BulkSeed& s, db::Database& database) {
  std::vector<Product> out;
  const auto now = core::now_iso8601();
  for (std::int64_t i = 0; i < s.products; i += kBatch) {
    auto c = database.acquire();
    db::Transaction tx(*c);
    for (std::int64_t j = i; j < std::min(i + kBatch, s.products); ++j) {
      Product p{core::new_id(), "Seeded item " + std::to_string(j + 1), 199 + (j * 37) % 9'800};
      c->exec(kInsertProduct, {p.id, p.name, std::string("Synthetic product for drills"),
                               p.price_cents, "Category " + std::to_string(j % 20), s.stock, now});
      out.push_back(std::move(p));
    }
    tx.commit();
    s.progress("seed: " + std::to_string(out.size()) + " products");
  }
  return out;
}

std::vector<std::string> add_users(const BulkSeed& s, db::Database& database) {
  const auto hash = auth::hash_password(s.password);
  const auto now = core::now_iso8601();
  const auto run = core::new_id().substr(0, 6);  // so that a second run adds new accounts
  std::vector<std::string> ids;
  auto c = database.acquire();
  db::Transaction tx(*c);
  for (std::int64_t i = 0; i < s.users; ++i) {
    ids.push_back(core::new_id());
    c->exec(kInsertUser, {ids.back(), "bulk-" + run + "-" + std::to_string(i + 1) + "@seed.example",
                          "Seeded customer " + std::to_string(i + 1), hash, now});
  }
  tx.commit();
  s.progress("seed: " + std::to_string(ids.size()) + " customers, bulk-" + run +
             "-1@seed.example to bulk-" + run + "-" + std::to_string(ids.size()) + "@seed.example");
  return ids;
}

// One batch of orders: the orders and their items, then their reservations.
void add_order_batch(std::int64_t first, std::int64_t last, std::vector<Product>& products,
                     const std::vector<std::string>& users, db::Connection& order,
                     db::Connection& product, BulkSeedCount& count) {
  std::mt19937_64 rng(static_cast<std::uint64_t>(first));
  const auto now = core::now_iso8601();
  for (std::int64_t n = first; n < last; ++n) {
    const auto id = core::new_id();
    const auto lines = 1 + static_cast<std::int64_t>(rng() % 3);
    std::vector<std::size_t> picked;
    std::int64_t total = 0;
    for (std::int64_t l = 0; l < lines; ++l) {
      const std::size_t i = rng() % products.size();
      if (std::find(picked.begin(), picked.end(), i) == picked.end()) {
        picked.push_back(i);
      }
    }
    const auto qty = 1 + static_cast<std::int64_t>(rng() % 3);
    for (auto i : picked) {
      total += products[i].price_cents * qty;
    }
    order.exec(kInsertOrder, {id, users[static_cast<std::size_t>(n) % users.size()], total,
                              std::string(kAddress), now});
    product.exec(kInsertReservationOrder, {id, now});
    for (auto i : picked) {
      auto& p = products[i];
      order.exec(kInsertItem, {id, p.id, p.name, qty, p.price_cents});
      product.exec(kInsertReservation, {id, p.id, p.name, p.price_cents, qty, now});
      p.taken += qty;
      ++count.items;
    }
    ++count.orders;
  }
}

}  // namespace

BulkSeedCount bulk_seed(const BulkSeed& s, db::Database& product, db::Database& user,
                        db::Database& order) {
  BulkSeedCount count;
  auto products = add_products(s, product);
  count.products = static_cast<std::int64_t>(products.size());
  const auto users = add_users(s, user);
  count.users = static_cast<std::int64_t>(users.size());
  if (products.empty() || users.empty()) {
    return count;
  }
  for (std::int64_t i = 0; i < s.orders; i += kBatch) {
    auto oc = order.acquire();
    auto pc = product.acquire();
    db::Transaction otx(*oc);
    db::Transaction ptx(*pc);
    add_order_batch(i, std::min(i + kBatch, s.orders), products, users, *oc, *pc, count);
    ptx.commit();
    otx.commit();
    if ((i / kBatch) % 10 == 9 || i + kBatch >= s.orders) {
      s.progress("seed: " + std::to_string(count.orders) + " orders");
    }
  }
  auto c = product.acquire();
  db::Transaction tx(*c);
  for (const auto& p : products) {
    if (p.taken > 0) {
      c->exec(kTakeStock, {p.taken, p.id});
    }
  }
  tx.commit();
  return count;
}

}  // namespace emporium::backup
