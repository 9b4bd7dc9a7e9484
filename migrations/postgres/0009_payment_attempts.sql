-- Every payment attempt whose outcome is known, under the reference the
-- server made for it (never a client's key): a SHA-256 of what it pays for
-- (the purpose: an order, one renewal attempt, an invoice) and how many
-- attempts for it closed before. An attempt whose answer was lost is not
-- recorded, so its retry sends the same reference and the gateway returns
-- the first charge; a declined, unconfirmed or refunded one is, so the
-- next attempt sends a new reference.
CREATE TABLE payment_attempts (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts(id),
    purpose TEXT NOT NULL,
    reference TEXT NOT NULL UNIQUE,
    amount_minor BIGINT NOT NULL,
    currency TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('succeeded', 'failed', 'refunded', 'refund_failed')),
    charge_id TEXT,
    error TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX payment_attempts_purpose ON payment_attempts(purpose);
CREATE INDEX payment_attempts_refund_failed ON payment_attempts(id) WHERE status = 'refund_failed';
-- Whether a charge is recorded, asked before refunding one: a retry under
-- the same reference gets the same charge, which another writer may have
-- recorded first.
CREATE INDEX payments_gateway_ref ON payments(gateway_ref);
