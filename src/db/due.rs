//! What the billing run reads page by page: the subscriptions with
//! something due, the reminder candidates, and the mark that a reminder
//! went out.

use super::error::DbError;
use super::exec::{Param, owned, placeholders};
use super::outbox::enqueue_email;
use super::pool::Db;
use super::row::Columns;
use super::subscriptions::{SUBSCRIPTION_COLUMNS, SubscriptionRecord, subscription};
use super::writes::EmailWrite;
use crate::domain::ids::SubscriptionId;

/// Where a page of due subscriptions ends: the next page starts after it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DueCursor {
    /// The `due_on` column (migration 0007): the date the subscription next
    /// needs the run, by status. The empty string sorts before every date.
    pub due_on: String,
    pub id: SubscriptionId,
}

/// The first page starts before every subscription.
impl Default for DueCursor {
    fn default() -> Self {
        DueCursor {
            due_on: String::new(),
            id: SubscriptionId::new(0),
        }
    }
}

/// Subscriptions with something due on or before `today` (ISO dates compare
/// as text), after `after` in (due date, id) order (a keyset page), and the
/// cursor of the last one.
pub async fn due_subscriptions(
    db: &Db,
    today: &str,
    after: &DueCursor,
    limit: i64,
) -> Result<(Vec<SubscriptionRecord>, Option<DueCursor>), DbError> {
    // Two index ranges instead of `(due_on, id) > (…)`: with that row value
    // SQLite starts at the cursor's date and filters the ids, and every
    // subscription of a month end shares one date (quadratic again). The
    // later dates are read only when the cursor's date runs out.
    fn due(r: &dyn Columns) -> Result<(SubscriptionRecord, String), DbError> {
        Ok((subscription(r)?, r.text("due_on")?))
    }
    let mut rows = db
        .read_rows(
            format!("SELECT {SUBSCRIPTION_COLUMNS} FROM subscriptions WHERE due_on = $1 AND id > $2 ORDER BY id LIMIT $3"),
            vec![
                owned(&after.due_on),
                Param::from(after.id),
                Param::Int(Some(limit)),
            ],
            due,
        )
        .await?;
    if (rows.len() as i64) < limit {
        rows.extend(
            db.read_rows(
                format!(
                    "SELECT {SUBSCRIPTION_COLUMNS} FROM subscriptions
                     WHERE due_on > $1 AND due_on <= $2 ORDER BY due_on, id LIMIT $3"
                ),
                vec![
                    owned(&after.due_on),
                    owned(today),
                    Param::Int(Some(limit - rows.len() as i64)),
                ],
                due,
            )
            .await?,
        );
    }
    let next = rows.last().map(|(r, due_on)| DueCursor {
        due_on: due_on.clone(),
        id: r.id,
    });
    Ok((rows.into_iter().map(|(r, _)| r).collect(), next))
}

/// Trials and pending cancellations ending by `horizon` whose event has
/// not been reminded yet, after `after_id` (keyset: the engine skips those
/// not yet in their window, so the run pages through them).
pub async fn reminder_candidates(
    db: &Db,
    horizon: &str,
    after_id: SubscriptionId,
    limit: i64,
) -> Result<Vec<SubscriptionRecord>, DbError> {
    let rows = sqlx::query(&format!(
        "SELECT {SUBSCRIPTION_COLUMNS} FROM subscriptions
         WHERE id > $2 AND (
               (status = 'trial' AND trial_ends_on <= $1
                AND (reminded_for IS NULL OR reminded_for <> trial_ends_on))
            OR (status = 'pending_cancellation' AND period_end <= $1
                AND (reminded_for IS NULL OR reminded_for <> period_end)))
         ORDER BY id LIMIT $3"
    ))
    .bind(horizon)
    .bind(after_id)
    .bind(limit)
    .fetch_all(&db.pool)
    .await?;
    rows.iter().map(subscription).collect()
}

/// Marks the reminder for `about` as sent and enqueues its email (if the
/// account has someone to send it to) and event, together;
/// `false` when it was already sent (another runner) or the status moved on.
pub async fn record_reminder(
    db: &Db,
    sub: &SubscriptionRecord,
    about: &str,
    email: Option<&EmailWrite>,
) -> Result<bool, DbError> {
    let mut tx = db.pool.begin().await?;
    let done = sqlx::query(
        "UPDATE subscriptions SET reminded_for = $1
         WHERE id = $2 AND status = $3 AND (reminded_for IS NULL OR reminded_for <> $1)",
    )
    .bind(about)
    .bind(sub.id)
    .bind(sub.status.code())
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if done != 1 {
        return Ok(false);
    }
    let now = super::row::now_text();
    if let Some(email) = email {
        enqueue_email(&mut tx, Some(sub.account_id), email, &now).await?;
    }
    if sub.status == crate::billing::SubscriptionStatus::Trial {
        let data = sub.object(sub.status);
        let event = super::webhooks::EventWrite::new(
            crate::domain::EventType::TrialWillEnd,
            sub.account_id,
            data,
        );
        super::webhooks::record_in(&mut tx, &[event], &now).await?;
    }
    tx.commit().await?;
    Ok(true)
}

/// Claims what it can of `read`, (id, version) as the runner read them,
/// under `lease` (see migration 0011) until the write after the charge
/// clears it; leases ending in `#runner` are the caller's own and taken
/// again. Rows another runner holds are left out, not waited for,
/// and so are rows changed since they were read (charging those would only
/// be refunded at the version check). One short statement: nothing is held
/// while the claimed rows are charged.
pub async fn claim_for_run(
    db: &Db,
    read: &[(SubscriptionId, i64)],
    (lease, runner): (&str, &str),
    now: &str,
) -> Result<std::collections::HashSet<SubscriptionId>, DbError> {
    if read.is_empty() {
        return Ok(Default::default());
    }
    let _turn = db.write_turn().await;
    let sql = format!(
        "UPDATE subscriptions SET run_lease = $1
         WHERE (run_lease IS NULL OR run_lease < $2 OR run_lease LIKE $3) AND id IN ({})
         RETURNING id, version",
        placeholders(4, read.len())
    );
    let mut q = sqlx::query_as::<_, (SubscriptionId, i64)>(&sql)
        .bind(lease)
        .bind(now)
        .bind(format!("%#{runner}"));
    for (id, _) in read {
        q = q.bind(id);
    }
    let claimed = q.fetch_all(&db.pool).await?;
    let read: std::collections::HashSet<&(SubscriptionId, i64)> = read.iter().collect();
    Ok(claimed
        .into_iter()
        .filter(|row| read.contains(row))
        .map(|(id, _)| id)
        .collect())
}

/// Gives up what is left of a runner's claims under `lease` (the steps that
/// wrote nothing: a payment timeout, a stale write).
pub async fn release_run_claims(db: &Db, lease: &str) -> Result<(), DbError> {
    let _turn = db.write_turn().await;
    sqlx::query("UPDATE subscriptions SET run_lease = NULL WHERE run_lease = $1")
        .bind(lease)
        .execute(&db.pool)
        .await?;
    Ok(())
}
