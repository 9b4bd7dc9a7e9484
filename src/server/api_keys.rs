//! Keys of the operator API: made by the command line, shown once, kept as
//! their SHA-256, and checked on every API request.

use crate::db::api::{self, ApiKeyRecord};
use crate::db::{Db, DbError, instant_text};
use crate::domain::ApiKeyId;

/// How stale a key's `last_used_at` may get before a request refreshes it.
const TOUCH_EVERY: chrono::Duration = chrono::Duration::minutes(1);
/// What every key starts with, so a leaked one is recognisable (and
/// secret scanners can be told about it).
pub const KEY_PREFIX: &str = "bc_key_";

/// A new key named `name`: its id and the key, which is not kept.
pub async fn create(
    db: &Db,
    name: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(ApiKeyId, String), DbError> {
    let key = format!("{KEY_PREFIX}{}", super::auth::random_token());
    let prefix = &key[..KEY_PREFIX.len() + 6];
    let id = api::insert_key(
        db,
        name,
        prefix,
        &super::auth::stored_hash(&key),
        &instant_text(now),
    )
    .await?;
    Ok((id, key))
}

/// The live key a bearer token is, recording its use.
pub async fn authenticate(
    db: &Db,
    bearer: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Option<ApiKeyRecord>, DbError> {
    // Anything else is not one of ours: no query for it.
    let well_formed = bearer.len() == KEY_PREFIX.len() + 64
        && bearer.starts_with(KEY_PREFIX)
        && bearer[KEY_PREFIX.len()..]
            .bytes()
            .all(|b| b.is_ascii_hexdigit());
    if !well_formed {
        return Ok(None);
    }
    let Some(key) = api::active_key(db, &super::auth::stored_hash(bearer)).await? else {
        return Ok(None);
    };
    // The key was just read: only a stale last use costs a write.
    let since = instant_text(now - TOUCH_EVERY);
    if key
        .last_used_at
        .as_deref()
        .is_none_or(|t| t < since.as_str())
    {
        api::touch_key(db, key.id, &instant_text(now), &since).await?;
    }
    Ok(Some(key))
}
