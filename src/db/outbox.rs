//! The email outbox: emails written with what they announce, sent later
//! by the mailer.

use crate::domain::ids::{AccountId, EmailId, InvoiceId};
use sqlx::Row;

use super::backend::Backend;
use super::error::DbError;
use super::exec::{Exec, Param, multi_row, text};
use super::pool::Db;
use super::writes::EmailWrite;

pub(crate) async fn enqueue_email(
    tx: &mut impl Exec,
    account_id: Option<AccountId>,
    e: &EmailWrite,
    now: &str,
) -> Result<(), DbError> {
    enqueue_emails(tx, &[(account_id, e)], now).await
}

pub(super) async fn enqueue_emails(
    tx: &mut impl Exec,
    emails: &[(Option<AccountId>, &EmailWrite)],
    now: &str,
) -> Result<(), DbError> {
    let mut params = Vec::with_capacity(emails.len() * 8);
    for (account_id, e) in emails {
        params.extend([
            Param::from(*account_id),
            text(&e.to),
            text(&e.subject),
            text(&e.text),
            text(&e.html),
            text(now),
            text(now),
            Param::from(e.attachment),
        ]);
    }
    multi_row(
        tx,
        "INSERT INTO email_outbox (account_id, to_addr, subject, body_text, body_html, created_at, next_attempt_at, invoice_id)",
        8,
        "",
        params,
    )
    .await?;
    Ok(())
}

#[derive(Clone, Debug, PartialEq)]
pub struct OutboxRecord {
    pub id: EmailId,
    pub to_addr: String,
    pub subject: String,
    pub body_text: String,
    pub sent_at: Option<String>,
}

pub async fn outbox(db: &Db, account_id: AccountId) -> Result<Vec<OutboxRecord>, DbError> {
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

#[derive(Clone, Debug, PartialEq)]
pub struct PendingEmail {
    pub id: EmailId,
    pub to_addr: String,
    pub subject: String,
    pub body_text: String,
    pub body_html: String,
    pub attempts: i64,
    pub account_id: Option<AccountId>,
    /// The invoice to attach as a PDF.
    pub attachment: Option<InvoiceId>,
}

/// Claims up to `limit` unsent emails due at `now` for the mailer whose
/// token is `lease`, until `lease_until`: another mailer (another server
/// on the same database) skips them meanwhile. PostgreSQL skips the rows
/// another claim is locking (`FOR UPDATE SKIP LOCKED`); SQLite claims
/// under its single writer's turn.
pub async fn claim_emails(
    db: &Db,
    now: &str,
    (lease, lease_until): (&str, &str),
    limit: i64,
) -> Result<Vec<PendingEmail>, DbError> {
    let lock = match db.backend {
        Backend::Postgres => " FOR UPDATE SKIP LOCKED",
        Backend::Sqlite => "",
    };
    let sql = format!(
        "UPDATE email_outbox SET next_attempt_at = $2, lease = $3
         WHERE id IN (SELECT id FROM email_outbox
                      WHERE sent_at IS NULL AND next_attempt_at <= $1
                      ORDER BY id LIMIT $4{lock})
         RETURNING id, account_id, to_addr, subject, body_text, body_html, attempts, invoice_id"
    );
    let _turn = db.write_turn().await;
    let rows = sqlx::query(&sql)
        .bind(now)
        .bind(lease_until)
        .bind(lease)
        .bind(limit)
        .fetch_all(&db.pool)
        .await?;
    let mut emails = rows
        .iter()
        .map(|r| {
            Ok(PendingEmail {
                id: r.try_get("id")?,
                to_addr: r.try_get("to_addr")?,
                subject: r.try_get("subject")?,
                body_text: r.try_get("body_text")?,
                body_html: r.try_get("body_html")?,
                attempts: r.try_get("attempts")?,
                account_id: r.try_get("account_id")?,
                attachment: r.try_get("invoice_id")?,
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
    // RETURNING promises no order: oldest first.
    emails.sort_by_key(|e| e.id);
    Ok(emails)
}

/// Marks a claimed email sent, once: `false` if it was sent already or
/// `lease` no longer holds it.
pub async fn mark_email_sent(
    db: &Db,
    id: EmailId,
    lease: &str,
    now: &str,
) -> Result<bool, DbError> {
    let _turn = db.write_turn().await;
    let done = sqlx::query(
        "UPDATE email_outbox SET sent_at = $1, attempts = attempts + 1, last_error = NULL
         WHERE id = $2 AND sent_at IS NULL AND lease = $3",
    )
    .bind(now)
    .bind(id)
    .bind(lease)
    .execute(&db.pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Records a failed attempt of a claimed email and when to try again.
pub async fn mark_email_failed(
    db: &Db,
    id: EmailId,
    lease: &str,
    error: &str,
    next_attempt_at: &str,
) -> Result<(), DbError> {
    let _turn = db.write_turn().await;
    sqlx::query(
        "UPDATE email_outbox SET attempts = attempts + 1, last_error = $1, next_attempt_at = $2
         WHERE id = $3 AND sent_at IS NULL AND lease = $4",
    )
    .bind(error)
    .bind(next_attempt_at)
    .bind(id)
    .bind(lease)
    .execute(&db.pool)
    .await?;
    Ok(())
}

/// How many emails wait to be sent (the metrics' outbox depth).
pub async fn pending_count(db: &Db) -> Result<i64, DbError> {
    let (n,): (i64,) =
        sqlx::query_as("SELECT CAST(COUNT(*) AS BIGINT) FROM email_outbox WHERE sent_at IS NULL")
            .fetch_one(&db.pool)
            .await?;
    Ok(n)
}
