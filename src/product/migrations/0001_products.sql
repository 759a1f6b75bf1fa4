CREATE TABLE products (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  description TEXT NOT NULL DEFAULT '',
  price_cents BIGINT NOT NULL CHECK (price_cents >= 0),
  currency TEXT NOT NULL DEFAULT 'USD',
  category TEXT NOT NULL,
  stock BIGINT NOT NULL CHECK (stock >= 0),
  image_url TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX products_category ON products (category);
CREATE INDEX products_price ON products (price_cents);
CREATE INDEX products_created ON products (created_at);

-- Stock taken by an order; released_at is set once when it is given back.
CREATE TABLE stock_reservations (
  order_id TEXT NOT NULL,
  product_id TEXT NOT NULL,
  name TEXT NOT NULL,
  price_cents BIGINT NOT NULL,
  currency TEXT NOT NULL,
  quantity BIGINT NOT NULL CHECK (quantity > 0),
  created_at TEXT NOT NULL,
  released_at TEXT,
  PRIMARY KEY (order_id, product_id)
);
