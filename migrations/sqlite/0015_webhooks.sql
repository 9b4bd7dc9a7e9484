-- Outgoing webhooks: the seller's endpoints, the events written in the
-- transaction of the change they announce, and one delivery per event and
-- endpoint subscribed to it when it happened.

-- The secret signs deliveries (Standard Webhooks), so it is kept as is.
CREATE TABLE webhook_endpoints (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  url TEXT NOT NULL,
  secret TEXT NOT NULL,
  -- '*' or the event types, comma-separated.
  events TEXT NOT NULL,
  created_at TEXT NOT NULL,
  disabled_at TEXT
);

CREATE TABLE webhook_events (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  -- The stable id receivers deduplicate on (webhook-id).
  event_id TEXT NOT NULL UNIQUE,
  type TEXT NOT NULL,
  account_id BIGINT NOT NULL,
  -- The JSON body delivered.
  payload TEXT NOT NULL,
  created_at TEXT NOT NULL
);
CREATE INDEX webhook_events_account ON webhook_events (account_id, id);

-- state: pending, delivered, or failed (given up after three days).
CREATE TABLE webhook_deliveries (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  event_id BIGINT NOT NULL REFERENCES webhook_events(id),
  endpoint_id BIGINT NOT NULL REFERENCES webhook_endpoints(id),
  -- An account's events reach an endpoint in order, one after the other.
  account_id BIGINT NOT NULL,
  state TEXT NOT NULL DEFAULT 'pending',
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at TEXT NOT NULL,
  give_up_at TEXT NOT NULL,
  lease TEXT,
  last_status INTEGER,
  last_error TEXT,
  last_attempt_at TEXT,
  delivered_at TEXT
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (state, next_attempt_at);
CREATE INDEX webhook_deliveries_queue ON webhook_deliveries (endpoint_id, account_id, state, id);

-- A user removed through the operator API keeps their row for the records
-- that name them (support requests, the audit log), without their email
-- (free to be used again), password or sessions.
ALTER TABLE users ADD COLUMN removed_at TEXT;
