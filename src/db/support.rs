//! Corporate accounts' support requests.

use super::error::DbError;
use super::outbox::enqueue_email;
use super::pool::Db;
use super::writes::EmailWrite;
use crate::domain::ids::{AccountId, UserId};

/// Stores a support request and the email to support, together.
pub async fn insert_ticket(
    db: &Db,
    account_id: AccountId,
    user_id: UserId,
    subject: &str,
    message: &str,
    email: &EmailWrite,
) -> Result<i64, DbError> {
    let mut tx = db.pool.begin().await?;
    let now = super::row::now_text();
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
