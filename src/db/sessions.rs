//! Sessions and sign-in attempts, and the signed-in billing page's read:
//! the session with its user and account and, for the billing contact,
//! the account's subscriptions and cart.

use super::accounts::{AccountRecord, UserRecord, account};
use super::error::DbError;
use super::pool::Db;
use super::row::{Columns, parsed};
use super::subscriptions::SubscriptionRecord;
use crate::domain::ids::{AccountId, UserId};
use chrono::{DateTime, Utc};

/// A session row with the user it belongs to and that user's account.
pub struct SessionCaller {
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// Where "Back to the application" leads (sessions a portal link opened).
    pub return_url: Option<String>,
    pub user: UserRecord,
    pub account: AccountRecord,
}

/// What a billing page starts from: the account's subscriptions and its
/// cart items (product, item JSON).
pub type PageRows = (Vec<SubscriptionRecord>, Vec<(String, String)>);

/// A signed-in billing page's reads: the session with its user and
/// account and, when the user is the account's billing contact, the
/// account's [`PageRows`].
pub async fn session_with_page(
    db: &Db,
    token_hash: &str,
) -> Result<Option<(SessionCaller, Option<PageRows>)>, DbError> {
    let Some(found) = find_session_caller(db, token_hash).await? else {
        return Ok(None);
    };
    let page = match found.user.is_billing_contact {
        true => Some((
            super::subscriptions::subscriptions(db, found.account.id).await?,
            super::carts::cart(db, found.account.id).await?,
        )),
        false => None,
    };
    Ok(Some((found, page)))
}

pub async fn insert_session(
    db: &Db,
    token_hash: &str,
    user_id: UserId,
    (now, expires_at): (&str, &str),
    return_url: Option<&str>,
) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO sessions (token_hash, user_id, created_at, last_seen_at, expires_at, return_url)
         VALUES ($1, $2, $3, $3, $4, $5)",
    )
    .bind(token_hash)
    .bind(user_id)
    .bind(now)
    .bind(expires_at)
    .bind(return_url)
    .execute(&db.pool)
    .await?;
    Ok(())
}

/// A session with its user and account, in one query: every signed-in
/// request starts here, so it is one round trip, not three.
pub async fn find_session_caller(
    db: &Db,
    token_hash: &str,
) -> Result<Option<SessionCaller>, DbError> {
    // Built once: every signed-in request that is not a billing page asks.
    static SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        format!("SELECT {SESSION_CALLER_COLUMNS} {SESSION_CALLER_FROM}")
    });
    db.read_row(&SQL, super::exec::text(token_hash), |r| session_caller(r))
        .await
}

/// The session join's columns and tables (token hash as `$1`).
const SESSION_CALLER_COLUMNS: &str = "s.created_at AS s_created_at, \
    s.last_seen_at AS s_last_seen_at, s.expires_at AS s_expires_at, s.return_url AS s_return_url, u.id AS u_id, \
    u.account_id AS u_account_id, u.email AS u_email, u.name AS u_name, \
    u.is_billing_contact AS u_is_billing_contact, a.*";
const SESSION_CALLER_FROM: &str = "FROM sessions s \
    JOIN users u ON u.id = s.user_id JOIN accounts a ON a.id = u.account_id \
    WHERE s.token_hash = $1";

fn session_caller(r: &(impl Columns + ?Sized)) -> Result<SessionCaller, DbError> {
    // Named by its user's id: a session's key is a token hash.
    const TABLE: (&str, &str) = ("sessions", "u_id");
    let instant = |column| parsed(r, TABLE, column, str::parse::<DateTime<Utc>>);
    Ok(SessionCaller {
        created_at: instant("s_created_at")?,
        last_seen_at: instant("s_last_seen_at")?,
        expires_at: instant("s_expires_at")?,
        return_url: r.opt_text("s_return_url")?,
        user: UserRecord {
            id: UserId::new(r.int("u_id")?),
            account_id: AccountId::new(r.int("u_account_id")?),
            email: parsed(r, ("users", "u_id"), "u_email", crate::domain::Email::parse)?,
            name: r.text("u_name")?,
            is_billing_contact: r.int("u_is_billing_contact")? == 1,
        },
        account: account(r)?,
    })
}

pub async fn touch_session(db: &Db, token_hash: &str, now: &str) -> Result<(), DbError> {
    sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE token_hash = $2")
        .bind(now)
        .bind(token_hash)
        .execute(&db.pool)
        .await?;
    Ok(())
}

pub async fn delete_session(db: &Db, token_hash: &str) -> Result<(), DbError> {
    sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
        .bind(token_hash)
        .execute(&db.pool)
        .await?;
    Ok(())
}

// ---- sign-in rate limiting ----

/// Counts one hit of `key` in its fixed window, which starts anew at `now`
/// once it began before `cutoff`: (hits in the window, this one included;
/// when the window began). One statement, so parallel hits each get their
/// own count and a limit holds under a burst.
pub async fn hit(db: &Db, key: &str, now: &str, cutoff: &str) -> Result<(i64, String), DbError> {
    let _turn = db.write_turn().await;
    Ok(sqlx::query_as(
        "INSERT INTO rate_limits (key, window_start, hits) VALUES ($1, $2, 1)
         ON CONFLICT (key) DO UPDATE SET
           hits = CASE WHEN rate_limits.window_start < $3 THEN 1 ELSE rate_limits.hits + 1 END,
           window_start = CASE WHEN rate_limits.window_start < $3 THEN $2
                               ELSE rate_limits.window_start END
         RETURNING hits, window_start",
    )
    .bind(key)
    .bind(now)
    .bind(cutoff)
    .fetch_one(&db.pool)
    .await?)
}

/// Ends `key`'s window: its next hit counts from one.
pub async fn clear_hits(db: &Db, key: &str) -> Result<(), DbError> {
    sqlx::query("DELETE FROM rate_limits WHERE key = $1")
        .bind(key)
        .execute(&db.pool)
        .await?;
    Ok(())
}

/// Forgets what can no longer be used at `now`: sessions past their
/// absolute expiry, rate-limit windows begun before `stale`. The number of
/// rows removed.
pub async fn purge_expired(db: &Db, now: &str, stale: &str) -> Result<u64, DbError> {
    let mut removed = 0;
    for (sql, at) in [
        ("DELETE FROM sessions WHERE expires_at < $1", now),
        ("DELETE FROM rate_limits WHERE window_start < $1", stale),
    ] {
        removed += sqlx::query(sql)
            .bind(at)
            .execute(&db.pool)
            .await?
            .rows_affected();
    }
    Ok(removed)
}
