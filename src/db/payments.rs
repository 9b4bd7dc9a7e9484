//! Payment attempts that did not pay (`payment_attempts`): declined,
//! unconfirmed, refunded, or refunds refused. An attempt that paid is its
//! payment row (`payments.gateway_ref`, the charge made under its
//! reference), written with what it paid for.

use crate::billing::{Currency, Money};
use crate::domain::ids::{AccountId, InvoiceId, PaymentId};
use std::collections::HashMap;

use sqlx::Row;

use super::error::DbError;
use super::exec::{Exec, Param, multi_row, owned, text};
use super::pool::Db;
use super::row::{Columns, parsed};
use super::webhooks::EventWrite;
use super::writes::{AttemptStatus, AttemptWrite, EmailWrite};
use crate::domain::EventType;

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

impl AttemptWrite {
    /// A charge that did not go through, as `payment.failed` carries it.
    pub fn object(&self) -> serde_json::Value {
        serde_json::json!({
            "object": "payment_attempt",
            "account": self.account_id,
            "purpose": self.purpose,
            "reference": self.reference,
            "amount": Currency::parse(&self.currency)
                .ok()
                .map(|c| Money::from_minor(self.amount_minor, c).amount().to_string()),
            "currency": self.currency,
            "status": self.status.code(),
            "error": self.error,
        })
    }
}

/// Records an outcome on its own (an order's decline, a refund); the
/// billing run's declines go with its batch (`commit::commit_batch`).
pub async fn record(db: &Db, a: &AttemptWrite) -> Result<(), DbError> {
    const SQL: &str = concat!(
        insert!(),
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        upsert!()
    );
    let now = super::row::now_text();
    if a.status != AttemptStatus::Failed {
        db.write_one(SQL, params(a, &now)).await?;
        return Ok(());
    }
    // A decline is news for the seller's application: with its event.
    let _turn = db.write_turn().await;
    let mut tx = db.pool.begin().await?;
    tx.execute(SQL, params(a, &now)).await?;
    let event = EventWrite::new(EventType::PaymentFailed, a.account_id, a.object());
    super::webhooks::record_in(&mut tx, &[event], &now).await?;
    tx.commit().await?;
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

/// A recorded payment, found by the provider's charge id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PaymentRecord {
    pub id: PaymentId,
    pub account_id: AccountId,
    pub invoice_id: Option<InvoiceId>,
    /// The number of the invoice it paid.
    pub invoice_number: Option<String>,
    pub amount: Money,
    pub status: PaymentStatus,
    /// The provider's charge id.
    pub gateway_ref: String,
    pub created_at: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PaymentStatus {
    Succeeded,
    /// The money never arrived (a SEPA debit the bank returned).
    Reversed,
    /// Given back at the provider.
    Refunded,
}

impl PaymentStatus {
    pub fn code(self) -> &'static str {
        match self {
            PaymentStatus::Succeeded => "succeeded",
            PaymentStatus::Reversed => "reversed",
            PaymentStatus::Refunded => "refunded",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        [Self::Succeeded, Self::Reversed, Self::Refunded]
            .into_iter()
            .find(|s| s.code() == code)
    }
}

const PAYMENT_COLUMNS: &str = "p.id, p.account_id, p.invoice_id, i.number, p.amount_minor, \
    p.currency, p.status, p.gateway_ref, p.created_at \
    FROM payments p LEFT JOIN invoices i ON i.id = p.invoice_id";

fn payment(r: &dyn Columns) -> Result<PaymentRecord, DbError> {
    const TABLE: (&str, &str) = ("payments", "id");
    let currency = parsed(r, TABLE, "currency", Currency::parse)?;
    Ok(PaymentRecord {
        id: PaymentId::new(r.int("id")?),
        account_id: AccountId::new(r.int("account_id")?),
        invoice_id: r.opt_int("invoice_id")?.map(InvoiceId::new),
        invoice_number: r.opt_text("number")?,
        amount: Money::from_minor(r.int("amount_minor")?, currency),
        status: parsed(r, TABLE, "status", |code| {
            PaymentStatus::parse(code).ok_or("not a payment status")
        })?,
        gateway_ref: r.text("gateway_ref")?,
        created_at: r.text("created_at")?,
    })
}

pub async fn payment_of_charge(db: &Db, charge_id: &str) -> Result<Option<PaymentRecord>, DbError> {
    let sql = format!("SELECT {PAYMENT_COLUMNS} WHERE p.gateway_ref = $1");
    db.read_row(&sql, owned(charge_id), payment).await
}

/// An account's payments, newest first, keyset-paginated: `before` is the
/// last id of the previous page.
pub async fn payments_of_account(
    db: &Db,
    account_id: AccountId,
    before: Option<PaymentId>,
    limit: u32,
) -> Result<Vec<PaymentRecord>, DbError> {
    let sql = format!(
        "SELECT {PAYMENT_COLUMNS} WHERE p.account_id = $1 AND p.id < $2 ORDER BY p.id DESC LIMIT $3"
    );
    let params = vec![
        Param::from(account_id),
        Param::Int(Some(before.map_or(i64::MAX, PaymentId::get))),
        Param::Int(Some(i64::from(limit))),
    ];
    db.read_rows(sql, params, payment).await
}

/// What the provider did to a payment after it was recorded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reversal {
    /// The money never arrived (a SEPA debit the bank returned): its
    /// invoice is open again, to be paid.
    Failed,
    /// Given back from the provider's dashboard: the invoice stays paid.
    Refunded,
}

