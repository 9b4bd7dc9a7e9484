//! Payment attempts that did not pay (`payment_attempts`): declined,
//! unconfirmed, refunded, or refunds refused. An attempt that paid is its
//! payment row (`payments.gateway_ref`, the charge made under its
//! reference), written with what it paid for.

use crate::domain::ids::{AccountId, InvoiceId};
use std::collections::HashMap;

use sqlx::Row;

use super::error::DbError;
use super::exec::{Exec, Param, multi_row, owned, text};
use super::pool::Db;
use super::writes::{AttemptStatus, AttemptWrite};

/// The insert, whose rows [`params`] gives.
macro_rules! insert {
    () => {
        "INSERT INTO payment_attempts
         (account_id, purpose, reference, amount_minor, currency, status, charge_id, error, created_at, updated_at)"
    };
}

/// A later outcome of the same reference (refunded after a refused
/// refund) replaces the earlier one.
macro_rules! upsert {
    () => {
        " ON CONFLICT (reference) DO UPDATE SET
         status = excluded.status,
         charge_id = COALESCE(excluded.charge_id, payment_attempts.charge_id),
         error = excluded.error, updated_at = excluded.updated_at"
    };
}

const INSERT: &str = insert!();
const UPSERT: &str = upsert!();

fn params(a: &AttemptWrite, now: &str) -> Vec<Param<'static>> {
    vec![
        Param::from(a.account_id),
        owned(&a.purpose),
        owned(&a.reference),
        Param::Int(Some(a.amount_minor)),
        owned(&a.currency),
        owned(a.status.code()),
        Param::Text(a.charge_id.clone().map(Into::into)),
        Param::Text(a.error.clone().map(Into::into)),
        owned(now),
        owned(now),
    ]
}

/// Records an outcome on its own (an order's decline, a refund); the
/// billing run's declines go with its batch (`commit::commit_batch`).
pub async fn record(db: &Db, a: &AttemptWrite) -> Result<(), DbError> {
    const SQL: &str = concat!(
        insert!(),
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        upsert!()
    );
    db.write_one(SQL, params(a, &super::row::now_text()))
        .await?;
    Ok(())
}

/// For each of `purposes`, how many of its attempts closed without paying:
/// the number of its next attempt.
pub async fn closed_attempts(
    db: &Db,
    purposes: &[String],
) -> Result<HashMap<String, i64>, DbError> {
    let mut out = HashMap::new();
    for chunk in purposes.chunks(500) {
        let sql = format!(
            "SELECT purpose, CAST(COUNT(*) AS BIGINT) AS n FROM payment_attempts
             WHERE purpose IN ({}) GROUP BY purpose",
            super::exec::placeholders(1, chunk.len())
        );
        let mut q = sqlx::query(&sql);
        for p in chunk {
            q = q.bind(p);
        }
        for row in q.fetch_all(&db.pool).await? {
            out.insert(row.try_get("purpose")?, row.try_get("n")?);
        }
    }
    Ok(out)
}

/// Refunds the gateway refused or did not answer, oldest first.
pub async fn refunds_to_retry(db: &Db, limit: i64) -> Result<Vec<AttemptWrite>, DbError> {
    let rows = sqlx::query(
        "SELECT account_id, purpose, reference, amount_minor, currency, charge_id, error
         FROM payment_attempts WHERE status = 'refund_failed' ORDER BY id LIMIT $1",
    )
    .bind(limit)
    .fetch_all(&db.pool)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(AttemptWrite {
                account_id: r.try_get("account_id")?,
                purpose: r.try_get("purpose")?,
                reference: r.try_get("reference")?,
                amount_minor: r.try_get("amount_minor")?,
                currency: r.try_get("currency")?,
                status: AttemptStatus::RefundFailed,
                charge_id: r.try_get("charge_id")?,
                error: r.try_get("error")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(DbError::from)
}

/// Whether a payment of `account_id` is recorded for the gateway charge
/// `charge_id`.
pub async fn charge_recorded(
    db: &Db,
    account_id: AccountId,
    charge_id: &str,
) -> Result<bool, DbError> {
    let row: Option<(i64,)> =
        sqlx::query_as("SELECT 1 FROM payments WHERE account_id = $1 AND gateway_ref = $2 LIMIT 1")
            .bind(account_id)
            .bind(charge_id)
            .fetch_optional(&db.pool)
            .await?;
    Ok(row.is_some())
}

/// A successful charge, recorded with the invoice it paid.
pub(super) struct Paid<'a> {
    pub account_id: AccountId,
    pub invoice_id: InvoiceId,
    pub amount_minor: i64,
    pub currency: &'a str,
    pub reference: &'a str,
}

/// `paid` and the declined `attempts`, one statement each.
pub(super) async fn record_all(
    tx: &mut impl Exec,
    paid: &[Paid<'_>],
    attempts: &[&AttemptWrite],
    now: &str,
) -> Result<(), DbError> {
    let mut values = Vec::with_capacity(paid.len() * 7);
    for p in paid {
        values.extend([
            Param::from(p.account_id),
            Param::from(p.invoice_id),
            Param::Int(Some(p.amount_minor)),
            text(p.currency),
            text("succeeded"),
            text(p.reference),
            text(now),
        ]);
    }
    multi_row(
        tx,
        "INSERT INTO payments (account_id, invoice_id, amount_minor, currency, status, gateway_ref, created_at)",
        7,
        "",
        values,
    )
    .await?;
    let rows = attempts.iter().flat_map(|a| params(a, now)).collect();
    multi_row(tx, INSERT, 10, UPSERT, rows).await?;
    Ok(())
}
