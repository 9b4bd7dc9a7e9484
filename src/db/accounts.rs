//! Accounts, users, sessions and sign-in attempts.

use crate::billing::{AccountKind, Money};
use crate::domain::ids::{AccountId, UserId};
use crate::domain::{Address, Email};
use sqlx::Row;
use std::collections::HashMap;

use super::error::DbError;
use super::exec::{Exec, Param, text};
use super::pool::{Db, WriteTx};
use super::row::{Columns, parsed};
use super::webhooks::EventWrite;
use crate::domain::EventType;

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
    pub address: Address,
    /// The seller application's own id of this account (unique).
    pub external_id: Option<String>,
}

impl AccountRecord {
    /// As the operator API shows it and `account.updated` carries it.
    pub fn object(&self) -> serde_json::Value {
        let a = self;
        serde_json::json!({
            "object": "account",
            "id": a.id,
            "name": a.name,
            "kind": a.kind.code(),
            "country": a.country,
            "vat_number": a.vat_number,
            "currency": a.currency.code(),
            "time_zone": a.time_zone,
            "language": a.language.code(),
            "address": a.address,
            "representative": a.rep_name.as_ref().map(|name| serde_json::json!({
                "name": name, "email": a.rep_email, "phone": a.rep_phone,
            })),
            "external_id": a.external_id,
            "credit_balance": a.credit_balance.amount().to_string(),
        })
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct UserRecord {
    pub id: UserId,
    pub account_id: AccountId,
    pub email: Email,
    pub name: String,
    pub is_billing_contact: bool,
}

/// The password hash of a user who has none yet (made through the API or
/// invited): no password verifies against it, as it is not a PHC string.
pub const NO_PASSWORD: &str = "!";

/// A new account's fields, as stored (checked by the caller).
pub struct NewAccount<'a> {
    pub name: &'a str,
    pub kind: &'a str,
    pub country: &'a str,
    pub vat_number: Option<&'a str>,
    pub currency: &'a str,
    pub time_zone: &'a str,
    pub language: &'a str,
    pub rep: Option<(&'a str, &'a str, &'a str)>,
    pub address: Address,
    pub external_id: Option<&'a str>,
}

/// The fields an update replaces (`None`: kept). Optional columns take
/// `Some(None)` to be cleared.
#[derive(Clone, Debug, Default)]
pub struct AccountChanges {
    pub name: Option<String>,
    pub kind: Option<String>,
    pub country: Option<String>,
    pub vat_number: Option<Option<String>>,
    pub time_zone: Option<String>,
    pub language: Option<String>,
    pub rep: Option<Option<(String, String, String)>>,
    pub address: Option<Address>,
    pub external_id: Option<Option<String>>,
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
        address: Address {
            line1: r.text("address_line1")?,
            line2: r.text("address_line2")?,
            postcode: r.text("postcode")?,
            city: r.text("city")?,
        },
        external_id: r.opt_text("external_id")?,
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
    insert_account_with(&mut &db.pool, a).await
}

/// [`insert_account`] in a transaction of the caller's.
pub async fn insert_account_in(tx: &mut WriteTx, a: &NewAccount<'_>) -> Result<AccountId, DbError> {
    insert_account_with(&mut tx.tx, a).await
}

async fn insert_account_with(e: &mut impl Exec, a: &NewAccount<'_>) -> Result<AccountId, DbError> {
    let (rep_name, rep_email, rep_phone) = match a.rep {
        Some((n, e, p)) => (Some(n), Some(e), Some(p)),
        None => (None, None, None),
    };
    fn opt(v: Option<&str>) -> Param<'_> {
        Param::Text(v.map(std::borrow::Cow::Borrowed))
    }
    let now = super::row::now_text();
    let rows = e
        .fetch(
            "INSERT INTO accounts (name, kind, country, vat_number, currency, time_zone, language,
                rep_name, rep_email, rep_phone, address_line1, address_line2, postcode, city,
                external_id, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
             RETURNING id",
            vec![
                text(a.name),
                text(a.kind),
                text(a.country),
                opt(a.vat_number),
                text(a.currency),
                text(a.time_zone),
                text(a.language),
                opt(rep_name),
                opt(rep_email),
                opt(rep_phone),
                text(&a.address.line1),
                text(&a.address.line2),
                text(&a.address.postcode),
                text(&a.address.city),
                opt(a.external_id),
                text(&now),
            ],
        )
        .await?;
    let id = super::pool::first_id(&rows)?.ok_or(sqlx::Error::RowNotFound)?;
    Ok(AccountId::new(id))
}

/// An account, read in a transaction of the caller's (what it just wrote).
pub async fn find_account_in(
    tx: &mut WriteTx,
    id: AccountId,
) -> Result<Option<AccountRecord>, DbError> {
    let rows = tx
        .tx
        .fetch(
            "SELECT * FROM accounts WHERE id = $1",
            vec![Param::from(id)],
        )
        .await?;
    rows.first().map(account).transpose()
}

/// Replaces the fields `changes` holds; false when there is no such account.
pub async fn update_account_in(
    tx: &mut WriteTx,
    id: AccountId,
    changes: &AccountChanges,
) -> Result<bool, DbError> {
    let mut sets: Vec<&str> = Vec::new();
    let mut params: Vec<Param<'_>> = Vec::new();
    let mut set = |column: &'static str, value: Param<'static>| {
        sets.push(column);
        params.push(value);
    };
    let own = |v: &str| Param::Text(Some(std::borrow::Cow::Owned(v.to_string())));
    let own_opt = |v: &Option<String>| Param::Text(v.clone().map(std::borrow::Cow::Owned));
    let c = changes;
    for (column, value) in [
        ("name", &c.name),
        ("kind", &c.kind),
        ("country", &c.country),
        ("time_zone", &c.time_zone),
        ("language", &c.language),
    ] {
        if let Some(v) = value {
            set(column, own(v));
        }
    }
    if let Some(v) = &c.vat_number {
        set("vat_number", own_opt(v));
    }
    if let Some(v) = &c.external_id {
        set("external_id", own_opt(v));
    }
    if let Some(rep) = &c.rep {
        let part = |f: fn(&(String, String, String)) -> &String| {
            own_opt(&rep.as_ref().map(|r| f(r).clone()))
        };
        set("rep_name", part(|r| &r.0));
        set("rep_email", part(|r| &r.1));
        set("rep_phone", part(|r| &r.2));
    }
    if let Some(a) = &c.address {
        set("address_line1", own(&a.line1));
        set("address_line2", own(&a.line2));
        set("postcode", own(&a.postcode));
        set("city", own(&a.city));
    }
    if sets.is_empty() {
        return Ok(find_account_in(tx, id).await?.is_some());
    }
    let assignments: Vec<String> = sets
        .iter()
        .enumerate()
        .map(|(i, column)| format!("{column} = ${}", i + 1))
        .collect();
    let sql = format!(
        "UPDATE accounts SET {} WHERE id = ${}",
        assignments.join(", "),
        sets.len() + 1
    );
    params.push(Param::from(id));
    if tx.tx.execute(&sql, params).await? != 1 {
        return Ok(false);
    }
    account_updated(&mut tx.tx, id).await?;
    Ok(true)
}

/// Records `account.updated` with the account as it now is, in the
/// transaction of the change.
async fn account_updated(tx: &mut impl Exec, id: AccountId) -> Result<(), DbError> {
    let rows = tx
        .fetch(
            "SELECT * FROM accounts WHERE id = $1",
            vec![Param::from(id)],
        )
        .await?;
    if let Some(a) = rows.first().map(account).transpose()? {
        let event = EventWrite::new(EventType::AccountUpdated, id, a.object());
        super::webhooks::record_in(tx, &[event], &super::row::now_text()).await?;
    }
    Ok(())
}

/// The account with this external id.
pub async fn find_account_by_external_id(
    db: &Db,
    external_id: &str,
) -> Result<Option<AccountRecord>, DbError> {
    db.read_row(
        "SELECT * FROM accounts WHERE external_id = $1",
        text(external_id),
        |r| account(r),
    )
    .await
}

/// A page of accounts in id order after `after`, at most `limit`; with a
/// `search`, only those whose name or a user's email contains it (any case).
pub async fn list_accounts(
    db: &Db,
    after: Option<AccountId>,
    limit: u32,
    search: Option<&str>,
) -> Result<Vec<AccountRecord>, DbError> {
    let mut params = vec![
        Param::Int(Some(after.map_or(0, AccountId::get))),
        Param::Int(Some(i64::from(limit))),
    ];
    let filter = match search {
        Some(q) => {
            // LIKE's wildcards in the search are matched as themselves.
            let escaped = q
                .to_lowercase()
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_");
            params.push(Param::Text(Some(format!("%{escaped}%").into())));
            "AND (LOWER(a.name) LIKE $3 ESCAPE '\\' OR EXISTS (SELECT 1 FROM users u
                 WHERE u.account_id = a.id AND LOWER(u.email) LIKE $3 ESCAPE '\\'))"
        }
        None => "",
    };
    let sql = format!("SELECT a.* FROM accounts a WHERE a.id > $1 {filter} ORDER BY a.id LIMIT $2");
    db.read_rows(sql, params, |r| account(r)).await
}

