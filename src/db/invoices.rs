//! Invoices and their lines: numbering without gaps, and the reads of
//! the documents and the invoice list.

use crate::domain::ids::{AccountId, InvoiceId, OrderId, UserId};
use sqlx::any::AnyRow;

use super::error::DbError;
use super::exec::{Exec, Param, multi_row, opt_date, opt_text, owned, text};
use super::outbox::enqueue_email;
use super::pool::Db;
use super::row::{Columns, parsed};
use super::webhooks::EventWrite;
use super::writes::{EmailWrite, InvoiceWrite};
use crate::billing::{Currency, InvoiceStatus, Money};
use crate::domain::EventType;
use chrono::NaiveDate;
use rust_decimal::Decimal;

/// An amount as stored: minor units.
fn minor(m: Money) -> Param<'static> {
    Param::Int(Some(m.to_minor()))
}

impl InvoiceRecord {
    /// As the operator API shows it and the `invoice.*` events carry it.
    pub fn object(&self, a: AccountId) -> serde_json::Value {
        let i = self;
        let amount = |m: Money| m.amount().to_string();
        serde_json::json!({
            "object": "invoice",
            "id": i.id,
            "account": a,
            "number": i.number,
            "status": i.status.code(),
            "issued_on": i.issued_on,
            "currency": i.currency.code(),
            "net": amount(i.net),
            "credit_applied": amount(i.credit_applied),
            "vat_rate": i.vat_rate.to_string(),
            "vat": amount(i.vat),
            "total": amount(i.total),
            "tax_mention": i.tax_mention,
            "period": i.period_start.zip(i.period_end).map(|(s, e)| serde_json::json!({"start": s, "end": e})),
            "pdf": format!("/api/v1/accounts/{a}/invoices/{}/pdf", i.id),
        })
    }
}

impl InvoiceWrite {
    /// The invoice as written, once numbered.
    pub fn record(&self, id: InvoiceId, number: &str) -> InvoiceRecord {
        let currency = self.total.currency();
        let lines: i64 = self.lines.iter().map(|l| l.amount.to_minor()).sum();
        InvoiceRecord {
            id,
            number: number.to_string(),
            issued_on: self.issued_on,
            currency,
            net: self.net,
            vat_rate: self.vat_rate,
            vat: self.vat,
            total: self.total,
            tax_mention: self.tax_mention.clone(),
            status: self.status,
            seller_details: self.seller_details.clone(),
            buyer_name: self.buyer_name.clone(),
            buyer_email: self.buyer_email.clone(),
            buyer_country: self.buyer_country.clone(),
            buyer_vat_number: self.buyer_vat_number.clone(),
            credit_applied: self.credit_applied,
            lines_total: Money::from_minor(lines, currency),
            period_start: self.period_start,
            period_end: self.period_end,
        }
    }
}

