-- The payment provider's customer of each account (Stripe: one Customer
-- per account), made the first time the account saves a payment method.
ALTER TABLE accounts ADD COLUMN gateway_customer TEXT;
CREATE UNIQUE INDEX accounts_gateway_customer ON accounts (gateway_customer)
  WHERE gateway_customer IS NOT NULL;

-- Provider events (webhooks) already handled, by the provider's event id:
-- a delivery repeated by the provider is acknowledged and not handled again.
CREATE TABLE gateway_events (
  id TEXT PRIMARY KEY,
  kind TEXT NOT NULL,
  received_at TEXT NOT NULL
);

-- A SEPA mandate's acceptance: the text shown and when it was accepted.
ALTER TABLE payment_methods ADD COLUMN mandate_text TEXT;
ALTER TABLE payment_methods ADD COLUMN mandate_accepted_at TEXT;

-- This installation's id, random at creation: part of every payment
-- reference, so two installations (or a recreated database) charging
-- through one Stripe account never share an idempotency key.
CREATE TABLE installation (id TEXT NOT NULL);
INSERT INTO installation (id) VALUES (lower(hex(randomblob(16))));
