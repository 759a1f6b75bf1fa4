CREATE TABLE carts (
  user_id TEXT PRIMARY KEY,
  updated_at TEXT NOT NULL
);

CREATE TABLE cart_items (
  user_id TEXT NOT NULL REFERENCES carts (user_id) ON DELETE CASCADE,
  product_id TEXT NOT NULL,
  quantity BIGINT NOT NULL CHECK (quantity > 0 AND quantity <= 1000),
  added_at TEXT NOT NULL,
  PRIMARY KEY (user_id, product_id)
);
