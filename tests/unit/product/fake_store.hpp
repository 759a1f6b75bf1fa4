#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "product/store.hpp"

namespace emporium::product::testing {

// An in-memory Store with the SqlStore's answers: filters, sort orders,
// paging, all-or-nothing reservations (idempotent per order) and a release
// that gives stock back once. Its state is public for tests to check.
class FakeStore final : public Store {
 public:
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

  // Adds a product with the given stock and price; returns it.
  Product add(std::string id, std::string name, std::int64_t price_cents, std::int64_t stock,
              std::string category = "Home");

  std::map<std::string, Product> products;
  std::map<std::string, std::vector<svc::ReservedLine>> reservations;  // by order id
  std::set<std::string> released;                                      // order ids
  int low_stock_events = 0;
  int reads = 0;  // calls of get() and list(), to see the cache at work
};

}  // namespace emporium::product::testing
