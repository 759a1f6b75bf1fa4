#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "db/db.hpp"
#include "product/domain.hpp"
#include "svc/clients.hpp"

namespace emporium::product {

// One page of a catalog listing, and how many products match in all.
struct Page {
  std::vector<Product> items;
  std::int64_t total = 0;
};

// A category and how many products it holds.
using CategoryCount = std::pair<std::string, std::int64_t>;

// What a reservation took, line by line, or the first line it could not
// cover (then it took nothing).
using Reservation = std::variant<std::vector<svc::ReservedLine>, svc::Shortage>;

// The product service's repository: the catalog and its stock
// reservations. Implementations throw (db::DbError for SqlStore) only when
// storage is broken.
class Store {
 public:
  virtual ~Store() = default;

  // The page `q` asks for, in its sort order (ties by id).
  virtual Page list(const ListQuery& q) = 0;
  virtual std::optional<Product> get(const std::string& id) = 0;
  // Every category, by name.
  virtual std::vector<CategoryCount> categories() = 0;
  virtual void insert(const Product& p) = 0;
  // Writes p's fields, and the stock only when `stock` is set. Returns false
  // when no such product.
  virtual bool update(const Product& p, std::optional<std::int64_t> stock) = 0;
  // Returns false when no such product.
  virtual bool remove(const std::string& id) = 0;
  // The products that exist among `ids`, in the order of `ids`.
  virtual std::vector<Product> get_many(const std::vector<std::string>& ids) = 0;
  // How many products there are.
  virtual std::int64_t count() = 0;

  // Reserves every line in one transaction or none. Idempotent per order id:
  // a second call returns the first call's lines and takes nothing. A sale
  // that crosses the low-stock threshold adds a stock.low outbox event.
  virtual Reservation reserve(const std::string& order_id, const std::vector<svc::Line>& lines) = 0;
  // Gives back an order's stock once; returns true if this call released it.
  virtual bool release(const std::string& order_id) = 0;
  // The products whose stock an order's reservation took (released or not).
  virtual std::vector<std::string> reserved_products(const std::string& order_id) = 0;
};

// The Store on SQLite or PostgreSQL. The SQL is portable between them ($N
// parameters, CAST for typed NULL checks).
class SqlStore final : public Store {
 public:
  explicit SqlStore(db::Database& db) : db_(db) {}

  Page list(const ListQuery& q) override;
  std::optional<Product> get(const std::string& id) override;
  std::vector<CategoryCount> categories() override;
  void insert(const Product& p) override;
  bool update(const Product& p, std::optional<std::int64_t> stock) override;
  bool remove(const std::string& id) override;
  std::vector<Product> get_many(const std::vector<std::string>& ids) override;
  std::int64_t count() override;
  Reservation reserve(const std::string& order_id, const std::vector<svc::Line>& lines) override;
  bool release(const std::string& order_id) override;
  std::vector<std::string> reserved_products(const std::string& order_id) override;

 private:
  db::Database& db_;
};

}  // namespace emporium::product
