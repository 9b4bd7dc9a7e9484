//! Accounts, users, sessions and sign-in attempts.

use crate::billing::{AccountKind, Money};
use crate::domain::Email;
use crate::domain::ids::{AccountId, UserId};
use sqlx::Row;
use std::collections::HashMap;

use super::error::DbError;
use super::exec::Param;
use super::pool::Db;
use super::row::{Columns, parsed};

#[derive(Clone, Debug, PartialEq)]
pub struct AccountRecord {
    pub id: AccountId,
    pub name: String,
    pub kind: AccountKind,
    /// ISO code as entered; whether it is billed (and its VAT number
    /// valid there) is the engine's rule, checked per subscription so one
    /// account the rules refuse does not stop the billing run.
    pub country: String,
    pub vat_number: Option<String>,
    pub currency: crate::billing::Currency,
    pub time_zone: String,
    pub language: crate::i18n::Lang,
    /// Credit the account can spend, in its currency.
    pub credit_balance: Money,
    pub rep_name: Option<String>,
    pub rep_email: Option<String>,
    pub rep_phone: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct UserRecord {
    pub id: UserId,
    pub account_id: AccountId,
    pub email: Email,
    pub name: String,
    pub is_billing_contact: bool,
}

/// For seeding and tests.
pub struct NewAccount<'a> {
    pub name: &'a str,
    pub kind: &'a str,
    pub country: &'a str,
    pub vat_number: Option<&'a str>,
    pub currency: &'a str,
    pub time_zone: &'a str,
    pub language: &'a str,
    pub rep: Option<(&'a str, &'a str, &'a str)>,
}

pub(super) fn account(r: &(impl Columns + ?Sized)) -> Result<AccountRecord, DbError> {
    const TABLE: (&str, &str) = ("accounts", "id");
    let currency = parsed(r, TABLE, "currency", crate::billing::Currency::parse)?;
    Ok(AccountRecord {
        id: AccountId::new(r.int("id")?),
        name: r.text("name")?,
        kind: parsed(r, TABLE, "kind", |code| {
            AccountKind::parse(code).ok_or("not an account kind")
        })?,
        country: r.text("country")?,
        vat_number: r.opt_text("vat_number")?,
        currency,
        time_zone: r.text("time_zone")?,
        language: parsed(r, TABLE, "language", |code| {
            crate::i18n::Lang::parse(code).ok_or("not a language of the portal")
        })?,
        credit_balance: Money::from_minor(r.int("credit_balance_minor")?, currency),
        rep_name: r.opt_text("rep_name")?,
        rep_email: r.opt_text("rep_email")?,
        rep_phone: r.opt_text("rep_phone")?,
    })
}

fn user(r: &(impl Columns + ?Sized)) -> Result<UserRecord, DbError> {
    Ok(UserRecord {
        id: UserId::new(r.int("id")?),
        account_id: AccountId::new(r.int("account_id")?),
        email: parsed(r, ("users", "id"), "email", Email::parse)?,
        name: r.text("name")?,
        is_billing_contact: r.int("is_billing_contact")? == 1,
    })
}

const USER_COLS: &str = "id, account_id, email, name, is_billing_contact";

pub async fn find_account(db: &Db, id: AccountId) -> Result<Option<AccountRecord>, DbError> {
    let row = sqlx::query("SELECT * FROM accounts WHERE id = $1")
        .bind(id)
        .fetch_optional(&db.pool)
        .await?;
    row.as_ref().map(account).transpose()
}

/// Several accounts by id, in one query.
pub async fn find_accounts(
    db: &Db,
    ids: &[AccountId],
) -> Result<HashMap<AccountId, AccountRecord>, DbError> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let sql = format!(
        "SELECT * FROM accounts WHERE id IN ({})",
        super::exec::placeholders(1, ids.len())
    );
    let ids = ids.iter().map(|id| Param::from(*id)).collect();
    let rows = db
        .read_rows(sql, ids, |r| account(r).map(|a| (a.id, a)))
        .await?;
    Ok(rows.into_iter().collect())
}

/// The billing contact of each of `accounts`, in one query.
pub async fn billing_contacts(
    db: &Db,
    accounts: &[AccountId],
) -> Result<HashMap<AccountId, UserRecord>, DbError> {
    if accounts.is_empty() {
        return Ok(HashMap::new());
    }
    let sql = format!(
        "SELECT {USER_COLS} FROM users WHERE is_billing_contact = 1 AND account_id IN ({})",
        super::exec::placeholders(1, accounts.len())
    );
    let ids = accounts.iter().map(|a| Param::from(*a)).collect();
    let rows = db
        .read_rows(sql, ids, |r| user(r).map(|u| (u.account_id, u)))
        .await?;
    Ok(rows.into_iter().collect())
}

pub async fn find_account_by_name(db: &Db, name: &str) -> Result<Option<AccountRecord>, DbError> {
    let row = sqlx::query("SELECT * FROM accounts WHERE name = $1")
        .bind(name)
        .fetch_optional(&db.pool)
        .await?;
    row.as_ref().map(account).transpose()
}

