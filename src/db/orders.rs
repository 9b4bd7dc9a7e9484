//! Orders as idempotency claims: one row per key, held by a lease while
//! its request charges and commits.

use crate::billing::{Currency, Money};
use crate::domain::ids::{AccountId, InvoiceId, OrderId};

use super::error::DbError;
use super::exec::{Exec, Param, owned, text};
use super::pool::Db;
use super::row::{Columns, parsed};

/// Where an order's claim stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OrderStatus {
    /// Claimed: its request is charging and committing (or died doing so).
    Pending,
    /// Committed, with its invoice if it issued one.
    Done,
}

impl OrderStatus {
    fn parse(code: &str) -> Result<Self, &'static str> {
        match code {
            "pending" => Ok(OrderStatus::Pending),
            "done" => Ok(OrderStatus::Done),
            _ => Err("not an order status"),
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct OrderRecord {
    pub id: OrderId,
    pub request_hash: String,
    pub status: OrderStatus,
    pub invoice_id: Option<InvoiceId>,
    pub total: Money,
    /// Until when the process that claimed it may still be working on it.
    pub lease_until: Option<String>,
}

impl OrderRecord {
    /// A pending order whose claimer stopped (killed, crashed) before
    /// finishing: `now` is past its lease (no lease: from before leases).
    pub fn abandoned(&self, now: &str) -> bool {
        self.status == OrderStatus::Pending && self.lease_until.as_deref().is_none_or(|l| l < now)
    }
}

/// Claims an idempotency key: `Some(order id)` for the first caller, `None`
/// when the key already exists (the caller then reads that order).
pub async fn claim_order(
    db: &Db,
    account_id: AccountId,
    key: &str,
    request_hash: &str,
    total_minor: i64,
    currency: &str,
    lease_until: &str,
) -> Result<Option<OrderId>, DbError> {
    db.write_one(
        "INSERT INTO orders (account_id, idempotency_key, request_hash, status, total_minor, currency, created_at, lease_until)
         VALUES ($1, $2, $3, 'pending', $4, $5, $6, $7)
         ON CONFLICT (account_id, idempotency_key) DO NOTHING RETURNING id",
        vec![
            account_id.into(),
            owned(key),
            owned(request_hash),
            Param::Int(Some(total_minor)),
            owned(currency),
            owned(&super::row::now_text()),
            owned(lease_until),
        ],
    )
    .await
    .map(|id| id.map(OrderId::new))
}

pub async fn find_order(
    db: &Db,
    account_id: AccountId,
    key: &str,
) -> Result<Option<OrderRecord>, DbError> {
    let row = sqlx::query(
        "SELECT id, request_hash, status, invoice_id, total_minor, currency, lease_until FROM orders
         WHERE account_id = $1 AND idempotency_key = $2",
    )
    .bind(account_id)
    .bind(key)
    .fetch_optional(&db.pool)
    .await?;
    row.map(|r| {
        const TABLE: (&str, &str) = ("orders", "id");
        let currency = parsed(&r, TABLE, "currency", Currency::parse)?;
        Ok(OrderRecord {
            id: OrderId::new(r.int("id")?),
            request_hash: r.text("request_hash")?,
            status: parsed(&r, TABLE, "status", OrderStatus::parse)?,
            invoice_id: r.opt_int("invoice_id")?.map(InvoiceId::new),
            total: Money::from_minor(r.int("total_minor")?, currency),
            lease_until: r.opt_text("lease_until")?,
        })
    })
    .transpose()
}

/// Takes over an abandoned claim (its lease ran out before `now`): true
/// for exactly one caller, who then holds it until `lease_until`.
pub async fn take_over_order(
    db: &Db,
    order_id: OrderId,
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
pub async fn abandoned_orders(
    db: &Db,
    now: &str,
) -> Result<Vec<(OrderId, AccountId, String)>, DbError> {
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
pub async fn release_order(db: &Db, order_id: OrderId, lease: &str) -> Result<(), DbError> {
    let _turn = db.write_turn().await;
    sqlx::query("DELETE FROM orders WHERE id = $1 AND status = 'pending' AND lease_until = $2")
        .bind(order_id)
        .bind(lease)
        .execute(&db.pool)
        .await?;
    Ok(())
}

/// Marks the claimed order done with its invoice, if `lease` still holds
/// the claim; false when another request took it over.
pub(super) async fn complete(
    tx: &mut impl Exec,
    (order_id, lease): (OrderId, &str),
    invoice_id: Option<InvoiceId>,
) -> Result<bool, DbError> {
    let done = tx
        .execute(
            "UPDATE orders SET status = 'done', invoice_id = $1
             WHERE id = $2 AND status = 'pending' AND lease_until = $3",
            vec![Param::from(invoice_id), Param::from(order_id), text(lease)],
        )
        .await?;
    Ok(done == 1)
}
