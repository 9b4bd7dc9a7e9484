-- The operator API (/api/v1): its keys, its idempotency records, and the
-- one-time portal links it hands to the seller's application.

-- A key is shown once; only its SHA-256 is kept (keys are 32 random bytes,
-- so a fast hash is enough), with a prefix to recognise it in a list.
CREATE TABLE api_keys (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL,
  prefix TEXT NOT NULL,
  key_hash TEXT NOT NULL UNIQUE,
  created_at TEXT NOT NULL,
  last_used_at TEXT,
  revoked_at TEXT
);

-- A write's Idempotency-Key: the request's hash and, once answered, the
-- answer, replayed for the same key and body.
CREATE TABLE api_requests (
  api_key_id BIGINT NOT NULL REFERENCES api_keys(id),
  idempotency_key TEXT NOT NULL,
  request_hash TEXT NOT NULL,
  status INTEGER,
  body TEXT,
  created_at TEXT NOT NULL,
  PRIMARY KEY (api_key_id, idempotency_key)
);

-- A portal link signs one user in, once, within minutes of its creation.
CREATE TABLE portal_links (
  token_hash TEXT PRIMARY KEY,
  user_id BIGINT NOT NULL REFERENCES users(id),
  return_url TEXT,
  created_at TEXT NOT NULL,
  expires_at TEXT NOT NULL,
  used_at TEXT
);

-- Where "Back to the application" leads from a session a link opened.
ALTER TABLE sessions ADD COLUMN return_url TEXT;

-- The billing address and the seller application's own id of an account.
ALTER TABLE accounts ADD COLUMN address_line1 TEXT NOT NULL DEFAULT '';
ALTER TABLE accounts ADD COLUMN address_line2 TEXT NOT NULL DEFAULT '';
ALTER TABLE accounts ADD COLUMN postcode TEXT NOT NULL DEFAULT '';
ALTER TABLE accounts ADD COLUMN city TEXT NOT NULL DEFAULT '';
ALTER TABLE accounts ADD COLUMN external_id TEXT;
CREATE UNIQUE INDEX accounts_external_id ON accounts (external_id)
  WHERE external_id IS NOT NULL;
CREATE INDEX accounts_name ON accounts (name);
