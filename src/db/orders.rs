//! Orders as idempotency claims: one row per key, held by a lease while
//! its request charges and commits.

use sqlx::Row;

use super::error::DbError;
use super::exec::{Exec, Param, owned, text};
use super::pool::Db;

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
            owned(&super::row::now_text()),
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

/// Marks the claimed order done with its invoice, if `lease` still holds
/// the claim; false when another request took it over.
pub(super) async fn complete(
    tx: &mut impl Exec,
    (order_id, lease): (i64, &str),
    invoice_id: Option<i64>,
) -> Result<bool, DbError> {
    let done = tx
        .execute(
            "UPDATE orders SET status = 'done', invoice_id = $1
             WHERE id = $2 AND status = 'pending' AND lease_until = $3",
            vec![
                Param::Int(invoice_id),
                Param::Int(Some(order_id)),
                text(lease),
            ],
        )
        .await?;
    Ok(done == 1)
}
