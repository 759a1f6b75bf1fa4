-- Orders whose lines were taken out of their user's cart: each order's
-- lines come out once, however often the order service asks.
CREATE TABLE cart_checkouts (
  order_id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL,
  applied_at TEXT NOT NULL
);
