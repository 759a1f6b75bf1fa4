-- Failed sign-ins per account (by email_key, known or not, so the answer
-- does not tell whether an account exists): the streak's attempts, until
-- when the account is backed off, and the last attempt (ms since the epoch).
-- A row goes on a successful sign-in and when stale.
CREATE TABLE sign_in_throttle (
  email_key TEXT PRIMARY KEY,
  failures BIGINT NOT NULL,
  blocked_until BIGINT NOT NULL,
  last_at BIGINT NOT NULL
);
CREATE INDEX sign_in_throttle_last ON sign_in_throttle (last_at);