impl Reversal {
    fn status(self) -> PaymentStatus {
        match self {
            Reversal::Failed => PaymentStatus::Reversed,
            Reversal::Refunded => PaymentStatus::Refunded,
        }
    }
}

/// Records `reversal` of the payment of charge `charge_id`, with its audit
/// entry and `email`, in one transaction; false when there is no such
/// succeeded payment (unknown, or recorded already), and nothing changes.
pub async fn reverse_payment(
    db: &Db,
    charge_id: &str,
    reversal: Reversal,
    detail: &str,
    email: Option<&EmailWrite>,
) -> Result<bool, DbError> {
    let mut tx = db.pool.begin().await?;
    let now = super::row::now_text();
    let row: Option<(i64, Option<i64>)> = sqlx::query_as(
        "UPDATE payments SET status = $1 WHERE gateway_ref = $2 AND status = 'succeeded'
         RETURNING account_id, invoice_id",
    )
    .bind(reversal.status().code())
    .bind(charge_id)
    .fetch_optional(&mut *tx)
    .await?;
    let Some((account_id, invoice_id)) = row else {
        return Ok(false);
    };
    let account_id = AccountId::new(account_id);
    if let (Reversal::Failed, Some(invoice)) = (reversal, invoice_id) {
        sqlx::query("UPDATE invoices SET status = 'open' WHERE id = $1 AND status = 'paid'")
            .bind(invoice)
            .execute(&mut *tx)
            .await?;
    }
    let entry = super::audit::Entry {
        account_id,
        user_id: None,
        action: match reversal {
            Reversal::Failed => "payment_failed_late",
            Reversal::Refunded => "refunded_at_provider",
        },
        detail,
    };
    super::audit::record(&mut tx, &[entry], &now).await?;
    if let Some(e) = email {
        super::outbox::enqueue_email(&mut tx, Some(account_id), e, &now).await?;
    }
    if reversal == Reversal::Failed {
        let data = serde_json::json!({
            "object": "payment_attempt", "account": account_id, "invoice": invoice_id,
            "reference": charge_id, "status": "failed", "error": detail,
        });
        let event = EventWrite::new(EventType::PaymentFailed, account_id, data);
        super::webhooks::record_in(&mut tx, &[event], &now).await?;
    }
    tx.commit().await?;
    Ok(true)
}
