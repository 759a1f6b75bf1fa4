-- One row per order that reserved stock. Its primary key makes concurrent
-- reservations of one order (a retry while the first is still running) wait
-- for each other, so the second sees the first's lines instead of taking
-- stock again.
CREATE TABLE stock_reservation_orders (
  order_id TEXT PRIMARY KEY,
  created_at TEXT NOT NULL
);
