-- The invoice a receipt carries as its PDF attachment: rendered by the
-- mailer when it sends, from the invoice as issued.
ALTER TABLE email_outbox ADD COLUMN invoice_id BIGINT REFERENCES invoices(id);
