//! Bulk fixtures for the benchmarks: literal multi-row inserts in one
//! transaction (the values are generated here, never user input).

use billing_center::db::{Backend, Db};
use chrono::NaiveDate;
use sqlx::Executor;

pub const ROWS_PER_STATEMENT: usize = 500;

/// A fresh, migrated database on `backend`.
pub async fn fresh(
    backend: Backend,
    dir: &std::path::Path,
    pg_admin: Option<&str>,
) -> (String, Db) {
    let url = match backend {
        Backend::Sqlite => format!("sqlite://{}/bench-{}.db", dir.display(), unique()),
        Backend::Postgres => {
            let admin = pg_admin.expect("BENCH_POSTGRES_URL");
            let name = format!("bench_{}", unique());
            let db = Db::connect(admin).await.unwrap();
            db.pool
                .execute(format!("CREATE DATABASE {name}").as_str())
                .await
                .unwrap();
            db.pool.close().await;
            let (base, _) = admin.rsplit_once('/').unwrap();
            format!("{base}/{name}")
        }
    };
    let db = Db::connect(&url).await.unwrap();
    db.migrate().await.unwrap();
    (url, db)
}

fn unique() -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    format!(
        "{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    )
}

/// Inserts `rows` (already-formatted value tuples) into `table (columns)`.
pub async fn insert_rows(db: &Db, table: &str, columns: &str, rows: impl Iterator<Item = String>) {
    let mut tx = db.pool.begin().await.unwrap();
    let mut batch = Vec::with_capacity(ROWS_PER_STATEMENT);
    // Explicit ids into PostgreSQL identity columns must say so.
    let overriding = if db.backend == Backend::Postgres && columns.starts_with("id,") {
        "OVERRIDING SYSTEM VALUE"
    } else {
        ""
    };
    let flush = |batch: &mut Vec<String>| {
        let sql = format!(
            "INSERT INTO {table} ({columns}) {overriding} VALUES {}",
            batch.join(",")
        );
        batch.clear();
        sql
    };
    for row in rows {
        batch.push(row);
        if batch.len() == ROWS_PER_STATEMENT {
            let sql = flush(&mut batch);
            tx.execute(sql.as_str()).await.unwrap();
        }
    }
    if !batch.is_empty() {
        let sql = flush(&mut batch);
        tx.execute(sql.as_str()).await.unwrap();
    }
    tx.commit().await.unwrap();
}

async fn next_id(db: &Db, table: &str) -> i64 {
    let (max,): (Option<i64>,) =
        sqlx::query_as(&format!("SELECT CAST(MAX(id) AS BIGINT) FROM {table}"))
            .fetch_one(&db.pool)
            .await
            .unwrap();
    max.unwrap_or(0) + 1
}

/// `accounts` online FR accounts, each with a billing contact (password
/// hash `hash`) and a 4242 card; returns (account id, user id) pairs.
pub async fn accounts(db: &Db, count: usize, hash: &str) -> Vec<(i64, i64)> {
    let first_account = next_id(db, "accounts").await;
    let first_user = next_id(db, "users").await;
    let now = "2026-01-01T00:00:00.000Z";
    insert_rows(
        db,
        "accounts",
        "id, name, kind, country, currency, time_zone, language, created_at",
        (0..count).map(|i| {
            format!(
                "({}, 'Bench {i}', 'online', 'FR', 'EUR', 'Europe/Paris', 'en', '{now}')",
                first_account + i as i64
            )
        }),
    )
    .await;
    insert_rows(
        db,
        "users",
        "id, account_id, email, name, password_hash, is_billing_contact, created_at",
        (0..count).map(|i| {
            format!(
                "({}, {}, 'bench{}@bench.test', 'Bench {i}', '{hash}', 1, '{now}')",
                first_user + i as i64,
                first_account + i as i64,
                first_account + i as i64
            )
        }),
    )
    .await;
    insert_rows(
        db,
        "payment_methods",
        "account_id, kind, token, brand, last4, exp_month, exp_year, created_at",
        (0..count).map(|i| {
            format!(
                "({}, 'card', 'tok_ok_4242', 'Visa', '4242', 12, 2030, '{now}')",
                first_account + i as i64
            )
        }),
    )
    .await;
    fix_sequences(db).await;
    (0..count as i64)
        .map(|i| (first_account + i, first_user + i))
        .collect()
}

