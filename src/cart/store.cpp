#include "cart/store.hpp"

namespace emporium::cart {

namespace {

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
constexpr std::string_view kRecordCheckout =
    "INSERT INTO cart_checkouts (order_id, user_id, applied_at) VALUES ($1, $2, $3) "
    "ON CONFLICT (order_id) DO NOTHING";
constexpr std::string_view kPruneCheckouts = "DELETE FROM cart_checkouts WHERE applied_at < $1";

std::vector<Line> read_items(db::Connection& c, const std::string& user_id) {
  std::vector<Line> out;
  for (const auto& r : c.exec(kItems, {user_id}).rows) {
    out.push_back({.product_id = r.text(0), .quantity = r.integer(1)});
  }
  return out;
}

// The Writer on one connection inside an open transaction.
class SqlWriter final : public Writer {
 public:
  explicit SqlWriter(db::Connection& c) : c_(c) {}

  bool insert_cart(const std::string& user_id, const std::string& now) override {
    return c_.exec(kInsertCart, {user_id, now}).affected == 1;
  }
  void touch_cart(const std::string& user_id, const std::string& now) override {
    c_.exec(kTouchCart, {user_id, now});
  }
  std::optional<std::int64_t> item_quantity(const std::string& user_id,
                                            const std::string& product_id) override {
    auto rows = c_.exec(kItemQuantity, {user_id, product_id}).rows;
    if (rows.empty()) {
      return std::nullopt;
    }
    return rows[0].integer(0);
  }
  void insert_item(const std::string& user_id, const std::string& product_id, std::int64_t quantity,
                   const std::string& now) override {
    c_.exec(kInsertItem, {user_id, product_id, quantity, now});
  }
  void set_item(const std::string& user_id, const std::string& product_id,
                std::int64_t quantity) override {
    c_.exec(kSetItem, {user_id, product_id, quantity});
  }
  bool delete_item(const std::string& user_id, const std::string& product_id) override {
    return c_.exec(kDeleteItem, {user_id, product_id}).affected != 0;
  }
  void clear(const std::string& user_id) override { c_.exec(kClear, {user_id}); }
  bool record_checkout(const std::string& order_id, const std::string& user_id,
                       const std::string& now) override {
    return c_.exec(kRecordCheckout, {order_id, user_id, now}).affected != 0;
  }

 private:
  db::Connection& c_;
};

}  // namespace

std::vector<Line> SqlStore::items(const std::string& user_id) {
  auto c = db_.acquire();
  return read_items(*c, user_id);
}

StoredCart SqlStore::cart(const std::string& user_id) {
  auto c = db_.acquire();
  StoredCart out{.lines = read_items(*c, user_id), .updated_at = std::nullopt};
  if (auto rows = c->exec(kCartUpdatedAt, {user_id}).rows; !rows.empty()) {
    out.updated_at = rows[0].text(0);
  }
  return out;
}

void SqlStore::write(const std::function<bool(Writer&)>& body) {
  auto c = db_.acquire();
  db::Transaction tx(*c, true);
  SqlWriter w(*c);
  if (body(w)) {
    tx.commit();
  }
}

std::int64_t SqlStore::prune_checkouts(const std::string& before) {
  auto c = db_.acquire();
  return c->exec(kPruneCheckouts, {before}).affected;
}

}  // namespace emporium::cart
