#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "cart/domain.hpp"
#include "db/db.hpp"

namespace emporium::cart {

// A cart as stored: its lines in the order they were added, and when it
// last changed (nullopt for a user who never had a cart).
struct StoredCart {
  std::vector<Line> lines;
  std::optional<std::string> updated_at;
};

// The statements of one write transaction on carts (see Store::write).
// Timestamps are ISO 8601 text. Each throws db::DbError on a database fault.
class Writer {
 public:
  virtual ~Writer() = default;

  // Creates the user's cart, stamped `now`; false when it existed already.
  virtual bool insert_cart(const std::string& user_id, const std::string& now) = 0;
  // Stamps the user's cart `now`; nothing when there is no cart.
  virtual void touch_cart(const std::string& user_id, const std::string& now) = 0;
  // How many of the product the cart holds; nullopt when it is not in it.
  virtual std::optional<std::int64_t> item_quantity(const std::string& user_id,
                                                    const std::string& product_id) = 0;
  // Adds a line (the cart exists and has no line for the product), added `now`.
  virtual void insert_item(const std::string& user_id, const std::string& product_id,
                           std::int64_t quantity, const std::string& now) = 0;
  // Changes the quantity of an existing line, keeping its place.
  virtual void set_item(const std::string& user_id, const std::string& product_id,
                        std::int64_t quantity) = 0;
  // Removes the line; false when there was none.
  virtual bool delete_item(const std::string& user_id, const std::string& product_id) = 0;
  // Removes every line of the cart (the cart itself stays).
  virtual void clear(const std::string& user_id) = 0;
  // Notes that order `order_id`'s lines came out of `user_id`'s cart; false
  // when they had already.
  virtual bool record_checkout(const std::string& order_id, const std::string& user_id,
                               const std::string& now) = 0;
};

// The cart service's repository.
class Store {
 public:
  virtual ~Store() = default;

  // The cart's lines, oldest first (ties by product id); empty without a cart.
  virtual std::vector<Line> items(const std::string& user_id) = 0;
  // The cart's lines (as items) and its updated_at, read together.
  virtual StoredCart cart(const std::string& user_id) = 0;
  // Runs `body` in one write transaction: committed when it returns true,
  // rolled back when it returns false or throws (the exception propagates).
  virtual void write(const std::function<bool(Writer&)>& body) = 0;
  // Forgets the checkouts (see Writer::record_checkout) applied before
  // `before` (ISO 8601); returns how many. Throws db::DbError on a fault.
  virtual std::int64_t prune_checkouts(const std::string& before) = 0;
};

// The Store on the service's SQL database (SQLite or PostgreSQL).
class SqlStore final : public Store {
 public:
  explicit SqlStore(db::Database& db) : db_(db) {}

  std::vector<Line> items(const std::string& user_id) override;
  StoredCart cart(const std::string& user_id) override;
  void write(const std::function<bool(Writer&)>& body) override;
  std::int64_t prune_checkouts(const std::string& before) override;

 private:
  db::Database& db_;
};

}  // namespace emporium::cart
