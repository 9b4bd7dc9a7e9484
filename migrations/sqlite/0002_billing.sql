-- Accounts, users, sessions, subscriptions, carts, orders, invoices,
-- payments, payment methods, email outbox, idempotency and audit.
-- Money: BIGINT minor units + currency code. Dates: ISO text (local dates in
-- the account's time zone); instants: RFC 3339 UTC text. Flags: 0/1 INTEGER.

CREATE TABLE accounts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('online', 'corporate')),
    country TEXT NOT NULL,
    vat_number TEXT,
    currency TEXT NOT NULL,
    time_zone TEXT NOT NULL,
    language TEXT NOT NULL DEFAULT 'en',
    credit_balance_minor BIGINT NOT NULL DEFAULT 0,
    rep_name TEXT,
    rep_email TEXT,
    rep_phone TEXT,
    created_at TEXT NOT NULL
);

CREATE TABLE users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id BIGINT NOT NULL REFERENCES accounts(id),
    email TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    is_billing_contact INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL
);
-- Exactly one billing contact per account, enforced by the database.
CREATE UNIQUE INDEX users_one_billing_contact ON users(account_id) WHERE is_billing_contact = 1;

-- Sessions live in the database so several server processes share them.
-- Only a SHA-256 of the cookie token is stored.
CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY NOT NULL,
    user_id BIGINT NOT NULL REFERENCES users(id),
    created_at TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);

CREATE TABLE login_attempts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE INDEX login_attempts_key ON login_attempts(key, at);

CREATE TABLE subscriptions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id BIGINT NOT NULL REFERENCES accounts(id),
    product TEXT NOT NULL,
    level TEXT NOT NULL,
    seats INTEGER NOT NULL CHECK (seats > 0),
    frequency TEXT NOT NULL CHECK (frequency IN ('monthly', 'annual')),
    status TEXT NOT NULL,
    trial_ends_on TEXT,
    period_start TEXT,
    period_end TEXT,
    paid_unit_minor BIGINT,
    paid_seats INTEGER,
    period_paid_minor BIGINT,
    period_credited_minor BIGINT,
    scheduled_level TEXT,
    scheduled_seats INTEGER,
    scheduled_frequency TEXT,
    ended_on TEXT,
    version BIGINT NOT NULL DEFAULT 1,
    updated_at TEXT NOT NULL,
    UNIQUE (account_id, product)
);

CREATE TABLE payment_methods (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id BIGINT NOT NULL UNIQUE REFERENCES accounts(id),
    kind TEXT NOT NULL CHECK (kind IN ('card', 'sepa')),
    token TEXT NOT NULL,
    brand TEXT NOT NULL,
    last4 TEXT NOT NULL,
    exp_month INTEGER,
    exp_year INTEGER,
    created_at TEXT NOT NULL
);

CREATE TABLE cart_items (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id BIGINT NOT NULL REFERENCES accounts(id),
    product TEXT NOT NULL,
    item_json TEXT NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (account_id, product)
);

-- One continuous invoice series per seller, numbered inside the order's
-- transaction: no gap, no duplicate.
CREATE TABLE invoice_counters (
    seller TEXT PRIMARY KEY NOT NULL,
    last_number BIGINT NOT NULL
);

CREATE TABLE invoices (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id BIGINT NOT NULL REFERENCES accounts(id),
    seller TEXT NOT NULL,
    seq BIGINT NOT NULL,
    number TEXT NOT NULL,
    issued_on TEXT NOT NULL,
    time_zone TEXT NOT NULL,
    currency TEXT NOT NULL,
    net_minor BIGINT NOT NULL,
    credit_applied_minor BIGINT NOT NULL DEFAULT 0,
    vat_rate TEXT NOT NULL,
    vat_minor BIGINT NOT NULL,
    total_minor BIGINT NOT NULL,
    tax_mention TEXT,
    status TEXT NOT NULL CHECK (status IN ('paid', 'open')),
    seller_details TEXT NOT NULL,
    buyer_name TEXT NOT NULL,
    buyer_country TEXT NOT NULL,
    buyer_vat_number TEXT,
    buyer_email TEXT NOT NULL,
    period_start TEXT,
    period_end TEXT,
    created_at TEXT NOT NULL,
    UNIQUE (seller, seq),
    UNIQUE (number)
);
CREATE INDEX invoices_account_keyset ON invoices(account_id, id);

CREATE TABLE invoice_lines (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    invoice_id BIGINT NOT NULL REFERENCES invoices(id),
    position INTEGER NOT NULL,
    description TEXT NOT NULL,
    seats INTEGER NOT NULL,
    unit_minor BIGINT NOT NULL,
    amount_minor BIGINT NOT NULL,
    period_start TEXT NOT NULL,
    period_end TEXT NOT NULL
);
CREATE INDEX invoice_lines_invoice ON invoice_lines(invoice_id);

CREATE TABLE orders (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id BIGINT NOT NULL REFERENCES accounts(id),
    idempotency_key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'done')),
    invoice_id BIGINT REFERENCES invoices(id),
    total_minor BIGINT NOT NULL,
    currency TEXT NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (account_id, idempotency_key)
);

CREATE TABLE payments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id BIGINT NOT NULL REFERENCES accounts(id),
    invoice_id BIGINT REFERENCES invoices(id),
    amount_minor BIGINT NOT NULL,
    currency TEXT NOT NULL,
    status TEXT NOT NULL,
    gateway_ref TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE email_outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id BIGINT REFERENCES accounts(id),
    to_addr TEXT NOT NULL,
    subject TEXT NOT NULL,
    body_text TEXT NOT NULL,
    body_html TEXT NOT NULL,
    created_at TEXT NOT NULL,
    sent_at TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    last_error TEXT
);
CREATE INDEX email_outbox_pending ON email_outbox(sent_at, next_attempt_at);

CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id BIGINT,
    user_id BIGINT,
    action TEXT NOT NULL,
    detail TEXT NOT NULL,
    created_at TEXT NOT NULL
);
