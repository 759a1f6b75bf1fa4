-- The pruning of old checkouts (cart_checkout_retention) finds them by age.
CREATE INDEX cart_checkouts_applied_at ON cart_checkouts (applied_at);
