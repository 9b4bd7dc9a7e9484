//! The operator API's keys and the answers it keeps for its idempotent
//! writes.

use crate::domain::ids::ApiKeyId;

use super::error::DbError;
use super::exec::{Exec, Param, text};
use super::pool::{Db, WriteTx};
use super::row::Columns;

#[derive(Clone, Debug, PartialEq)]
pub struct ApiKeyRecord {
    pub id: ApiKeyId,
    pub name: String,
    /// The key's first characters, to recognise it in a list.
    pub prefix: String,
    pub created_at: String,
    pub last_used_at: Option<String>,
    pub revoked_at: Option<String>,
}

fn key(r: &dyn Columns) -> Result<ApiKeyRecord, DbError> {
    Ok(ApiKeyRecord {
        id: ApiKeyId::new(r.int("id")?),
        name: r.text("name")?,
        prefix: r.text("prefix")?,
        created_at: r.text("created_at")?,
        last_used_at: r.opt_text("last_used_at")?,
        revoked_at: r.opt_text("revoked_at")?,
    })
}

pub async fn insert_key(
    db: &Db,
    name: &str,
    prefix: &str,
    key_hash: &str,
    now: &str,
) -> Result<ApiKeyId, DbError> {
    let (id,): (ApiKeyId,) = sqlx::query_as(
        "INSERT INTO api_keys (name, prefix, key_hash, created_at) VALUES ($1, $2, $3, $4)
         RETURNING id",
    )
    .bind(name)
    .bind(prefix)
    .bind(key_hash)
    .bind(now)
    .fetch_one(&db.pool)
    .await?;
    Ok(id)
}

/// The key with this hash, unless it was revoked.
pub async fn active_key(db: &Db, key_hash: &str) -> Result<Option<ApiKeyRecord>, DbError> {
    db.read_row(
        "SELECT * FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL",
        text(key_hash),
        key,
    )
    .await
}

/// Records a use of the key, at most once per `since` (a write per
/// request would put every API read in the write turn).
pub async fn touch_key(db: &Db, id: ApiKeyId, now: &str, since: &str) -> Result<(), DbError> {
    sqlx::query(
        "UPDATE api_keys SET last_used_at = $1
         WHERE id = $2 AND (last_used_at IS NULL OR last_used_at < $3)",
    )
    .bind(now)
    .bind(id)
    .bind(since)
    .execute(&db.pool)
    .await?;
    Ok(())
}

/// Revokes a key; false when there is no such key or it was revoked.
pub async fn revoke_key(db: &Db, id: ApiKeyId, now: &str) -> Result<bool, DbError> {
    let done =
        sqlx::query("UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
            .bind(now)
            .bind(id)
            .execute(&db.pool)
            .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn keys(db: &Db) -> Result<Vec<ApiKeyRecord>, DbError> {
    db.read_rows("SELECT * FROM api_keys ORDER BY id".into(), vec![], key)
        .await
}

/// What an `Idempotency-Key` already holds.
#[derive(Clone, Debug, PartialEq)]
pub enum Claimed {
    /// Nobody used the key: this request has it.
    New,
    /// Answered before: (status, body), to send again.
    Answered(u16, String),
    /// Used for another request (its body differed).
    OtherRequest,
    /// The first request with this key is still running.
    InProgress,
}

/// Takes `idempotency_key` for this request (`request_hash`: its method,
/// path and body), or says what holds it. A claim left unanswered since
/// `stale_before` (its request died before committing, so it changed
/// nothing) is taken over.
pub async fn claim_request(
    db: &Db,
    api_key: ApiKeyId,
    idempotency_key: &str,
    request_hash: &str,
    (now, stale_before): (&str, &str),
) -> Result<Claimed, DbError> {
    let inserted = sqlx::query(
        "INSERT INTO api_requests (api_key_id, idempotency_key, request_hash, created_at)
         VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
    )
    .bind(api_key)
    .bind(idempotency_key)
    .bind(request_hash)
    .bind(now)
    .execute(&db.pool)
    .await?;
    if inserted.rows_affected() == 1 {
        return Ok(Claimed::New);
    }
    let row: Option<(String, Option<i64>, Option<String>, String)> = sqlx::query_as(
        "SELECT request_hash, status, body, created_at FROM api_requests
         WHERE api_key_id = $1 AND idempotency_key = $2",
    )
    .bind(api_key)
    .bind(idempotency_key)
    .fetch_optional(&db.pool)
    .await?;
    Ok(match row {
        // Released between the two statements: the caller tries again.
        None => Claimed::InProgress,
        Some((hash, _, _, _)) if hash != request_hash => Claimed::OtherRequest,
        Some((_, Some(status), Some(body), _)) => {
            Claimed::Answered(u16::try_from(status).unwrap_or(500), body)
        }
        Some((_, _, _, created)) if created.as_str() < stale_before => {
            let taken = sqlx::query(
                "UPDATE api_requests SET created_at = $1
                 WHERE api_key_id = $2 AND idempotency_key = $3 AND status IS NULL
                   AND created_at = $4",
            )
            .bind(now)
            .bind(api_key)
            .bind(idempotency_key)
            .bind(created)
            .execute(&db.pool)
            .await?;
            match taken.rows_affected() {
                1 => Claimed::New,
                _ => Claimed::InProgress,
            }
        }
        Some(_) => Claimed::InProgress,
    })
}

/// Keeps the answer to a claimed request, in the transaction of the change
/// it answers: the change and its answer commit together or not at all.
pub async fn answer_request_in(
    tx: &mut WriteTx,
    api_key: ApiKeyId,
    idempotency_key: &str,
    (status, body): (u16, &str),
) -> Result<(), DbError> {
    tx.tx
        .execute(
            "UPDATE api_requests SET status = $1, body = $2
             WHERE api_key_id = $3 AND idempotency_key = $4",
            vec![
                Param::Int(Some(i64::from(status))),
                text(body),
                Param::from(api_key),
                text(idempotency_key),
            ],
        )
        .await?;
    Ok(())
}

/// [`answer_request_in`] for an answer that changed nothing (a refusal).
pub async fn answer_request(
    db: &Db,
    api_key: ApiKeyId,
    idempotency_key: &str,
    answer: (u16, &str),
) -> Result<(), DbError> {
    let mut tx = db.begin_write().await?;
    answer_request_in(&mut tx, api_key, idempotency_key, answer).await?;
    tx.commit().await
}

/// Gives the key back after a failure on our side: the same request may
/// then be sent again and run.
pub async fn release_request(
    db: &Db,
    api_key: ApiKeyId,
    idempotency_key: &str,
) -> Result<(), DbError> {
    sqlx::query(
        "DELETE FROM api_requests WHERE api_key_id = $1 AND idempotency_key = $2 AND status IS NULL",
    )
    .bind(api_key)
    .bind(idempotency_key)
    .execute(&db.pool)
    .await?;
    Ok(())
}

/// Forgets idempotency records made before `before` (a key is replayed for
/// a day, as Stripe does).
pub async fn purge_requests(db: &Db, before: &str) -> Result<u64, DbError> {
    let done = sqlx::query("DELETE FROM api_requests WHERE created_at < $1")
        .bind(before)
        .execute(&db.pool)
        .await?;
    Ok(done.rows_affected())
}
