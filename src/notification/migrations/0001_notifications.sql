-- One row per event that asked for an email, keyed by the event id, so that
-- an event delivered twice sends one email. A delivery claims the row
-- ('sending', claimed_until in the future, in Unix milliseconds) before it
-- sends and marks it 'sent' after; a failed send releases the claim
-- (claimed_until 0) and keeps last_error. A claim left by a crashed process
-- expires at claimed_until.
CREATE TABLE sent_emails (
  event_id TEXT PRIMARY KEY,
  kind TEXT NOT NULL,
  recipient TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('sending', 'sent')),
  attempts BIGINT NOT NULL DEFAULT 0,
  claimed_until BIGINT NOT NULL DEFAULT 0,
  last_error TEXT,
  updated_at TEXT NOT NULL
);
