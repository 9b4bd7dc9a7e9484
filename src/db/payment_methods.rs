//! The payment method saved for each account (one per account).

use super::error::DbError;
use super::exec::{Param, placeholders};
use super::pool::Db;
use super::row::{Columns, parsed};
use crate::domain::ids::AccountId;

/// How a saved payment method pays.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PaymentMethodKind {
    Card,
    /// A SEPA Direct Debit mandate.
    Sepa,
}

impl PaymentMethodKind {
    pub fn code(self) -> &'static str {
        match self {
            PaymentMethodKind::Card => "card",
            PaymentMethodKind::Sepa => "sepa",
        }
    }

    pub fn parse(code: &str) -> Result<Self, &'static str> {
        match code {
            "card" => Ok(PaymentMethodKind::Card),
            "sepa" => Ok(PaymentMethodKind::Sepa),
            _ => Err("not a payment method kind"),
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct PaymentMethodRecord {
    pub kind: PaymentMethodKind,
    pub token: String,
    pub brand: String,
    pub last4: String,
    pub exp_month: Option<i64>,
    pub exp_year: Option<i64>,
}

/// The payment method of each of `accounts` that has one.
pub async fn payment_methods(
    db: &Db,
    accounts: &[AccountId],
) -> Result<std::collections::HashMap<AccountId, PaymentMethodRecord>, DbError> {
    if accounts.is_empty() {
        return Ok(Default::default());
    }
    let sql = format!(
        "SELECT account_id, kind, token, brand, last4, exp_month, exp_year FROM payment_methods WHERE account_id IN ({})",
        placeholders(1, accounts.len())
    );
    let ids = accounts.iter().map(|a| Param::from(*a)).collect();
    let rows = db
        .read_rows(sql, ids, |r| {
            Ok((AccountId::new(r.int("account_id")?), payment_method_row(r)?))
        })
        .await?;
    Ok(rows.into_iter().collect())
}

fn payment_method_row(r: &dyn Columns) -> Result<PaymentMethodRecord, DbError> {
    Ok(PaymentMethodRecord {
        kind: parsed(
            r,
            ("payment_methods", "account_id"),
            "kind",
            PaymentMethodKind::parse,
        )?,
        token: r.text("token")?,
        brand: r.text("brand")?,
        last4: r.text("last4")?,
        exp_month: r.opt_int("exp_month")?,
        exp_year: r.opt_int("exp_year")?,
    })
}

pub async fn payment_method(
    db: &Db,
    account_id: AccountId,
) -> Result<Option<PaymentMethodRecord>, DbError> {
    db.read_row(
        "SELECT kind, token, brand, last4, exp_month, exp_year FROM payment_methods WHERE account_id = $1",
        Param::from(account_id),
        payment_method_row,
    )
    .await
}

/// One payment method per account: saving replaces the previous one.
pub async fn save_payment_method(
    db: &Db,
    account_id: AccountId,
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
    .bind(pm.kind.code())
    .bind(&pm.token)
    .bind(&pm.brand)
    .bind(&pm.last4)
    .bind(pm.exp_month)
    .bind(pm.exp_year)
    .bind(super::row::now_text())
    .execute(&db.pool)
    .await?;
    Ok(())
}

/// Records that the account's SEPA mandate, with the `text` shown, was
/// accepted now (kept with the payment method it authorises).
pub async fn record_mandate(db: &Db, account_id: AccountId, text: &str) -> Result<(), DbError> {
    sqlx::query(
        "UPDATE payment_methods SET mandate_text = $1, mandate_accepted_at = $2 WHERE account_id = $3",
    )
    .bind(text)
    .bind(super::row::now_text())
    .bind(account_id)
    .execute(&db.pool)
    .await?;
    Ok(())
}

/// The mandate text accepted for the account's payment method, and when.
pub async fn mandate(db: &Db, account_id: AccountId) -> Result<Option<(String, String)>, DbError> {
    let row = db
        .read_row(
            "SELECT mandate_text, mandate_accepted_at FROM payment_methods WHERE account_id = $1",
            Param::from(account_id),
            |r| {
                Ok(r.opt_text("mandate_text")?
                    .zip(r.opt_text("mandate_accepted_at")?))
            },
        )
        .await?;
    Ok(row.flatten())
}
