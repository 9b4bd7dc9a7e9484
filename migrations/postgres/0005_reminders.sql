-- Reminders (trial ending, cancellation taking effect) go out once per
-- event: the date of the event they were sent for.
ALTER TABLE subscriptions ADD COLUMN reminded_for TEXT;
