-- Reminders (trial ending, cancellation taking effect) go out once per
-- event: the date of the event they were sent for.
ALTER TABLE subscriptions ADD COLUMN reminded_for TEXT;

-- What the billing run looks for, without scanning every subscription.
CREATE INDEX subscriptions_due_period ON subscriptions(status, period_end);
CREATE INDEX subscriptions_due_trial ON subscriptions(status, trial_ends_on);
CREATE INDEX subscriptions_due_retry ON subscriptions(status, next_retry_on);
