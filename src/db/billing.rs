//! Subscriptions, payment methods, carts, orders, invoices, the email outbox
//! and the audit log. An order is written in one transaction
//! ([`commit_order`], shared with the orders that arrived meanwhile):
//! all or nothing.

use std::borrow::Cow;

use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

use super::exec::{Exec, Param, opt_text, owned, text};
use super::{Backend, Columns, Db, DbError};

#[derive(Clone, Debug, PartialEq, serde::Deserialize)]
pub struct SubscriptionRecord {
    pub id: i64,
    pub account_id: i64,
    pub product: String,
    pub level: String,
    pub seats: i64,
    pub frequency: String,
    pub status: String,
    pub trial_ends_on: Option<String>,
    pub period_start: Option<String>,
    pub period_end: Option<String>,
    pub paid_unit_minor: Option<i64>,
    pub paid_seats: Option<i64>,
    pub period_paid_minor: Option<i64>,
    pub period_credited_minor: Option<i64>,
    pub scheduled_level: Option<String>,
    pub scheduled_seats: Option<i64>,
    pub scheduled_frequency: Option<String>,
    pub ended_on: Option<String>,
    pub version: i64,
    pub anchor_on: Option<String>,
    pub dunning_step: i64,
    pub next_retry_on: Option<String>,
}

fn subscription(r: &(impl Columns + ?Sized)) -> Result<SubscriptionRecord, sqlx::Error> {
    Ok(SubscriptionRecord {
        id: r.int("id")?,
        account_id: r.int("account_id")?,
        product: r.text("product")?,
        level: r.text("level")?,
        seats: r.int("seats")?,
        frequency: r.text("frequency")?,
        status: r.text("status")?,
        trial_ends_on: r.opt_text("trial_ends_on")?,
        period_start: r.opt_text("period_start")?,
        period_end: r.opt_text("period_end")?,
        paid_unit_minor: r.opt_int("paid_unit_minor")?,
        paid_seats: r.opt_int("paid_seats")?,
        period_paid_minor: r.opt_int("period_paid_minor")?,
        period_credited_minor: r.opt_int("period_credited_minor")?,
        scheduled_level: r.opt_text("scheduled_level")?,
        scheduled_seats: r.opt_int("scheduled_seats")?,
        scheduled_frequency: r.opt_text("scheduled_frequency")?,
        ended_on: r.opt_text("ended_on")?,
        version: r.int("version")?,
        anchor_on: r.opt_text("anchor_on")?,
        dunning_step: r.int("dunning_step")?,
        next_retry_on: r.opt_text("next_retry_on")?,
    })
}

pub async fn subscriptions(db: &Db, account_id: i64) -> Result<Vec<SubscriptionRecord>, DbError> {
    let rows = sqlx::query("SELECT * FROM subscriptions WHERE account_id = $1 ORDER BY id")
        .bind(account_id)
        .fetch_all(&db.pool)
        .await?;
    Ok(rows.iter().map(subscription).collect::<Result<_, _>>()?)
}

/// What a billing page starts from: the account's subscriptions and its
/// cart items (product, item JSON).
pub type PageRows = (Vec<SubscriptionRecord>, Vec<(String, String)>);

/// A signed-in billing page's reads in one statement: the session with its
/// user and account and, when the user is the account's billing contact,
/// the account's [`PageRows`], aggregated as JSON into the same row. On
/// SQLite every statement is a round trip to the connection's thread (and
/// sqlx pings a connection it takes back): measured sequentially, the
/// three separate reads cost a signed-in page about 200 µs of server CPU
/// (`bench/NOTES.md`).
pub async fn session_with_page(
    db: &Db,
    token_hash: &str,
) -> Result<Option<(super::accounts::SessionCaller, Option<PageRows>)>, DbError> {
    db.read_row(
        session_with_page_sql(db.backend),
        text(token_hash),
        session_with_page_row,
    )
    .await
}

fn session_with_page_row(
    r: &dyn super::Columns,
) -> Result<(super::accounts::SessionCaller, Option<PageRows>), DbError> {
    let found = super::accounts::session_caller(r)?;
    let page = match found.user.is_billing_contact {
        true => Some((
            from_json(r.text("page_subscriptions")?)?,
            from_json(r.text("page_cart")?)?,
        )),
        false => None,
    };
    Ok((found, page))
}

/// [`SubscriptionRecord`]'s columns, named as its fields.
const SUBSCRIPTION_COLUMNS: [&str; 22] = [
    "id",
    "account_id",
    "product",
    "level",
    "seats",
    "frequency",
    "status",
    "trial_ends_on",
    "period_start",
    "period_end",
    "paid_unit_minor",
    "paid_seats",
    "period_paid_minor",
    "period_credited_minor",
    "scheduled_level",
    "scheduled_seats",
    "scheduled_frequency",
    "ended_on",
    "version",
    "anchor_on",
    "dunning_step",
    "next_retry_on",
];

fn session_with_page_sql(backend: Backend) -> &'static str {
    static SQL: std::sync::OnceLock<[String; 2]> = std::sync::OnceLock::new();
    let [sqlite, postgres] = SQL.get_or_init(|| {
        let pairs = SUBSCRIPTION_COLUMNS
            .iter()
            .map(|c| format!("'{c}', {c}"))
            .collect::<Vec<_>>()
            .join(", ");
        let build = |subscriptions: String, cart: &str| {
            format!(
                "SELECT {}, \
                 CASE WHEN u.is_billing_contact = 1 THEN \
                   (SELECT {subscriptions} FROM subscriptions WHERE account_id = a.id) \
                 END AS page_subscriptions, \
                 CASE WHEN u.is_billing_contact = 1 THEN \
                   (SELECT {cart} FROM cart_items WHERE account_id = a.id) \
                 END AS page_cart {}",
                super::accounts::SESSION_CALLER_COLUMNS,
                super::accounts::SESSION_CALLER_FROM
            )
        };
        [
            build(
                format!("json_group_array(json_object({pairs}) ORDER BY id)"),
                "json_group_array(json_array(product, item_json) ORDER BY id)",
            ),
            build(
                format!(
                    "CAST(COALESCE(json_agg(json_build_object({pairs}) ORDER BY id), '[]') AS TEXT)"
                ),
                "CAST(COALESCE(json_agg(json_build_array(product, item_json) ORDER BY id), '[]') AS TEXT)",
            ),
        ]
    });
    match backend {
        Backend::Sqlite => sqlite,
        Backend::Postgres => postgres,
    }
}

fn from_json<T: serde::de::DeserializeOwned>(json: String) -> Result<T, sqlx::Error> {
    serde_json::from_str(&json).map_err(|e| sqlx::Error::Decode(Box::new(e)))
}

/// Inserts or replaces every column of a subscription (seeding, tests).
pub async fn insert_subscription(db: &Db, s: &SubscriptionRecord) -> Result<i64, DbError> {
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO subscriptions (account_id, product, level, seats, frequency, status, trial_ends_on,
            period_start, period_end, paid_unit_minor, paid_seats, period_paid_minor, period_credited_minor,
            ended_on, version, updated_at, anchor_on)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, 1, $15, $8) RETURNING id",
    )
    .bind(s.account_id)
    .bind(&s.product)
    .bind(&s.level)
    .bind(s.seats)
    .bind(&s.frequency)
    .bind(&s.status)
    .bind(&s.trial_ends_on)
    .bind(&s.period_start)
    .bind(&s.period_end)
    .bind(s.paid_unit_minor)
    .bind(s.paid_seats)
    .bind(s.period_paid_minor)
    .bind(s.period_credited_minor)
    .bind(&s.ended_on)
    .bind(super::now_text())
    .fetch_one(&db.pool)
    .await?;
    Ok(id)
}

