-- An order's claim on its idempotency key is a lease: a process killed
-- between the charge and the commit leaves a pending order whose lease runs
-- out; a retry of the same key then takes it over (the gateway deduplicates
-- the charge by the key), or the billing run refunds and releases it.
ALTER TABLE orders ADD COLUMN lease_until TEXT;
CREATE INDEX orders_pending_lease ON orders (lease_until) WHERE status = 'pending';
