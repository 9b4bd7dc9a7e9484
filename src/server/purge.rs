//! The billing job's housekeeping: sessions, links, tokens, rate-limit
//! windows and idempotency records that can no longer be used are deleted,
//! so none of them outlives its purpose in the database; webhook deliveries
//! leave their endpoint's log 30 days after they are settled.

use super::state::AppState;
use crate::db::{DbError, api, instant_text, portal_links, sessions, user_tokens, webhooks};

/// How long an `Idempotency-Key` replays its first answer.
pub const IDEMPOTENCY_RETENTION: chrono::Duration = chrono::Duration::hours(24);

/// How long a settled webhook delivery stays in its endpoint's log.
pub const WEBHOOK_LOG_RETENTION: chrono::Duration = chrono::Duration::days(30);

/// Deletes what expired before now; the number of rows removed.
pub async fn run(state: &AppState) -> Result<u64, DbError> {
    let now = state.clock.now();
    let text = instant_text(now);
    let day_ago = instant_text(now - chrono::Duration::days(1));
    let retained = instant_text(now - IDEMPOTENCY_RETENTION);
    Ok(sessions::purge_expired(&state.db, &text, &day_ago).await?
        + portal_links::purge_links(&state.db, &text).await?
        + user_tokens::purge_tokens(&state.db, &text).await?
        + api::purge_requests(&state.db, &retained).await?
        + webhooks::purge_settled(&state.db, &instant_text(now - WEBHOOK_LOG_RETENTION)).await?)
}