/// Numbers and inserts invoices with their lines; their (id, number) in
/// the order given.
pub(super) async fn insert_invoices(
    tx: &mut impl Exec,
    items: &[(AccountId, &InvoiceWrite)],
    now: &str,
) -> Result<Vec<(InvoiceId, String)>, DbError> {
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
            Param::from(*account_id),
            text(&inv.seller),
            Param::Int(Some(*seq)),
            text(number),
            opt_date(Some(inv.issued_on)),
            text(&inv.time_zone),
            text(inv.total.currency().code()),
            minor(inv.net),
            minor(inv.credit_applied),
            owned(&inv.vat_rate.to_string()),
            minor(inv.vat),
            minor(inv.total),
            opt_text(&inv.tax_mention),
            text(inv.status.code()),
            text(&inv.seller_details),
            text(&inv.buyer_name),
            text(&inv.buyer_country),
            opt_text(&inv.buyer_vat_number),
            text(&inv.buyer_email),
            opt_date(inv.period_start),
            opt_date(inv.period_end),
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
        .map(|r| Ok((r.text("number")?, InvoiceId::new(r.int("id")?))))
        .collect::<Result<std::collections::HashMap<_, _>, sqlx::Error>>()?;
    let mut out = Vec::with_capacity(items.len());
    let mut lines = Vec::new();
    for ((_, inv), (_, number)) in items.iter().zip(seqs) {
        let Some(&id) = ids.get(&number) else {
            return Err(sqlx::Error::RowNotFound.into());
        };
        for (position, l) in inv.lines.iter().enumerate() {
            lines.extend([
                Param::from(id),
                Param::Int(Some(position as i64)),
                text(&l.description),
                Param::Int(Some(l.seats)),
                minor(l.unit),
                minor(l.amount),
                opt_date(Some(l.period_start)),
                opt_date(Some(l.period_end)),
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

/// An issued invoice as stored, its amounts in its currency.
#[derive(Clone, Debug, PartialEq)]
pub struct InvoiceRecord {
    pub id: InvoiceId,
    pub number: String,
    pub issued_on: NaiveDate,
    pub currency: Currency,
    pub net: Money,
    pub vat_rate: Decimal,
    pub vat: Money,
    pub total: Money,
    pub tax_mention: Option<String>,
    pub status: InvoiceStatus,
    pub seller_details: String,
    pub buyer_name: String,
    pub buyer_email: String,
    pub buyer_country: String,
    pub buyer_vat_number: Option<String>,
    pub credit_applied: Money,
    /// Σ of its lines, which its documents print as the subtotal.
    pub lines_total: Money,
    pub period_start: Option<NaiveDate>,
    pub period_end: Option<NaiveDate>,
}

/// One line of an invoice as stored.
#[derive(Clone, Debug, PartialEq)]
pub struct InvoiceLineRecord {
    pub description: String,
    pub seats: i64,
    pub unit: Money,
    pub amount: Money,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
}

impl InvoiceRecord {
    /// The figures its documents print; an error when what is stored does
    /// not add up.
    pub fn figures(&self) -> Result<crate::billing::InvoiceFigures, crate::billing::BillingError> {
        crate::billing::InvoiceFigures::new(
            &[self.lines_total],
            self.credit_applied,
            self.net,
            self.vat,
            self.total,
        )
    }
}

/// An invoice row with the sum of its lines.
const INVOICE_COLUMNS: &str = "invoices.*, CAST((SELECT COALESCE(SUM(l.amount_minor), 0)
     FROM invoice_lines l WHERE l.invoice_id = invoices.id) AS BIGINT) AS lines_minor";

pub(super) fn invoice(r: &AnyRow) -> Result<InvoiceRecord, DbError> {
    const TABLE: (&str, &str) = ("invoices", "id");
    let currency = parsed(r, TABLE, "currency", Currency::parse)?;
    let money = |column: &str| -> Result<Money, DbError> {
        Ok(Money::from_minor(r.int(column)?, currency))
    };
    let date = |column| parsed(r, TABLE, column, str::parse::<NaiveDate>);
    Ok(InvoiceRecord {
        id: InvoiceId::new(r.int("id")?),
        number: r.text("number")?,
        issued_on: date("issued_on")?,
        currency,
        net: money("net_minor")?,
        vat_rate: parsed(r, TABLE, "vat_rate", str::parse::<Decimal>)?,
        vat: money("vat_minor")?,
        total: money("total_minor")?,
        tax_mention: r.opt_text("tax_mention")?,
        status: parsed(r, TABLE, "status", |code| {
            InvoiceStatus::parse(code).ok_or("not an invoice status")
        })?,
        seller_details: r.text("seller_details")?,
        buyer_name: r.text("buyer_name")?,
        buyer_email: r.text("buyer_email")?,
        buyer_country: r.text("buyer_country")?,
        buyer_vat_number: r.opt_text("buyer_vat_number")?,
        credit_applied: money("credit_applied_minor")?,
        lines_total: money("lines_minor")?,
        period_start: super::row::opt_date(r, TABLE, "period_start")?,
        period_end: super::row::opt_date(r, TABLE, "period_end")?,
    })
}

/// Newest first, keyset-paginated: `before` is the last id of the previous page.
pub async fn invoices(
    db: &Db,
    account_id: AccountId,
    before: Option<InvoiceId>,
    limit: i64,
) -> Result<Vec<InvoiceRecord>, DbError> {
    let rows = sqlx::query(
        &format!("SELECT {INVOICE_COLUMNS} FROM invoices WHERE account_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3"),
    )
    .bind(account_id)
    .bind(before.map_or(i64::MAX, InvoiceId::get))
    .bind(limit)
    .fetch_all(&db.pool)
    .await?;
    rows.iter().map(invoice).collect()
}

/// One invoice of this account (another account's id is simply not found).
pub async fn invoice_with_lines(
    db: &Db,
    account_id: AccountId,
    id: InvoiceId,
) -> Result<Option<(InvoiceRecord, Vec<InvoiceLineRecord>)>, DbError> {
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
    let invoice = invoice(&row)?;
    let rows = sqlx::query(
        "SELECT id, description, seats, unit_minor, amount_minor, period_start, period_end
         FROM invoice_lines WHERE invoice_id = $1 ORDER BY position",
    )
    .bind(id)
    .fetch_all(&db.pool)
    .await?;
    let lines = rows
        .iter()
        .map(|r| {
            const TABLE: (&str, &str) = ("invoice_lines", "id");
            let date = |column| parsed(r, TABLE, column, str::parse::<NaiveDate>);
            Ok(InvoiceLineRecord {
                description: r.text("description")?,
                seats: r.int("seats")?,
                unit: Money::from_minor(r.int("unit_minor")?, invoice.currency),
                amount: Money::from_minor(r.int("amount_minor")?, invoice.currency),
                period_start: date("period_start")?,
                period_end: date("period_end")?,
            })
        })
        .collect::<Result<Vec<_>, DbError>>()?;
    Ok(Some((invoice, lines)))
}

/// Open invoices of an account, oldest first.
pub async fn open_invoices(db: &Db, account_id: AccountId) -> Result<Vec<InvoiceRecord>, DbError> {
    let rows =
        sqlx::query(&format!("SELECT {INVOICE_COLUMNS} FROM invoices WHERE account_id = $1 AND status = 'open' ORDER BY id"))
            .bind(account_id)
            .fetch_all(&db.pool)
            .await?;
    rows.iter().map(invoice).collect()
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
    account_id: AccountId,
    user_id: UserId,
    invoice_id: InvoiceId,
    (order_id, lease): (OrderId, &str),
    gateway_ref: &str,
    email: &EmailWrite,
) -> Result<InvoicePayment, DbError> {
    let mut tx = db.pool.begin().await?;
    let now = super::row::now_text();
    if !super::orders::complete(&mut tx, (order_id, lease), Some(invoice_id)).await? {
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
    let paid = sqlx::query(&format!(
        "SELECT {INVOICE_COLUMNS} FROM invoices WHERE id = $1"
    ))
    .bind(invoice_id)
    .fetch_one(&mut *tx)
    .await?;
    let data = invoice(&paid)?.object(account_id);
    let event = EventWrite::new(EventType::InvoicePaid, account_id, data);
    super::webhooks::record_in(&mut tx, &[event], &now).await?;
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
    let entry = super::audit::Entry {
        account_id,
        user_id: Some(user_id),
        action: "pay_invoice",
        detail: &format!("invoice {invoice_id}"),
    };
    super::audit::record(&mut tx, &[entry], &now).await?;
    tx.commit().await?;
    Ok(InvoicePayment::Paid)
}