/// Sets the status of one subscription if it is still at `version`
/// (optimistic concurrency). `false` when another window changed it first.
pub async fn set_status(
    db: &Db,
    account_id: i64,
    id: i64,
    version: i64,
    status: &str,
) -> Result<bool, DbError> {
    let done = sqlx::query(
        "UPDATE subscriptions SET status = $1, version = version + 1, updated_at = $2
         WHERE id = $3 AND account_id = $4 AND version = $5",
    )
    .bind(status)
    .bind(super::now_text())
    .bind(id)
    .bind(account_id)
    .bind(version)
    .execute(&db.pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Moves one subscription at `version` from `from` to `to` with its audit
/// line and its email if any, in one transaction (the cancellation and its
/// undo).
/// `false` when another window changed it first: nothing is written.
pub async fn change_status_with_notice(
    db: &Db,
    (account_id, user_id): (i64, i64),
    (id, version): (i64, i64),
    (from, to): (&str, &str),
    (action, detail): (&str, &str),
    email: Option<&EmailWrite>,
) -> Result<bool, DbError> {
    let _turn = db.write_turn().await;
    let now = super::now_text();
    let mut tx = db.pool.begin().await?;
    let done = sqlx::query(
        "UPDATE subscriptions SET status = $1, version = version + 1, updated_at = $2
         WHERE id = $3 AND account_id = $4 AND version = $5 AND status = $6",
    )
    .bind(to)
    .bind(&now)
    .bind(id)
    .bind(account_id)
    .bind(version)
    .bind(from)
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() != 1 {
        return Ok(false);
    }
    sqlx::query("INSERT INTO audit_log (account_id, user_id, action, detail, created_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(account_id)
        .bind(user_id)
        .bind(action)
        .bind(detail)
        .bind(&now)
        .execute(&mut *tx)
        .await?;
    if let Some(email) = email {
        enqueue_email(&mut tx, Some(account_id), email, &now).await?;
    }
    tx.commit().await?;
    Ok(true)
}

// ---- payment methods ----

#[derive(Clone, Debug, PartialEq)]
pub struct PaymentMethodRecord {
    pub kind: String,
    pub token: String,
    pub brand: String,
    pub last4: String,
    pub exp_month: Option<i64>,
    pub exp_year: Option<i64>,
}

/// The payment method of each of `accounts` that has one.
pub async fn payment_methods(
    db: &Db,
    accounts: &[i64],
) -> Result<std::collections::HashMap<i64, PaymentMethodRecord>, DbError> {
    if accounts.is_empty() {
        return Ok(Default::default());
    }
    let sql = format!(
        "SELECT account_id, kind, token, brand, last4, exp_month, exp_year FROM payment_methods WHERE account_id IN ({})",
        placeholders(1, accounts.len())
    );
    let ids = accounts.iter().map(|a| Param::Int(Some(*a))).collect();
    let rows = db
        .read_rows(sql, ids, |r| {
            Ok((r.int("account_id")?, payment_method_row(r)?))
        })
        .await?;
    Ok(rows.into_iter().collect())
}

fn payment_method_row(r: &dyn Columns) -> Result<PaymentMethodRecord, DbError> {
    Ok(PaymentMethodRecord {
        kind: r.text("kind")?,
        token: r.text("token")?,
        brand: r.text("brand")?,
        last4: r.text("last4")?,
        exp_month: r.opt_int("exp_month")?,
        exp_year: r.opt_int("exp_year")?,
    })
}

pub async fn payment_method(
    db: &Db,
    account_id: i64,
) -> Result<Option<PaymentMethodRecord>, DbError> {
    db.read_row(
        "SELECT kind, token, brand, last4, exp_month, exp_year FROM payment_methods WHERE account_id = $1",
        Param::Int(Some(account_id)),
        payment_method_row,
    )
    .await
}

/// One payment method per account: saving replaces the previous one.
pub async fn save_payment_method(
    db: &Db,
    account_id: i64,
    pm: &PaymentMethodRecord,
) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO payment_methods (account_id, kind, token, brand, last4, exp_month, exp_year, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (account_id) DO UPDATE SET kind = excluded.kind, token = excluded.token,
           brand = excluded.brand, last4 = excluded.last4, exp_month = excluded.exp_month,
           exp_year = excluded.exp_year, created_at = excluded.created_at",
    )
    .bind(account_id)
    .bind(&pm.kind)
    .bind(&pm.token)
    .bind(&pm.brand)
    .bind(&pm.last4)
    .bind(pm.exp_month)
    .bind(pm.exp_year)
    .bind(super::now_text())
    .execute(&db.pool)
    .await?;
    Ok(())
}

// ---- cart ----

/// Cart items as (product, JSON of the engine's `CartItem`), oldest first.
pub async fn cart(db: &Db, account_id: i64) -> Result<Vec<(String, String)>, DbError> {
    Ok(sqlx::query_as(
        "SELECT product, item_json FROM cart_items WHERE account_id = $1 ORDER BY id",
    )
    .bind(account_id)
    .fetch_all(&db.pool)
    .await?)
}

/// Adds or replaces the cart item for `product`.
pub async fn put_cart_item(
    db: &Db,
    account_id: i64,
    product: &str,
    item_json: &str,
) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO cart_items (account_id, product, item_json, created_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (account_id, product) DO UPDATE SET item_json = excluded.item_json",
    )
    .bind(account_id)
    .bind(product)
    .bind(item_json)
    .bind(super::now_text())
    .execute(&db.pool)
    .await?;
    Ok(())
}

pub async fn remove_cart_item(db: &Db, account_id: i64, product: &str) -> Result<(), DbError> {
    sqlx::query("DELETE FROM cart_items WHERE account_id = $1 AND product = $2")
        .bind(account_id)
        .bind(product)
        .execute(&db.pool)
        .await?;
    Ok(())
}

pub async fn clear_cart(db: &Db, account_id: i64) -> Result<(), DbError> {
    sqlx::query("DELETE FROM cart_items WHERE account_id = $1")
        .bind(account_id)
        .execute(&db.pool)
        .await?;
    Ok(())
}

// ---- orders and idempotency ----

#[derive(Clone, Debug, PartialEq)]
pub struct OrderRecord {
    pub id: i64,
    pub request_hash: String,
    pub status: String,
    pub invoice_id: Option<i64>,
    pub total_minor: i64,
    /// Until when the process that claimed it may still be working on it.
    pub lease_until: Option<String>,
}

impl OrderRecord {
    /// A pending order whose claimer stopped (killed, crashed) before
    /// finishing: `now` is past its lease (no lease: from before leases).
    pub fn abandoned(&self, now: &str) -> bool {
        self.status == "pending" && self.lease_until.as_deref().is_none_or(|l| l < now)
    }
}

/// Claims an idempotency key: `Some(order id)` for the first caller, `None`
/// when the key already exists (the caller then reads that order).
pub async fn claim_order(
    db: &Db,
    account_id: i64,
    key: &str,
    request_hash: &str,
    total_minor: i64,
    currency: &str,
    lease_until: &str,
) -> Result<Option<i64>, DbError> {
    db.write_one(
        "INSERT INTO orders (account_id, idempotency_key, request_hash, status, total_minor, currency, created_at, lease_until)
         VALUES ($1, $2, $3, 'pending', $4, $5, $6, $7)
         ON CONFLICT (account_id, idempotency_key) DO NOTHING RETURNING id",
        vec![
            Param::Int(Some(account_id)),
            owned(key),
            owned(request_hash),
            Param::Int(Some(total_minor)),
            owned(currency),
            owned(&super::now_text()),
            owned(lease_until),
        ],
    )
    .await
}

pub async fn find_order(
    db: &Db,
    account_id: i64,
    key: &str,
) -> Result<Option<OrderRecord>, DbError> {
    let row = sqlx::query(
        "SELECT id, request_hash, status, invoice_id, total_minor, lease_until FROM orders
         WHERE account_id = $1 AND idempotency_key = $2",
    )
    .bind(account_id)
    .bind(key)
    .fetch_optional(&db.pool)
    .await?;
    row.map(|r| {
        Ok(OrderRecord {
            id: r.try_get("id")?,
            request_hash: r.try_get("request_hash")?,
            status: r.try_get("status")?,
            invoice_id: r.try_get("invoice_id")?,
            total_minor: r.try_get("total_minor")?,
            lease_until: r.try_get("lease_until")?,
        })
    })
    .transpose()
    .map_err(|e: sqlx::Error| e.into())
}

/// Takes over an abandoned claim (its lease ran out before `now`): true
/// for exactly one caller, who then holds it until `lease_until`.
pub async fn take_over_order(
    db: &Db,
    order_id: i64,
    now: &str,
    lease_until: &str,
) -> Result<bool, DbError> {
    let _turn = db.write_turn().await;
    let done = sqlx::query(
        "UPDATE orders SET lease_until = $1
         WHERE id = $2 AND status = 'pending' AND (lease_until IS NULL OR lease_until < $3)",
    )
    .bind(lease_until)
    .bind(order_id)
    .bind(now)
    .execute(&db.pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Pending orders whose lease ran out before `now`: (id, account id,
/// idempotency key).
pub async fn abandoned_orders(db: &Db, now: &str) -> Result<Vec<(i64, i64, String)>, DbError> {
    Ok(sqlx::query_as(
        "SELECT id, account_id, idempotency_key FROM orders
         WHERE status = 'pending' AND (lease_until IS NULL OR lease_until < $1)
         ORDER BY id LIMIT 1000",
    )
    .bind(now)
    .fetch_all(&db.pool)
    .await?)
}

/// Frees a key whose order failed (declined card), so the customer can
/// retry; only the claim's holder (its lease token) can.
pub async fn release_order(db: &Db, order_id: i64, lease: &str) -> Result<(), DbError> {
    let _turn = db.write_turn().await;
    sqlx::query("DELETE FROM orders WHERE id = $1 AND status = 'pending' AND lease_until = $2")
        .bind(order_id)
        .bind(lease)
        .execute(&db.pool)
        .await?;
    Ok(())
}

/// A subscription as the order leaves it.
#[derive(Clone, Debug, PartialEq)]
pub struct SubscriptionWrite {
    /// `None`: a new subscription. `Some((id, version read))`: an update that
    /// fails if another window changed it since.
    pub existing: Option<(i64, i64)>,
    pub product: String,
    pub level: String,
    pub seats: i64,
    pub frequency: String,
    pub status: String,
    pub period_start: Option<String>,
    pub period_end: Option<String>,
    pub paid_unit_minor: Option<i64>,
    pub paid_seats: Option<i64>,
    pub period_paid_minor: Option<i64>,
    pub period_credited_minor: Option<i64>,
    pub scheduled: Option<(String, i64, String)>,
    pub anchor_on: Option<String>,
    pub dunning_step: i64,
    pub next_retry_on: Option<String>,
    pub ended_on: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct InvoiceLineWrite {
    pub description: String,
    pub seats: i64,
    pub unit_minor: i64,
    pub amount_minor: i64,
    pub period_start: String,
    pub period_end: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct InvoiceWrite {
    pub seller: String,
    /// `paid` (charged online) or `open` (corporate, paid later).
    pub status: String,
    /// `subscription:period_start` for renewals: unique, so a re-run of the
    /// billing run can never issue a second invoice for one period.
    pub renewal_key: Option<String>,
    pub issued_on: String,
    pub time_zone: String,
    pub currency: String,
    pub net_minor: i64,
    pub credit_applied_minor: i64,
    pub vat_rate: String,
    pub vat_minor: i64,
    pub total_minor: i64,
    pub tax_mention: Option<String>,
    pub seller_details: String,
    pub buyer_name: String,
    pub buyer_country: String,
    pub buyer_vat_number: Option<String>,
    pub buyer_email: String,
    pub period_start: Option<String>,
    pub period_end: Option<String>,
    pub lines: Vec<InvoiceLineWrite>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct EmailWrite {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// Builds the confirmation email once the invoice number is known. `Fn`,
/// not `FnOnce`: an order whose group commit is rolled back is written
/// again on its own (`write_orders`).
pub type EmailBuilder = Box<dyn Fn(Option<&str>) -> EmailWrite + Send + Sync>;

pub struct OrderWrite {
    pub account_id: i64,
    /// Who acted; `None` for the billing run.
    pub user_id: Option<i64>,
    /// The claimed order row and the claim's lease token; `None` for the
    /// billing run.
    pub order: Option<(i64, String)>,
    pub subscriptions: Vec<SubscriptionWrite>,
    pub invoice: Option<InvoiceWrite>,
    /// Gateway charge id of the successful charge, if anything was charged.
    pub payment_ref: Option<String>,
    /// A declined payment attempt to record with it (the billing run's;
    /// an order's decline writes nothing else and is recorded alone).
    pub attempt: Option<super::payments::AttemptWrite>,
    /// Change to the account's credit balance (negative: credit used).
    pub credit_delta_minor: i64,
    pub email: EmailBuilder,
    pub audit: String,
}

#[derive(Debug, thiserror::Error)]
pub enum CommitError {
    #[error("a subscription changed in another window")]
    Stale,
    /// The claim's lease ran out and another request (or the billing run)
    /// took the order over: that one decides it, this one writes nothing.
    #[error("the order was taken over by another request")]
    ClaimLost,
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<sqlx::Error> for CommitError {
    fn from(e: sqlx::Error) -> Self {
        CommitError::Db(DbError::Query(e))
    }
}

/// Writes an order; returns the invoice (id, number). On SQLite, orders
/// that arrive while another group is being written are written together
/// in the next transaction (`group_commit`), each with the result it would
/// have had alone.
pub async fn commit_order(db: &Db, w: OrderWrite) -> WriteResult {
    match db.backend {
        // Row locks let PostgreSQL's orders commit side by side: behind one
        // turn, grouped, they measured no faster (`bench/NOTES.md`).
        Backend::Postgres => write_orders(db, vec![w]).await.pop().unwrap_or(Ok(None)),
        Backend::Sqlite => db.queue.commit(db, w).await,
    }
}

/// Writes orders (on SQLite the queued ones, the caller holding the write
/// turn; on PostgreSQL one at a time): all in one transaction when each of
/// them goes through; otherwise (one stale, one claim lost, a database
/// error that is not transient) that transaction is rolled back and each
/// order is written in its own, so one order's failure is its own alone.
pub(crate) async fn write_orders(db: &Db, writes: Vec<OrderWrite>) -> Vec<WriteResult> {
    if writes.len() > 1 {
        match write_together(db, &writes).await {
            Ok(results) if results.iter().all(Result::is_ok) => return results,
            Ok(_) => {}
            // The database is away or busy: each order alone would wait for
            // it again (SQLite's busy timeout, PostgreSQL's reconnection),
            // under the turn. Each is answered "try again".
            Err(e) if e.is_transient() => return unavailable(writes.len(), &e),
            Err(e) => tracing::warn!(
                "a group of {} orders is written one by one: {e}",
                writes.len()
            ),
        }
    }
    let mut results = Vec::with_capacity(writes.len());
    for w in &writes {
        results.push(match write_together(db, std::slice::from_ref(w)).await {
            Ok(mut r) => r.pop().unwrap_or(Ok(None)),
            Err(e) => Err(e.into()),
        });
    }
    results
}

/// The same transient error for each of `n` orders.
fn unavailable(n: usize, e: &dyn std::fmt::Display) -> Vec<WriteResult> {
    let e = e.to_string();
    (0..n)
        .map(|_| Err(CommitError::Db(DbError::Unavailable(e.clone()))))
        .collect()
}

/// `writes` in one transaction, committed only if each goes through.
async fn write_together(db: &Db, writes: &[OrderWrite]) -> Result<Vec<WriteResult>, DbError> {
    let mut tx = db.pool.begin().await?;
    let results = commit_writes(&mut tx, writes).await?;
    match results.iter().all(Result::is_ok) {
        true => tx.commit().await?,
        false => tx.rollback().await?,
    }
    Ok(results)
}

/// A billing runner's hold on a batch of subscriptions while it charges
/// them and writes the results.
pub enum RunLock {
    /// PostgreSQL: a transaction holding the row locks of `ids`; the writes
    /// go into it, and a runner that dies releases them with its connection.
    Held {
        tx: Transaction<'static, Any>,
        ids: std::collections::HashSet<i64>,
    },
    /// SQLite: one writer at a time anyway; the version check decides.
    NotNeeded,
}

impl RunLock {
    pub fn holds(&self, id: i64) -> bool {
        match self {
            RunLock::Held { ids, .. } => ids.contains(&id),
            RunLock::NotNeeded => true,
        }
    }
}

/// Locks what it can of `read`, (id, version) as the runner read them
/// (`FOR UPDATE SKIP LOCKED`): rows another runner holds are left out, not
/// waited for, and so are rows changed since they were read (another
/// runner renewed them between this one's read and its lock): charging
/// those would only be refunded at the version check.
pub async fn lock_for_run(db: &Db, read: &[(i64, i64)]) -> Result<RunLock, DbError> {
    if db.backend != super::Backend::Postgres || read.is_empty() {
        return Ok(RunLock::NotNeeded);
    }
    let mut tx = db.pool.begin().await?;
    let sql = format!(
        "SELECT id, version FROM subscriptions WHERE id IN ({}) FOR UPDATE SKIP LOCKED",
        placeholders(1, read.len())
    );
    let mut q = sqlx::query_as::<_, (i64, i64)>(&sql);
    for (id, _) in read {
        q = q.bind(id);
    }
    let locked = q.fetch_all(&mut *tx).await?;
    let read: std::collections::HashSet<&(i64, i64)> = read.iter().collect();
    Ok(RunLock::Held {
        tx,
        ids: locked
            .into_iter()
            .filter(|row| read.contains(row))
            .map(|(id, _)| id)
            .collect(),
    })
}

/// `$from, …` for `count` parameters.
pub(crate) fn placeholders(from: usize, count: usize) -> String {
    (from..from + count)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Writes the billing run's steps in one transaction. Each write holds one
/// subscription, written first: a stale one has written nothing and is
/// reported as such while the others go ahead.
pub async fn commit_batch(
    db: &Db,
    lock: RunLock,
    writes: Vec<OrderWrite>,
) -> Result<Vec<Result<Option<(i64, String)>, CommitError>>, DbError> {
    let _turn = db.write_turn().await;
    debug_assert!(writes.iter().all(|w| w.subscriptions.len() == 1));
    let mut tx = match lock {
        RunLock::Held { tx, .. } => tx,
        RunLock::NotNeeded => db.pool.begin().await?,
    };
    let results = commit_writes(&mut tx, &writes).await?;
    tx.commit().await?;
    Ok(results)
}

pub type WriteResult = Result<Option<(i64, String)>, CommitError>;

/// Writes orders or billing-run steps into `tx`. The subscriptions go
/// first, under their version checks (a stale one drops its own write
/// only); the rows they add (invoices, lines, payments, emails, audit) then
/// go in one multi-row statement per table: seven statements per renewal
/// made the billing run mostly round trips. Writes first: on SQLite the
/// transaction then takes the write lock at once instead of failing to
/// upgrade a read lock under contention.
async fn commit_writes(
    tx: &mut impl Exec,
    writes: &[OrderWrite],
) -> Result<Vec<WriteResult>, DbError> {
    let now = super::now_text();
    let mut results: Vec<WriteResult> = writes.iter().map(|_| Ok(None)).collect();
    let mut kept: Vec<(usize, &OrderWrite)> = writes.iter().enumerate().collect();
    // The billing run's credit first, before its subscriptions (whose rows
    // its lock already holds, so the lock order stays subscriptions then
    // accounts): a renewal whose credit an order spent meanwhile writes
    // nothing and is refunded, the others go ahead.
    let mut run_credits: Vec<(i64, usize)> = kept
        .iter()
        .filter(|(_, w)| w.order.is_none() && w.credit_delta_minor != 0)
        .map(|(i, w)| (w.account_id, *i))
        .collect();
    run_credits.sort_unstable();
    for (_, i) in run_credits {
        let w = &writes[i];
        if !move_credit(tx, w.account_id, w.credit_delta_minor).await? {
            results[i] = Err(CommitError::Stale);
        }
    }
    kept.retain(|(i, _)| results[*i].is_ok());
    // Updates of every write in one statement, each under its version check;
    // a write whose update missed is stale. Several writes in one call hold
    // one subscription each (`commit_batch`), so a stale one wrote nothing;
    // orders with a stale one are rolled back and written alone
    // (`write_orders`).
    let updates: Vec<(i64, &SubscriptionWrite)> = kept
        .iter()
        .flat_map(|(_, w)| w.subscriptions.iter().map(|s| (w.account_id, s)))
        .filter(|(_, s)| s.existing.is_some())
        .collect();
    let updated = update_subscriptions(tx, &updates, &now).await?;
    let mut fresh = Vec::with_capacity(kept.len());
    for (i, w) in kept {
        let stale = w
            .subscriptions
            .iter()
            .any(|s| s.existing.is_some_and(|(id, _)| !updated.contains(&id)));
        let inserted = match stale {
            true => Err(CommitError::Stale),
            false => insert_subscriptions(tx, w.account_id, &w.subscriptions, &now).await,
        };
        match inserted {
            Ok(()) => fresh.push((i, w)),
            Err(CommitError::Db(e)) => return Err(e),
            Err(e) => results[i] = Err(e),
        }
    }
    let mut kept = fresh;
    // What does not need the invoice goes first: on PostgreSQL the invoice
    // counter's row stays locked from its numbering to the commit, and
    // every order waits for it, so as few round trips as can follow it do.
    // Accounts in id order: two batches that change the same accounts'
    // credit lock them in the same order, so neither waits for the other
    // in a cycle (the counter no longer serializes them).
    let mut credits: Vec<(i64, usize)> = kept
        .iter()
        .filter(|(_, w)| w.order.is_some() && w.credit_delta_minor != 0)
        .map(|(i, w)| (w.account_id, *i))
        .collect();
    credits.sort_unstable();
    for (_, i) in credits {
        let w = &writes[i];
        if !move_credit(tx, w.account_id, w.credit_delta_minor).await? {
            results[i] = Err(CommitError::Stale);
        }
    }
    kept.retain(|(i, _)| results[*i].is_ok());
    let mut audits = Vec::with_capacity(kept.len());
    for (_, w) in &kept {
        if w.order.is_some() {
            tx.execute(
                "DELETE FROM cart_items WHERE account_id = $1",
                vec![Param::Int(Some(w.account_id))],
            )
            .await?;
        }
        audits.extend([
            Param::Int(Some(w.account_id)),
            Param::Int(w.user_id),
            text(if w.order.is_some() {
                "order"
            } else {
                "billing_run"
            }),
            text(&w.audit),
            text(&now),
        ]);
    }
    multi_row(
        tx,
        "INSERT INTO audit_log (account_id, user_id, action, detail, created_at)",
        5,
        "",
        audits,
    )
    .await?;
    let mut invoices = {
        let issued: Vec<(i64, &InvoiceWrite)> = kept
            .iter()
            .filter_map(|(_, w)| w.invoice.as_ref().map(|inv| (w.account_id, inv)))
            .collect();
        insert_invoices(tx, &issued, &now).await?.into_iter()
    };
    let mut payments = Vec::new();
    let mut movements = Vec::new();
    let mut attempts = Vec::new();
    let mut emails = Vec::with_capacity(kept.len());
    for (i, w) in kept {
        let invoice = match &w.invoice {
            Some(_) => invoices.next(),
            None => None,
        };
        if let Some((order_id, lease)) = &w.order {
            // Only the holder of the claim may complete the order; a lost
            // claim rolls back all of it (`write_orders`).
            let done = tx
                .execute(
                    "UPDATE orders SET status = 'done', invoice_id = $1
                     WHERE id = $2 AND status = 'pending' AND lease_until = $3",
                    vec![
                        Param::Int(invoice.as_ref().map(|(id, _)| *id)),
                        Param::Int(Some(*order_id)),
                        text(lease),
                    ],
                )
                .await?;
            if done != 1 {
                results[i] = Err(CommitError::ClaimLost);
                continue;
            }
        }
        if let (Some(reference), Some((invoice_id, _)), Some(inv)) =
            (&w.payment_ref, &invoice, &w.invoice)
        {
            payments.extend([
                Param::Int(Some(w.account_id)),
                Param::Int(Some(*invoice_id)),
                Param::Int(Some(inv.total_minor)),
                Param::Text(Some(Cow::Owned(inv.currency.clone()))),
                text("succeeded"),
                Param::Text(Some(Cow::Owned(reference.clone()))),
                text(&now),
            ]);
        }
        if let Some(a) = &w.attempt {
            attempts.extend(super::payments::params(a, &now));
        }
        if w.credit_delta_minor != 0 {
            movements.extend(movement(
                w.account_id,
                invoice.as_ref().map(|(id, _)| *id),
                w.credit_delta_minor,
                &now,
            ));
        }
        emails.push((
            Some(w.account_id),
            (w.email)(invoice.as_ref().map(|(_, n)| n.as_str())),
        ));
        results[i] = Ok(invoice);
    }
    multi_row(
        tx,
        "INSERT INTO payments (account_id, invoice_id, amount_minor, currency, status, gateway_ref, created_at)",
        7,
        "",
        payments,
    )
    .await?;
    multi_row(
        tx,
        "INSERT INTO credit_movements (account_id, invoice_id, amount_minor, reason, created_at)",
        5,
        "",
        movements,
    )
    .await?;
    multi_row(
        tx,
        super::payments::INSERT,
        10,
        super::payments::UPSERT,
        attempts,
    )
    .await?;
    let emails: Vec<_> = emails.iter().map(|(a, e)| (*a, e)).collect();
    enqueue_emails(tx, &emails, &now).await?;
    Ok(results)
}

/// Moves `delta` into the account's credit unless that would take it below
/// zero; false when it would (the credit was spent meanwhile).
async fn move_credit(tx: &mut impl Exec, account_id: i64, delta: i64) -> Result<bool, DbError> {
    let moved = tx
        .execute(
            "UPDATE accounts SET credit_balance_minor = credit_balance_minor + $1
             WHERE id = $2 AND credit_balance_minor + $1 >= 0",
            vec![Param::Int(Some(delta)), Param::Int(Some(account_id))],
        )
        .await?;
    Ok(moved == 1)
}

/// The ledger row of a credit movement: created when positive (an invoice
/// whose lines sum below zero), applied when negative.
fn movement(account_id: i64, invoice_id: Option<i64>, delta: i64, now: &str) -> [Param<'_>; 5] {
    [
        Param::Int(Some(account_id)),
        Param::Int(invoice_id),
        Param::Int(Some(delta)),
        text(if delta > 0 { "created" } else { "applied" }),
        text(now),
    ]
}

/// Under SQLite's default limit of 32,766 bound parameters (PostgreSQL's
/// is 65,535).
const MAX_PARAMS: usize = 30_000;

/// `{head} VALUES (…), (…){tail}` over `params`, `cols` to a row, in as few
/// statements as the parameter limit allows; the rows `tail` returns.
async fn multi_row<E: Exec>(
    tx: &mut E,
    head: &str,
    cols: usize,
    tail: &str,
    params: Vec<Param<'_>>,
) -> Result<Vec<E::Row>, DbError> {
    debug_assert_eq!(params.len() % cols, 0);
    // Anonymous `?` on SQLite: sqlx looks every `$n` up by name, a linear
    // scan each in SQLite (quadratic in the parameters of a statement, 39 %
    // of a billing run's samples with 2,300 parameters per statement).
    let anonymous =
        (tx.backend() == Backend::Sqlite).then(|| format!("({})", vec!["?"; cols].join(", ")));
    let row = |r: usize| match &anonymous {
        Some(row) => row.clone(),
        None => format!("({})", placeholders(r * cols + 1, cols)),
    };
    let mut out = Vec::new();
    let mut params = params.into_iter().peekable();
    while params.peek().is_some() {
        let chunk: Vec<Param<'_>> = params.by_ref().take(MAX_PARAMS / cols * cols).collect();
        let values = (0..chunk.len() / cols)
            .map(row)
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!("{head} VALUES {values}{tail}");
        out.extend(tx.fetch(&sql, chunk).await?);
    }
    Ok(out)
}

/// Updates `writes` (existing subscriptions) where their version still is
/// the one read; the ids updated.
async fn update_subscriptions(
    tx: &mut impl Exec,
    writes: &[(i64, &SubscriptionWrite)],
    now: &str,
) -> Result<std::collections::HashSet<i64>, DbError> {
    let mut params = Vec::with_capacity(writes.len() * 21);
    for (account_id, s) in writes {
        let Some((id, version)) = s.existing else {
            continue;
        };
        let (sl, ss, sf) = match &s.scheduled {
            Some((l, n, f)) => (Some(l.as_str()), Some(*n), Some(f.as_str())),
            None => (None, None, None),
        };
        params.extend([
            Param::Int(Some(id)),
            Param::Int(Some(*account_id)),
            Param::Int(Some(version)),
        ]);
        params.extend(plan_params(s));
        params.extend([
            Param::Text(sl.map(Cow::Borrowed)),
            Param::Int(ss),
            Param::Text(sf.map(Cow::Borrowed)),
            opt_text(&s.ended_on),
            opt_text(&s.anchor_on),
            Param::Int(Some(s.dunning_step)),
            opt_text(&s.next_retry_on),
            text(now),
        ]);
    }
    // VALUES columns are named column1… on SQLite and PostgreSQL alike.
    let rows = multi_row(
        tx,
        "UPDATE subscriptions SET level = v.column4, seats = v.column5, frequency = v.column6,
           status = v.column7, period_start = v.column8, period_end = v.column9,
           paid_unit_minor = v.column10, paid_seats = v.column11, period_paid_minor = v.column12,
           period_credited_minor = v.column13, scheduled_level = v.column14,
           scheduled_seats = v.column15, scheduled_frequency = v.column16, ended_on = v.column17,
           anchor_on = v.column18, dunning_step = v.column19, next_retry_on = v.column20,
           version = subscriptions.version + 1, updated_at = v.column21
         FROM (",
        21,
        ") AS v WHERE subscriptions.id = v.column1 AND subscriptions.account_id = v.column2
           AND subscriptions.version = v.column3 RETURNING subscriptions.id",
        params,
    )
    .await?;
    Ok(rows.iter().map(|r| r.int("id")).collect::<Result<_, _>>()?)
}

/// A subscription's plan and period as bound in both its update and its
/// insert, in their columns' order there.
fn plan_params(s: &SubscriptionWrite) -> [Param<'_>; 10] {
    [
        text(&s.level),
        Param::Int(Some(s.seats)),
        text(&s.frequency),
        text(&s.status),
        opt_text(&s.period_start),
        opt_text(&s.period_end),
        Param::Int(s.paid_unit_minor),
        Param::Int(s.paid_seats),
        Param::Int(s.period_paid_minor),
        Param::Int(s.period_credited_minor),
    ]
}

/// Inserts the new subscriptions among `subs`; `Stale` when the account
/// already has one of the product (another window subscribed first).
async fn insert_subscriptions(
    tx: &mut impl Exec,
    account_id: i64,
    subs: &[SubscriptionWrite],
    now: &str,
) -> Result<(), CommitError> {
    for s in subs.iter().filter(|s| s.existing.is_none()) {
        let inserted = tx
            .execute(
                "INSERT INTO subscriptions (account_id, product, level, seats, frequency, status,
                   period_start, period_end, paid_unit_minor, paid_seats, period_paid_minor,
                   period_credited_minor, version, updated_at, anchor_on)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 1, $13, $7)
                 ON CONFLICT (account_id, product) DO NOTHING",
                [Param::Int(Some(account_id)), text(&s.product)]
                    .into_iter()
                    .chain(plan_params(s))
                    .chain([text(now)])
                    .collect(),
            )
            .await?;
        if inserted != 1 {
            // Another window subscribed to the same product first.
            return Err(CommitError::Stale);
        }
    }
    Ok(())
}

/// Numbers and inserts invoices with their lines; their (id, number) in
/// the order given.
async fn insert_invoices(
    tx: &mut impl Exec,
    items: &[(i64, &InvoiceWrite)],
    now: &str,
) -> Result<Vec<(i64, String)>, DbError> {
    // The next numbers of each seller's series, inside this transaction: a
    // rolled-back order leaves no gap, concurrent orders queue on the row.
    let mut next: Vec<(&str, i64)> = Vec::new();
    for (_, inv) in items {
        match next.iter_mut().find(|(s, _)| *s == inv.seller) {
            Some((_, n)) => *n += 1,
            None => next.push((&inv.seller, 1)),
        }
    }
    for (seller, n) in &mut next {
        let rows = tx
            .fetch(
                "INSERT INTO invoice_counters (seller, last_number) VALUES ($1, $2)
                 ON CONFLICT (seller) DO UPDATE SET last_number = invoice_counters.last_number + $2
                 RETURNING last_number",
                vec![text(seller), Param::Int(Some(*n))],
            )
            .await?;
        let last = match rows.first() {
            Some(row) => row.int("last_number")?,
            None => return Err(sqlx::Error::RowNotFound.into()),
        };
        *n = last - *n + 1;
    }
    let mut seqs = Vec::with_capacity(items.len());
    for (_, inv) in items {
        let Some((_, seq)) = next.iter_mut().find(|(s, _)| *s == inv.seller) else {
            return Err(sqlx::Error::Protocol("invoice seller not numbered".into()).into());
        };
        seqs.push((*seq, format!("{}-{:06}", inv.seller, *seq)));
        *seq += 1;
    }
    let mut params = Vec::with_capacity(items.len() * 23);
    for ((account_id, inv), (seq, number)) in items.iter().zip(&seqs) {
        params.extend([
            Param::Int(Some(*account_id)),
            text(&inv.seller),
            Param::Int(Some(*seq)),
            text(number),
            text(&inv.issued_on),
            text(&inv.time_zone),
            text(&inv.currency),
            Param::Int(Some(inv.net_minor)),
            Param::Int(Some(inv.credit_applied_minor)),
            text(&inv.vat_rate),
            Param::Int(Some(inv.vat_minor)),
            Param::Int(Some(inv.total_minor)),
            opt_text(&inv.tax_mention),
            text(&inv.status),
            text(&inv.seller_details),
            text(&inv.buyer_name),
            text(&inv.buyer_country),
            opt_text(&inv.buyer_vat_number),
            text(&inv.buyer_email),
            opt_text(&inv.period_start),
            opt_text(&inv.period_end),
            text(now),
            opt_text(&inv.renewal_key),
        ]);
    }
    let rows = multi_row(
        tx,
        "INSERT INTO invoices (account_id, seller, seq, number, issued_on, time_zone, currency, net_minor,
           credit_applied_minor, vat_rate, vat_minor, total_minor, tax_mention, status, seller_details,
           buyer_name, buyer_country, buyer_vat_number, buyer_email, period_start, period_end, created_at, renewal_key)",
        23,
        " RETURNING id, number",
        params,
    )
    .await?;
    // Matched by number: a multi-row RETURNING promises no order.
    let ids = rows
        .iter()
        .map(|r| Ok((r.text("number")?, r.int("id")?)))
        .collect::<Result<std::collections::HashMap<_, _>, sqlx::Error>>()?;
    let mut out = Vec::with_capacity(items.len());
    let mut lines = Vec::new();
    for ((_, inv), (_, number)) in items.iter().zip(seqs) {
        let Some(&id) = ids.get(&number) else {
            return Err(sqlx::Error::RowNotFound.into());
        };
        for (position, l) in inv.lines.iter().enumerate() {
            lines.extend([
                Param::Int(Some(id)),
                Param::Int(Some(position as i64)),
                text(&l.description),
                Param::Int(Some(l.seats)),
                Param::Int(Some(l.unit_minor)),
                Param::Int(Some(l.amount_minor)),
                text(&l.period_start),
                text(&l.period_end),
            ]);
        }
        out.push((id, number));
    }
    multi_row(
        tx,
        "INSERT INTO invoice_lines (invoice_id, position, description, seats, unit_minor, amount_minor,
           period_start, period_end)",
        8,
        "",
        lines,
    )
    .await?;
    Ok(out)
}

pub(crate) async fn enqueue_email(
    tx: &mut impl Exec,
    account_id: Option<i64>,
    e: &EmailWrite,
    now: &str,
) -> Result<(), DbError> {
    enqueue_emails(tx, &[(account_id, e)], now).await
}

async fn enqueue_emails(
    tx: &mut impl Exec,
    emails: &[(Option<i64>, &EmailWrite)],
    now: &str,
) -> Result<(), DbError> {
    let mut params = Vec::with_capacity(emails.len() * 7);
    for (account_id, e) in emails {
        params.extend([
            Param::Int(*account_id),
            text(&e.to),
            text(&e.subject),
            text(&e.text),
            text(&e.html),
            text(now),
            text(now),
        ]);
    }
    multi_row(
        tx,
        "INSERT INTO email_outbox (account_id, to_addr, subject, body_text, body_html, created_at, next_attempt_at)",
        7,
        "",
        params,
    )
    .await?;
    Ok(())
}

// ---- invoices ----

#[derive(Clone, Debug, PartialEq)]
pub struct InvoiceRecord {
    pub id: i64,
    pub number: String,
    pub issued_on: String,
    pub currency: String,
    pub net_minor: i64,
    pub vat_rate: String,
    pub vat_minor: i64,
    pub total_minor: i64,
    pub tax_mention: Option<String>,
    pub status: String,
    pub seller_details: String,
    pub buyer_name: String,
    pub buyer_email: String,
    pub buyer_country: String,
    pub buyer_vat_number: Option<String>,
    pub credit_applied_minor: i64,
    /// Σ of its lines, which its documents print as the subtotal.
    pub lines_minor: i64,
    pub period_start: Option<String>,
    pub period_end: Option<String>,
}

impl InvoiceRecord {
    /// The figures its documents print; an error when what is stored does
    /// not add up.
    pub fn figures(&self) -> Result<crate::billing::InvoiceFigures, crate::billing::BillingError> {
        use crate::billing::{Currency, Money};
        let cur = Currency::parse(&self.currency)?;
        let m = |minor| Money::from_minor(minor, cur);
        crate::billing::InvoiceFigures::new(
            &[m(self.lines_minor)],
            m(self.credit_applied_minor),
            m(self.net_minor),
            m(self.vat_minor),
            m(self.total_minor),
        )
    }
}

/// An invoice row with the sum of its lines.
const INVOICE_COLUMNS: &str = "invoices.*, CAST((SELECT COALESCE(SUM(l.amount_minor), 0)
     FROM invoice_lines l WHERE l.invoice_id = invoices.id) AS BIGINT) AS lines_minor";

fn invoice(r: &AnyRow) -> Result<InvoiceRecord, sqlx::Error> {
    Ok(InvoiceRecord {
        id: r.try_get("id")?,
        number: r.try_get("number")?,
        issued_on: r.try_get("issued_on")?,
        currency: r.try_get("currency")?,
        net_minor: r.try_get("net_minor")?,
        vat_rate: r.try_get("vat_rate")?,
        vat_minor: r.try_get("vat_minor")?,
        total_minor: r.try_get("total_minor")?,
        tax_mention: r.try_get("tax_mention")?,
        status: r.try_get("status")?,
        seller_details: r.try_get("seller_details")?,
        buyer_name: r.try_get("buyer_name")?,
        buyer_email: r.try_get("buyer_email")?,
        buyer_country: r.try_get("buyer_country")?,
        buyer_vat_number: r.try_get("buyer_vat_number")?,
        credit_applied_minor: r.try_get("credit_applied_minor")?,
        lines_minor: r.try_get("lines_minor")?,
        period_start: r.try_get("period_start")?,
        period_end: r.try_get("period_end")?,
    })
}

/// Newest first, keyset-paginated: `before` is the last id of the previous page.
pub async fn invoices(
    db: &Db,
    account_id: i64,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<InvoiceRecord>, DbError> {
    let rows = sqlx::query(
        &format!("SELECT {INVOICE_COLUMNS} FROM invoices WHERE account_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3"),
    )
    .bind(account_id)
    .bind(before.unwrap_or(i64::MAX))
    .bind(limit)
    .fetch_all(&db.pool)
    .await?;
    Ok(rows.iter().map(invoice).collect::<Result<_, _>>()?)
}

/// One invoice of this account (another account's id is simply not found).
pub async fn invoice_with_lines(
    db: &Db,
    account_id: i64,
    id: i64,
) -> Result<Option<(InvoiceRecord, Vec<InvoiceLineWrite>)>, DbError> {
    let Some(row) = sqlx::query(&format!(
        "SELECT {INVOICE_COLUMNS} FROM invoices WHERE id = $1 AND account_id = $2"
    ))
    .bind(id)
    .bind(account_id)
    .fetch_optional(&db.pool)
    .await?
    else {
        return Ok(None);
    };
    let lines = sqlx::query(
        "SELECT description, seats, unit_minor, amount_minor, period_start, period_end
         FROM invoice_lines WHERE invoice_id = $1 ORDER BY position",
    )
    .bind(id)
    .fetch_all(&db.pool)
    .await?
    .iter()
    .map(|r| {
        Ok(InvoiceLineWrite {
            description: r.try_get("description")?,
            seats: r.try_get("seats")?,
            unit_minor: r.try_get("unit_minor")?,
            amount_minor: r.try_get("amount_minor")?,
            period_start: r.try_get("period_start")?,
            period_end: r.try_get("period_end")?,
        })
    })
    .collect::<Result<Vec<_>, sqlx::Error>>()?;
    Ok(Some((invoice(&row)?, lines)))
}

/// Seeds a historical paid invoice (demo data, or a credit note) through the
/// same numbering, with the credit it creates or uses.
pub async fn insert_paid_invoice(
    db: &Db,
    account_id: i64,
    inv: &InvoiceWrite,
) -> Result<(i64, String), CommitError> {
    let now = super::now_text();
    let mut tx = db.pool.begin().await.map_err(DbError::from)?;
    let mut out = insert_invoices(&mut tx, &[(account_id, inv)], &now).await?;
    // A credit note (lines below zero) creates the credit it is for.
    let lines: i64 = inv.lines.iter().map(|l| l.amount_minor).sum();
    let delta = (-lines).max(0) - inv.credit_applied_minor;
    if delta != 0 {
        if !move_credit(&mut tx, account_id, delta).await? {
            return Err(CommitError::Stale);
        }
        let invoice_id = out.first().map(|(id, _)| *id);
        multi_row(
            &mut tx,
            "INSERT INTO credit_movements (account_id, invoice_id, amount_minor, reason, created_at)",
            5,
            "",
            movement(account_id, invoice_id, delta, &now).into(),
        )
        .await?;
    }
    tx.commit().await?;
    out.pop()
        .ok_or(CommitError::Db(DbError::Query(sqlx::Error::RowNotFound)))
}

// ---- outbox and audit ----

#[derive(Clone, Debug, PartialEq)]
pub struct OutboxRecord {
    pub id: i64,
    pub to_addr: String,
    pub subject: String,
    pub body_text: String,
    pub sent_at: Option<String>,
}

pub async fn outbox(db: &Db, account_id: i64) -> Result<Vec<OutboxRecord>, DbError> {
    let rows = sqlx::query(
        "SELECT id, to_addr, subject, body_text, sent_at FROM email_outbox WHERE account_id = $1 ORDER BY id DESC",
    )
    .bind(account_id)
    .fetch_all(&db.pool)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(OutboxRecord {
                id: r.try_get("id")?,
                to_addr: r.try_get("to_addr")?,
                subject: r.try_get("subject")?,
                body_text: r.try_get("body_text")?,
                sent_at: r.try_get("sent_at")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(DbError::from)
}

pub async fn audit(
    db: &Db,
    account_id: i64,
    user_id: i64,
    action: &str,
    detail: &str,
) -> Result<(), DbError> {
    sqlx::query("INSERT INTO audit_log (account_id, user_id, action, detail, created_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(account_id)
        .bind(user_id)
        .bind(action)
        .bind(detail)
        .bind(super::now_text())
        .execute(&db.pool)
        .await?;
    Ok(())
}

/// Counts rows of a table for tests and checks (fixed table names only).
pub async fn count(db: &Db, table: &'static str) -> Result<i64, DbError> {
    let (n,): (i64,) = sqlx::query_as(&format!("SELECT COUNT(*) FROM {table}"))
        .fetch_one(&db.pool)
        .await?;
    Ok(n)
}

/// Where a page of due subscriptions ends: the next page starts after it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DueCursor {
    /// The `due_on` column (migration 0007): the date the subscription next
    /// needs the run, by status. The empty string sorts before every date.
    pub due_on: String,
    pub id: i64,
}

/// Subscriptions with something due on or before `today` (ISO dates compare
/// as text), after `after` in (due date, id) order (a keyset page), and the
/// cursor of the last one.
pub async fn due_subscriptions(
    db: &Db,
    today: &str,
    after: &DueCursor,
    limit: i64,
) -> Result<(Vec<SubscriptionRecord>, Option<DueCursor>), DbError> {
    // Two index ranges instead of `(due_on, id) > (…)`: with that row value
    // SQLite starts at the cursor's date and filters the ids, and every
    // subscription of a month end shares one date (quadratic again). The
    // later dates are read only when the cursor's date runs out.
    fn due(r: &dyn Columns) -> Result<(SubscriptionRecord, String), DbError> {
        Ok((subscription(r)?, r.text("due_on")?))
    }
    let mut rows = db
        .read_rows(
            "SELECT * FROM subscriptions WHERE due_on = $1 AND id > $2 ORDER BY id LIMIT $3".into(),
            vec![
                owned(&after.due_on),
                Param::Int(Some(after.id)),
                Param::Int(Some(limit)),
            ],
            due,
        )
        .await?;
    if (rows.len() as i64) < limit {
        rows.extend(
            db.read_rows(
                "SELECT * FROM subscriptions WHERE due_on > $1 AND due_on <= $2
                 ORDER BY due_on, id LIMIT $3"
                    .into(),
                vec![
                    owned(&after.due_on),
                    owned(today),
                    Param::Int(Some(limit - rows.len() as i64)),
                ],
                due,
            )
            .await?,
        );
    }
    let next = rows.last().map(|(r, due_on)| DueCursor {
        due_on: due_on.clone(),
        id: r.id,
    });
    Ok((rows.into_iter().map(|(r, _)| r).collect(), next))
}

/// Trials and pending cancellations ending by `horizon` whose event has
/// not been reminded yet, after `after_id` (keyset: the engine skips those
/// not yet in their window, so the run pages through them).
pub async fn reminder_candidates(
    db: &Db,
    horizon: &str,
    after_id: i64,
    limit: i64,
) -> Result<Vec<SubscriptionRecord>, DbError> {
    let rows = sqlx::query(
        "SELECT * FROM subscriptions
         WHERE id > $2 AND (
               (status = 'trial' AND trial_ends_on <= $1
                AND (reminded_for IS NULL OR reminded_for <> trial_ends_on))
            OR (status = 'pending_cancellation' AND period_end <= $1
                AND (reminded_for IS NULL OR reminded_for <> period_end)))
         ORDER BY id LIMIT $3",
    )
    .bind(horizon)
    .bind(after_id)
    .bind(limit)
    .fetch_all(&db.pool)
    .await?;
    Ok(rows.iter().map(subscription).collect::<Result<_, _>>()?)
}

/// Marks the reminder for `about` as sent and enqueues its email, together;
/// `false` when it was already sent (another runner) or the status moved on.
pub async fn record_reminder(
    db: &Db,
    sub: &SubscriptionRecord,
    about: &str,
    email: &EmailWrite,
) -> Result<bool, DbError> {
    let mut tx = db.pool.begin().await?;
    let done = sqlx::query(
        "UPDATE subscriptions SET reminded_for = $1
         WHERE id = $2 AND status = $3 AND (reminded_for IS NULL OR reminded_for <> $1)",
    )
    .bind(about)
    .bind(sub.id)
    .bind(&sub.status)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if done != 1 {
        return Ok(false);
    }
    enqueue_email(&mut tx, Some(sub.account_id), email, &super::now_text()).await?;
    tx.commit().await?;
    Ok(true)
}

// ---- corporate: support tickets and paying open invoices ----

/// Stores a support request and the email to support, together.
pub async fn insert_ticket(
    db: &Db,
    account_id: i64,
    user_id: i64,
    subject: &str,
    message: &str,
    email: &EmailWrite,
) -> Result<i64, DbError> {
    let mut tx = db.pool.begin().await?;
    let now = super::now_text();
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO support_tickets (account_id, user_id, subject, message, created_at)
         VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(account_id)
    .bind(user_id)
    .bind(subject)
    .bind(message)
    .bind(&now)
    .fetch_one(&mut *tx)
    .await?;
    enqueue_email(&mut tx, Some(account_id), email, &now).await?;
    tx.commit().await?;
    Ok(id)
}

/// Open invoices of an account, oldest first.
pub async fn open_invoices(db: &Db, account_id: i64) -> Result<Vec<InvoiceRecord>, DbError> {
    let rows =
        sqlx::query(&format!("SELECT {INVOICE_COLUMNS} FROM invoices WHERE account_id = $1 AND status = 'open' ORDER BY id"))
            .bind(account_id)
            .fetch_all(&db.pool)
            .await?;
    Ok(rows.iter().map(invoice).collect::<Result<_, _>>()?)
}

/// What became of a payment of an open invoice.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InvoicePayment {
    Paid,
    /// It was not open any more: the charge is to be given back.
    NotOpen,
    /// Another request took the claim over and decides (see `ClaimLost`).
    ClaimLost,
}

/// Marks an open invoice paid with its payment, receipt and audit, in one
/// transaction, if this request still holds the order's claim.
pub async fn mark_invoice_paid(
    db: &Db,
    account_id: i64,
    user_id: i64,
    invoice_id: i64,
    (order_id, lease): (i64, &str),
    gateway_ref: &str,
    email: &EmailWrite,
) -> Result<InvoicePayment, DbError> {
    let mut tx = db.pool.begin().await?;
    let now = super::now_text();
    let held = sqlx::query(
        "UPDATE orders SET status = 'done', invoice_id = $1
         WHERE id = $2 AND status = 'pending' AND lease_until = $3",
    )
    .bind(invoice_id)
    .bind(order_id)
    .bind(lease)
    .execute(&mut *tx)
    .await?;
    if held.rows_affected() != 1 {
        return Ok(InvoicePayment::ClaimLost);
    }
    let done = sqlx::query(
        "UPDATE invoices SET status = 'paid' WHERE id = $1 AND account_id = $2 AND status = 'open'",
    )
    .bind(invoice_id)
    .bind(account_id)
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() != 1 {
        return Ok(InvoicePayment::NotOpen);
    }
    sqlx::query(
        "INSERT INTO payments (account_id, invoice_id, amount_minor, currency, status, gateway_ref, created_at)
         SELECT account_id, id, total_minor, currency, 'succeeded', $1, $2 FROM invoices WHERE id = $3",
    )
    .bind(gateway_ref)
    .bind(&now)
    .bind(invoice_id)
    .execute(&mut *tx)
    .await?;
    enqueue_email(&mut tx, Some(account_id), email, &now).await?;
    sqlx::query("INSERT INTO audit_log (account_id, user_id, action, detail, created_at) VALUES ($1, $2, 'pay_invoice', $3, $4)")
        .bind(account_id)
        .bind(user_id)
        .bind(format!("invoice {invoice_id}"))
        .bind(&now)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(InvoicePayment::Paid)
}

#[derive(Clone, Debug, PartialEq)]
pub struct PendingEmail {
    pub id: i64,
    pub to_addr: String,
    pub subject: String,
    pub body_text: String,
    pub body_html: String,
    pub attempts: i64,
}

/// Unsent emails whose next attempt is due.
pub async fn pending_emails(db: &Db, now: &str, limit: i64) -> Result<Vec<PendingEmail>, DbError> {
    let rows = sqlx::query(
        "SELECT id, to_addr, subject, body_text, body_html, attempts FROM email_outbox
         WHERE sent_at IS NULL AND next_attempt_at <= $1 ORDER BY id LIMIT $2",
    )
    .bind(now)
    .bind(limit)
    .fetch_all(&db.pool)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(PendingEmail {
                id: r.try_get("id")?,
                to_addr: r.try_get("to_addr")?,
                subject: r.try_get("subject")?,
                body_text: r.try_get("body_text")?,
                body_html: r.try_get("body_html")?,
                attempts: r.try_get("attempts")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(DbError::from)
}

pub async fn mark_email_sent(db: &Db, id: i64, now: &str) -> Result<(), DbError> {
    sqlx::query("UPDATE email_outbox SET sent_at = $1, attempts = attempts + 1, last_error = NULL WHERE id = $2 AND sent_at IS NULL")
        .bind(now)
        .bind(id)
        .execute(&db.pool)
        .await?;
    Ok(())
}

pub async fn mark_email_failed(
    db: &Db,
    id: i64,
    error: &str,
    next_attempt_at: &str,
) -> Result<(), DbError> {
    sqlx::query("UPDATE email_outbox SET attempts = attempts + 1, last_error = $1, next_attempt_at = $2 WHERE id = $3")
        .bind(error)
        .bind(next_attempt_at)
        .bind(id)
        .execute(&db.pool)
        .await?;
    Ok(())
}
