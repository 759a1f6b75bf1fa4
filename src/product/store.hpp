#pragma once

#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "db/db.hpp"
#include "product/domain.hpp"
#include "svc/clients.hpp"

namespace emporium::product {

struct ListQuery {
  std::optional<std::string> category;
  std::optional<std::string> text;  // matched in name or description, case-insensitive
  std::optional<std::int64_t> min_cents;
  std::optional<std::int64_t> max_cents;
  Sort sort = Sort::newest;
  std::int64_t page = 1;
  std::int64_t limit = 20;
};

struct Page {
  std::vector<Product> items;
  std::int64_t total = 0;
};

// The product service's storage. SQL is portable between SQLite and
// PostgreSQL ($N parameters, CAST for typed NULL checks). Throws db::DbError.
class Store {
 public:
  explicit Store(db::Database& db) : db_(db) {}

  Page list(const ListQuery& q);
  std::optional<Product> get(const std::string& id);
  std::vector<std::pair<std::string, std::int64_t>> categories();
  void insert(const Product& p);
  // Writes p's fields, and the stock only when `stock` is set. Returns false
  // when no such product.
  bool update(const Product& p, std::optional<std::int64_t> stock);
  bool remove(const std::string& id);
  std::vector<Product> get_many(const std::vector<std::string>& ids);
  std::int64_t count();

  // Reserves every line in one transaction or none. Idempotent per order id.
  std::variant<std::vector<svc::ReservedLine>, svc::Shortage> reserve(
      const std::string& order_id, const std::vector<svc::Line>& lines);
  // Gives back an order's stock once; returns true if this call released it.
  bool release(const std::string& order_id);

 private:
  db::Database& db_;
};

}  // namespace emporium::product