pub async fn insert_user(
    db: &Db,
    account_id: AccountId,
    email: &str,
    name: &str,
    password_hash: &str,
    billing_contact: bool,
) -> Result<UserId, DbError> {
    let user = (email, name, password_hash, billing_contact);
    insert_user_with(&mut &db.pool, account_id, user).await
}

/// [`insert_user`] in a transaction of the caller's: (email, name,
/// password hash, billing contact).
pub async fn insert_user_in(
    tx: &mut WriteTx,
    account_id: AccountId,
    user: (&str, &str, &str, bool),
) -> Result<UserId, DbError> {
    insert_user_with(&mut tx.tx, account_id, user).await
}

async fn insert_user_with(
    e: &mut impl Exec,
    account_id: AccountId,
    (email, name, password_hash, billing_contact): (&str, &str, &str, bool),
) -> Result<UserId, DbError> {
    let now = super::row::now_text();
    let rows = e
        .fetch(
            "INSERT INTO users (account_id, email, name, password_hash, is_billing_contact, created_at)
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
            vec![
                Param::from(account_id),
                text(email),
                text(name),
                text(password_hash),
                Param::Int(Some(i64::from(billing_contact))),
                text(&now),
            ],
        )
        .await?;
    let id = super::pool::first_id(&rows)?.ok_or(sqlx::Error::RowNotFound)?;
    Ok(UserId::new(id))
}

