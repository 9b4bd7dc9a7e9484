-- Account credit as a ledger: one row per movement, written in the
-- transaction of the invoice that created or used it. The balance on
-- accounts is the running sum of its movements, changed only under a guard
-- that keeps it from going below zero.
CREATE TABLE credit_movements (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts(id),
    invoice_id BIGINT REFERENCES invoices(id),
    amount_minor BIGINT NOT NULL CHECK (amount_minor <> 0),
    reason TEXT NOT NULL CHECK (reason IN ('opening', 'created', 'applied')),
    created_at TEXT NOT NULL
);
CREATE INDEX credit_movements_account ON credit_movements(account_id, id);
-- Balances from before the ledger open it.
INSERT INTO credit_movements (account_id, amount_minor, reason, created_at)
SELECT id, credit_balance_minor, 'opening', created_at FROM accounts
WHERE credit_balance_minor <> 0;
