-- Which mailer holds an email while it sends it: a claim sets the lease
-- token and moves next_attempt_at to the lease's end, so another server's
-- mailer skips the email until then (and takes it over only if the holder
-- died). Only the holder marks it sent or failed.
ALTER TABLE email_outbox ADD COLUMN lease TEXT;