/// The account's users, read in a transaction of the caller's.
pub async fn users_in(tx: &mut WriteTx, account_id: AccountId) -> Result<Vec<UserRecord>, DbError> {
    let sql = format!(
        "SELECT {USER_COLS} FROM users WHERE account_id = $1 AND removed_at IS NULL ORDER BY id"
    );
    let rows = tx.tx.fetch(&sql, vec![Param::from(account_id)]).await?;
    rows.iter().map(user).collect()
}

/// Whether a user has this email (any account).
pub async fn email_taken(db: &Db, email: &str) -> Result<bool, DbError> {
    Ok(find_login(db, email).await?.is_some())
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
    let row = sqlx::query(&format!(
        "SELECT {USER_COLS} FROM users WHERE id = $1 AND removed_at IS NULL"
    ))
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
        "SELECT {USER_COLS} FROM users WHERE account_id = $1 AND removed_at IS NULL ORDER BY id"
    ))
    .bind(account_id)
    .fetch_all(&db.pool)
    .await?;
    rows.iter().map(user).collect()
}

/// Removes a member of the account: their sessions, links and tokens go,
/// their row stays (for the support requests and audit lines that name
/// them) without email, name or password. `false` when the account has no
/// such member (the billing contact is not one: the role is handed over
/// first).
pub async fn remove_member_in(
    tx: &mut WriteTx,
    account_id: AccountId,
    user_id: UserId,
) -> Result<bool, DbError> {
    let now = super::row::now_text();
    let tombstone = format!("removed-{user_id}@removed.invalid");
    let done = tx
        .tx
        .execute(
            "UPDATE users SET removed_at = $1, email = $2, name = 'Removed user', password_hash = $3
             WHERE id = $4 AND account_id = $5 AND is_billing_contact = 0 AND removed_at IS NULL",
            vec![
                text(&now),
                text(&tombstone),
                text(NO_PASSWORD),
                Param::from(user_id),
                Param::from(account_id),
            ],
        )
        .await?;
    if done != 1 {
        return Ok(false);
    }
    for sql in [
        "DELETE FROM sessions WHERE user_id = $1",
        "DELETE FROM portal_links WHERE user_id = $1",
        "DELETE FROM user_tokens WHERE user_id = $1",
    ] {
        tx.tx.execute(sql, vec![Param::from(user_id)]).await?;
    }
    Ok(true)
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
    let _turn = db.write_turn().await;
    let mut tx = db.pool.begin().await?;
    let changed = sqlx::query("UPDATE accounts SET language = $1 WHERE id = $2 AND language <> $1")
        .bind(code)
        .bind(account_id)
        .execute(&mut *tx)
        .await?;
    if changed.rows_affected() == 1 {
        account_updated(&mut tx, account_id).await?;
    }
    tx.commit().await?;
    Ok(())
}