/// PostgreSQL identity sequences after explicit ids.
pub async fn fix_sequences(db: &Db) {
    if db.backend != Backend::Postgres {
        return;
    }
    for table in ["accounts", "users", "subscriptions", "invoices"] {
        db.pool
            .execute(
                format!(
                    "SELECT setval(pg_get_serial_sequence('{table}', 'id'), COALESCE((SELECT MAX(id) FROM {table}), 1))"
                )
                .as_str(),
            )
            .await
            .unwrap();
    }
}

/// `n` monthly subscriptions due on `due` (3 per account: the catalog's
/// three products), with their accounts.
pub async fn due_subscriptions(db: &Db, n: usize, due: NaiveDate) {
    let accounts = accounts(db, n.div_ceil(3), "x").await;
    let start = due.checked_sub_months(chrono::Months::new(1)).unwrap();
    let products = [
        ("webinar", "lite", 1900),
        ("meeting", "business", 1900),
        ("training", "starter", 10900),
    ];
    insert_rows(
        db,
        "subscriptions",
        "account_id, product, level, seats, frequency, status, period_start, period_end, anchor_on, \
         paid_unit_minor, paid_seats, period_paid_minor, period_credited_minor, version, updated_at",
        (0..n).map(|i| {
            let (account, _) = accounts[i / 3];
            let (product, level, price) = products[i % 3];
            format!(
                "({account}, '{product}', '{level}', 1, 'monthly', 'active', '{start}', '{due}', '{start}', \
                 {price}, 1, {price}, 0, 1, '2026-01-01T00:00:00.000Z')"
            )
        }),
    )
    .await;
}

/// `count` invoices for `account`, numbered after `first_seq`.
pub fn invoice_rows(account: i64, first_seq: i64, count: usize) -> impl Iterator<Item = String> {
    (0..count as i64).map(move |i| {
        let seq = first_seq + i;
        format!(
            "({account}, 'BENCH', {seq}, 'BENCH-{seq:08}', '2026-01-01', 'Europe/Paris', 'EUR', 10000, 0, '0.20', 2000, 12000, \
             NULL, 'paid', 'Bench seller', 'Bench buyer', 'FR', NULL, 'bench@bench.test', '2026-01-01', '2026-01-31', '2026-01-01T00:00:00.000Z')"
        )
    })
}

pub const INVOICE_COLUMNS: &str = "account_id, seller, seq, number, issued_on, time_zone, currency, net_minor, \
    credit_applied_minor, vat_rate, vat_minor, total_minor, tax_mention, status, seller_details, buyer_name, \
    buyer_country, buyer_vat_number, buyer_email, period_start, period_end, created_at";

/// A session per user, inserted directly (signing in 1,000 users would
/// benchmark Argon2); returns the cookie values.
pub async fn sessions(db: &Db, users: &[i64]) -> Vec<String> {
    use sha2::{Digest, Sha256};
    let tokens: Vec<String> = users
        .iter()
        .map(|u| format!("{:064x}", *u as u128 * 0x9e37_79b9_7f4a_7c15 + 0xbe5c))
        .collect();
    insert_rows(
        db,
        "sessions",
        "token_hash, user_id, created_at, last_seen_at, expires_at",
        users.iter().zip(&tokens).map(|(u, t)| {
            let hash: String = Sha256::digest(t.as_bytes())
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            format!("('{hash}', {u}, '2099-01-01T00:00:00.000Z', '2099-01-01T00:00:00.000Z', '2099-12-31T00:00:00.000Z')")
        }),
    )
    .await;
    tokens
}

/// A webinar trial per account, to subscribe to in the place-order bench.
pub async fn trials(db: &Db, accounts: &[(i64, i64)], ends: NaiveDate) {
    insert_rows(
        db,
        "subscriptions",
        "account_id, product, level, seats, frequency, status, trial_ends_on, version, updated_at",
        accounts.iter().map(|(a, _)| {
            format!("({a}, 'webinar', 'standard', 1, 'monthly', 'trial', '{ends}', 1, '2026-01-01T00:00:00.000Z')")
        }),
    )
    .await;
}
