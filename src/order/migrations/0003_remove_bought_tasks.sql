-- A third task kind: taking what an order bought out of the cart (once per
-- order), instead of emptying the whole cart. The CHECK constraint widens by
-- rebuilding the table, which both SQLite and PostgreSQL do alike.
CREATE TABLE order_tasks_next (
  id TEXT PRIMARY KEY,
  kind TEXT NOT NULL CHECK (kind IN ('clear_cart', 'release_stock', 'remove_bought')),
  subject TEXT NOT NULL,
  attempts BIGINT NOT NULL DEFAULT 0,
  next_attempt_at BIGINT NOT NULL,
  last_error TEXT,
  created_at TEXT NOT NULL,
  done_at TEXT
);
INSERT INTO order_tasks_next (id, kind, subject, attempts, next_attempt_at, last_error, created_at,
                              done_at)
  SELECT id, kind, subject, attempts, next_attempt_at, last_error, created_at, done_at
  FROM order_tasks;
DROP TABLE order_tasks;
ALTER TABLE order_tasks_next RENAME TO order_tasks;
CREATE INDEX order_tasks_due ON order_tasks (done_at, next_attempt_at);
