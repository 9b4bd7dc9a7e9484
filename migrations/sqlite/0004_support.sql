-- Support requests from accounts that cannot change things online.
CREATE TABLE support_tickets (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id BIGINT NOT NULL REFERENCES accounts(id),
    user_id BIGINT NOT NULL REFERENCES users(id),
    subject TEXT NOT NULL CHECK (subject IN ('reactivation', 'change', 'other')),
    message TEXT NOT NULL,
    created_at TEXT NOT NULL
);
