//! One-time tokens sent by email (password resets, invitations), and the
//! password they let a user set.

use crate::domain::ids::{AccountId, UserId};

use super::error::DbError;
use super::exec::{Exec, Param, text};
use super::pool::Db;
use super::writes::EmailWrite;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    Reset,
    Invite,
}

impl Purpose {
    pub fn code(self) -> &'static str {
        match self {
            Purpose::Reset => "reset",
            Purpose::Invite => "invite",
        }
    }
}

/// Stores a token for `user` and queues the email carrying it, in one
/// transaction: no token without its email, no email without its token.
pub async fn insert_token_with_email(
    db: &Db,
    token: (&str, Purpose),
    owner: (UserId, AccountId),
    times: (&str, &str),
    email: &EmailWrite,
) -> Result<(), DbError> {
    let mut tx = db.begin_write().await?;
    insert_token_with_email_in(&mut tx, token, owner, times, email).await?;
    tx.commit().await
}

/// [`insert_token_with_email`] in a transaction of the caller's.
pub async fn insert_token_with_email_in(
    tx: &mut super::WriteTx,
    (token_hash, purpose): (&str, Purpose),
    (user, account): (UserId, AccountId),
    (now, expires_at): (&str, &str),
    email: &EmailWrite,
) -> Result<(), DbError> {
    tx.tx
        .execute(
            "INSERT INTO user_tokens (token_hash, user_id, purpose, created_at, expires_at)
             VALUES ($1, $2, $3, $4, $5)",
            vec![
                text(token_hash),
                Param::from(user),
                text(purpose.code()),
                text(now),
                text(expires_at),
            ],
        )
        .await?;
    super::outbox::enqueue_email(&mut tx.tx, Some(account), email, now).await
}

/// Adds a member to `account` with no password (email, name, password
/// hash) and their invitation token, and queues its email, in one
/// transaction.
pub async fn insert_user_with_invitation(
    db: &Db,
    account: AccountId,
    user: (&str, &str, &str),
    (token_hash, (now, expires_at)): (&str, (&str, &str)),
    email: &EmailWrite,
) -> Result<UserId, DbError> {
    let mut tx = db.begin_write().await?;
    let (address, name, password_hash) = user;
    let id =
        super::accounts::insert_user_in(&mut tx, account, (address, name, password_hash, false))
            .await?;
    let token = (token_hash, Purpose::Invite);
    insert_token_with_email_in(&mut tx, token, (id, account), (now, expires_at), email).await?;
    tx.commit().await?;
    Ok(id)
}

/// The user of a token that is unused and unexpired at `now`.
pub async fn live_token(
    db: &Db,
    token_hash: &str,
    purpose: Purpose,
    now: &str,
) -> Result<Option<UserId>, DbError> {
    let row: Option<(UserId,)> = sqlx::query_as(
        "SELECT user_id FROM user_tokens
         WHERE token_hash = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > $3",
    )
    .bind(token_hash)
    .bind(purpose.code())
    .bind(now)
    .fetch_optional(&db.pool)
    .await?;
    Ok(row.map(|(u,)| u))
}

/// Uses the token, once, and sets its user's password; the user's other
/// sessions end and their other tokens of this purpose go. One transaction:
/// of two requests with one token, one sets the password. `None`: the
/// token was not live.
pub async fn set_password_with_token(
    db: &Db,
    (token_hash, purpose): (&str, Purpose),
    now: &str,
    password_hash: &str,
) -> Result<Option<UserId>, DbError> {
    let mut tx = db.begin_write().await?;
    let rows = tx
        .tx
        .fetch(
            "UPDATE user_tokens SET used_at = $1
             WHERE token_hash = $2 AND purpose = $3 AND used_at IS NULL AND expires_at > $1
             RETURNING user_id",
            vec![text(now), text(token_hash), text(purpose.code())],
        )
        .await?;
    use super::row::Columns;
    let Some(user) = rows.first().map(|r| r.int("user_id")).transpose()? else {
        return Ok(None);
    };
    let user = UserId::new(user);
    for (sql, params) in [
        (
            "UPDATE users SET password_hash = $1 WHERE id = $2",
            vec![text(password_hash), Param::from(user)],
        ),
        (
            "DELETE FROM sessions WHERE user_id = $1",
            vec![Param::from(user)],
        ),
        (
            "DELETE FROM user_tokens WHERE user_id = $1 AND purpose = $2 AND used_at IS NULL",
            vec![Param::from(user), text(purpose.code())],
        ),
    ] {
        tx.tx.execute(sql, params).await?;
    }
    tx.commit().await?;
    Ok(Some(user))
}

/// Forgets tokens past their expiry (the billing job's purge).
pub async fn purge_tokens(db: &Db, before: &str) -> Result<u64, DbError> {
    let done = sqlx::query("DELETE FROM user_tokens WHERE expires_at < $1")
        .bind(before)
        .execute(&db.pool)
        .await?;
    Ok(done.rows_affected())
}
