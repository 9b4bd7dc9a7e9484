-- The billing run: the anchor day of the paid term (periods are computed
-- from it, clamped per month), dunning state, and a unique key per
-- subscription and period on renewal invoices so a re-run never bills twice.
ALTER TABLE subscriptions ADD COLUMN anchor_on TEXT;
ALTER TABLE subscriptions ADD COLUMN dunning_step INTEGER NOT NULL DEFAULT 0;
ALTER TABLE subscriptions ADD COLUMN next_retry_on TEXT;
UPDATE subscriptions SET anchor_on = period_start WHERE anchor_on IS NULL;
ALTER TABLE invoices ADD COLUMN renewal_key TEXT;
CREATE UNIQUE INDEX invoices_renewal_key ON invoices(renewal_key);
