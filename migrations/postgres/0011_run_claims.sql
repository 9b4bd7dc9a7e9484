-- Which billing runner is charging a subscription: a claim is a lease
-- token (its expiry, then a random suffix, so text order is time order)
-- set before the charge and cleared by the write after it. No row lock is
-- held during the charge; a runner that dies leaves a lease that runs out.
ALTER TABLE subscriptions ADD COLUMN run_lease TEXT;
CREATE INDEX subscriptions_run_lease ON subscriptions (run_lease) WHERE run_lease IS NOT NULL;