pub async fn insert_account(db: &Db, a: &NewAccount<'_>) -> Result<AccountId, DbError> {
    let (rep_name, rep_email, rep_phone) = match a.rep {
        Some((n, e, p)) => (Some(n), Some(e), Some(p)),
        None => (None, None, None),
    };
    let (id,): (AccountId,) = sqlx::query_as(
        "INSERT INTO accounts (name, kind, country, vat_number, currency, time_zone, language,
            rep_name, rep_email, rep_phone, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
    )
    .bind(a.name)
    .bind(a.kind)
    .bind(a.country)
    .bind(a.vat_number)
    .bind(a.currency)
    .bind(a.time_zone)
    .bind(a.language)
    .bind(rep_name)
    .bind(rep_email)
    .bind(rep_phone)
    .bind(super::row::now_text())
    .fetch_one(&db.pool)
    .await?;
    Ok(id)
}

pub async fn insert_user(
    db: &Db,
    account_id: AccountId,
    email: &str,
    name: &str,
    password_hash: &str,
    billing_contact: bool,
) -> Result<UserId, DbError> {
    let (id,): (UserId,) = sqlx::query_as(
        "INSERT INTO users (account_id, email, name, password_hash, is_billing_contact, created_at)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(account_id)
    .bind(email)
    .bind(name)
    .bind(password_hash)
    .bind(i64::from(billing_contact))
    .bind(super::row::now_text())
    .fetch_one(&db.pool)
    .await?;
    Ok(id)
}

/// The user and their password hash, by email.
pub async fn find_login(db: &Db, email: &str) -> Result<Option<(UserRecord, String)>, DbError> {
    let row = sqlx::query(&format!(
        "SELECT {USER_COLS}, password_hash FROM users WHERE email = $1"
    ))
    .bind(email)
    .fetch_optional(&db.pool)
    .await?;
    match row {
        None => Ok(None),
        Some(r) => Ok(Some((user(&r)?, r.try_get("password_hash")?))),
    }
}

pub async fn find_user(db: &Db, id: UserId) -> Result<Option<UserRecord>, DbError> {
    let row = sqlx::query(&format!("SELECT {USER_COLS} FROM users WHERE id = $1"))
        .bind(id)
        .fetch_optional(&db.pool)
        .await?;
    row.as_ref().map(user).transpose()
}

pub async fn billing_contact(
    db: &Db,
    account_id: AccountId,
) -> Result<Option<UserRecord>, DbError> {
    let row = sqlx::query(&format!(
        "SELECT {USER_COLS} FROM users WHERE account_id = $1 AND is_billing_contact = 1"
    ))
    .bind(account_id)
    .fetch_optional(&db.pool)
    .await?;
    row.as_ref().map(user).transpose()
}

pub async fn users_of(db: &Db, account_id: AccountId) -> Result<Vec<UserRecord>, DbError> {
    let rows = sqlx::query(&format!(
        "SELECT {USER_COLS} FROM users WHERE account_id = $1 ORDER BY id"
    ))
    .bind(account_id)
    .fetch_all(&db.pool)
    .await?;
    rows.iter().map(user).collect()
}

/// Hands the billing-contact role from `from` to `to` (same account), with
/// the two emails, in one transaction. `false` if `from` no longer holds it.
pub async fn transfer_billing_contact(
    db: &Db,
    account_id: AccountId,
    from: UserId,
    to: UserId,
    emails: &[crate::db::writes::EmailWrite],
) -> Result<bool, DbError> {
    let mut tx = db.pool.begin().await?;
    // Clear first: the partial unique index allows one contact at a time.
    let cleared = sqlx::query("UPDATE users SET is_billing_contact = 0 WHERE id = $1 AND account_id = $2 AND is_billing_contact = 1")
        .bind(from)
        .bind(account_id)
        .execute(&mut *tx)
        .await?;
    let set =
        sqlx::query("UPDATE users SET is_billing_contact = 1 WHERE id = $1 AND account_id = $2")
            .bind(to)
            .bind(account_id)
            .execute(&mut *tx)
            .await?;
    if cleared.rows_affected() != 1 || set.rows_affected() != 1 {
        return Ok(false);
    }
    let now = super::row::now_text();
    for e in emails {
        crate::db::outbox::enqueue_email(&mut tx, Some(account_id), e, &now).await?;
    }
    let entry = super::audit::Entry {
        account_id,
        user_id: Some(from),
        action: "transfer_billing_contact",
        detail: &format!("to user {to}"),
    };
    super::audit::record(&mut tx, &[entry], &now).await?;
    tx.commit().await?;
    Ok(true)
}

/// The account's language (its emails and documents).
pub async fn set_language(db: &Db, account_id: AccountId, code: &str) -> Result<(), DbError> {
    sqlx::query("UPDATE accounts SET language = $1 WHERE id = $2")
        .bind(code)
        .bind(account_id)
        .execute(&db.pool)
        .await?;
    Ok(())
}
