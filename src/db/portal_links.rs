//! One-time links into the billing center, made through the operator API
//! for a user of an account.

use crate::domain::ids::UserId;

use super::error::DbError;
use super::pool::Db;

pub async fn insert_link(
    db: &Db,
    token_hash: &str,
    user_id: UserId,
    return_url: Option<&str>,
    (now, expires_at): (&str, &str),
) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO portal_links (token_hash, user_id, return_url, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(token_hash)
    .bind(user_id)
    .bind(return_url)
    .bind(now)
    .bind(expires_at)
    .execute(&db.pool)
    .await?;
    Ok(())
}

/// Uses the link, once: its user and return URL when it exists, is unused
/// and has not expired at `now`. Two requests with one link: one gets it.
pub async fn use_link(
    db: &Db,
    token_hash: &str,
    now: &str,
) -> Result<Option<(UserId, Option<String>)>, DbError> {
    let _turn = db.write_turn().await;
    let row: Option<(UserId, Option<String>)> = sqlx::query_as(
        "UPDATE portal_links SET used_at = $1
         WHERE token_hash = $2 AND used_at IS NULL AND expires_at > $1
         RETURNING user_id, return_url",
    )
    .bind(now)
    .bind(token_hash)
    .fetch_optional(&db.pool)
    .await?;
    Ok(row)
}

/// Forgets links that can no longer be used (the billing job's purge).
pub async fn purge_links(db: &Db, before: &str) -> Result<u64, DbError> {
    let done = sqlx::query("DELETE FROM portal_links WHERE expires_at < $1")
        .bind(before)
        .execute(&db.pool)
        .await?;
    Ok(done.rows_affected())
}
