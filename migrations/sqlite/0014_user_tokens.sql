-- One-time tokens sent by email: a password reset (1 hour) or an
-- invitation (24 hours). Only the token's SHA-256 is kept; a token is used
-- once (used_at).
CREATE TABLE user_tokens (
  token_hash TEXT PRIMARY KEY,
  user_id BIGINT NOT NULL REFERENCES users(id),
  purpose TEXT NOT NULL CHECK (purpose IN ('reset', 'invite')),
  created_at TEXT NOT NULL,
  expires_at TEXT NOT NULL,
  used_at TEXT
);
CREATE INDEX user_tokens_user ON user_tokens (user_id);

-- Rate limits counted in one statement per hit (an upsert), so parallel
-- requests each get their own count: hits of `key` in the window that
-- started at window_start.
CREATE TABLE rate_limits (
  key TEXT PRIMARY KEY,
  window_start TEXT NOT NULL,
  hits BIGINT NOT NULL
);

-- Replaced by rate_limits.
DROP TABLE login_attempts;

-- The walking skeleton's open "start free trial" counter is gone: trials
-- start from the billing page or the operator API.
DROP TABLE trial_requests;
