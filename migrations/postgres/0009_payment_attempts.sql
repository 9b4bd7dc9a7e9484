-- The payment attempts that closed without paying, under the reference the
-- server made for each (never a client's key): a SHA-256 of what it pays
-- for (the purpose: an order, the renewal after a term, an invoice) and
-- how many attempts for it closed before. A declined, unconfirmed or
-- refunded one is recorded here, so the next attempt sends a new
-- reference; one whose answer was lost is not, so its retry sends the same
-- reference and the gateway returns the first charge. An attempt that paid
-- is its payment row (payments.gateway_ref), written with what it paid for.
CREATE TABLE payment_attempts (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts(id),
    purpose TEXT NOT NULL,
    reference TEXT NOT NULL UNIQUE,
    amount_minor BIGINT NOT NULL,
    currency TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('failed', 'refunded', 'refund_failed')),
    charge_id TEXT,
    error TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX payment_attempts_purpose ON payment_attempts(purpose);
CREATE INDEX payment_attempts_refund_failed ON payment_attempts(id) WHERE status = 'refund_failed';
-- Whether a charge is recorded, asked before refunding one: a retry under
-- the same reference gets the same charge, which another writer may have
-- recorded first. By account: an index on the charge id itself (a random
-- key) cost the billing run a third of its speed on SQLite.
CREATE INDEX payments_account ON payments(account_id);
