-- Revoked sessions (refresh-token families): access tokens carrying one of
-- these `sid`s are refused until `expires_at` (unix seconds), when none can
-- be valid any more. `revoked_at_ms` orders them for the processes that poll
-- GET /internal/sessions/revoked (docs/sessions.md).
CREATE TABLE session_revocations (
  sid TEXT PRIMARY KEY,
  expires_at BIGINT NOT NULL,
  revoked_at_ms BIGINT NOT NULL
);
CREATE INDEX session_revocations_revoked ON session_revocations (revoked_at_ms);
CREATE INDEX session_revocations_expires ON session_revocations (expires_at);
