//! Subscriptions: their rows, status changes at a known version, the
//! writes an order or a renewal makes, and the billing run's pages of due
//! subscriptions and reminders.

use std::borrow::Cow;

use super::error::DbError;
use super::exec::{Exec, Param, multi_row, opt_text, owned, text};
use super::outbox::enqueue_email;
use super::pool::Db;
use super::row::{Columns, parsed};
use super::writes::{EmailWrite, SubscriptionWrite};

#[derive(Clone, Debug, PartialEq, serde::Deserialize)]
pub struct SubscriptionRecord {
    pub id: i64,
    pub account_id: i64,
    pub product: String,
    pub level: String,
    pub seats: i64,
    pub frequency: crate::billing::Frequency,
    pub status: crate::billing::SubscriptionStatus,
    pub trial_ends_on: Option<String>,
    pub period_start: Option<String>,
    pub period_end: Option<String>,
    pub paid_unit_minor: Option<i64>,
    pub paid_seats: Option<i64>,
    pub period_paid_minor: Option<i64>,
    pub period_credited_minor: Option<i64>,
    pub scheduled_level: Option<String>,
    pub scheduled_seats: Option<i64>,
    pub scheduled_frequency: Option<String>,
    pub ended_on: Option<String>,
    pub version: i64,
    pub anchor_on: Option<String>,
    pub dunning_step: i64,
    pub next_retry_on: Option<String>,
}

pub(super) fn subscription(r: &(impl Columns + ?Sized)) -> Result<SubscriptionRecord, DbError> {
    const TABLE: (&str, &str) = ("subscriptions", "id");
    Ok(SubscriptionRecord {
        id: r.int("id")?,
        account_id: r.int("account_id")?,
        product: r.text("product")?,
        level: r.text("level")?,
        seats: r.int("seats")?,
        frequency: parsed(r, TABLE, "frequency", crate::billing::Frequency::parse)?,
        status: parsed(r, TABLE, "status", |code| {
            crate::billing::SubscriptionStatus::parse(code).ok_or("not a subscription status")
        })?,
        trial_ends_on: r.opt_text("trial_ends_on")?,
        period_start: r.opt_text("period_start")?,
        period_end: r.opt_text("period_end")?,
        paid_unit_minor: r.opt_int("paid_unit_minor")?,
        paid_seats: r.opt_int("paid_seats")?,
        period_paid_minor: r.opt_int("period_paid_minor")?,
        period_credited_minor: r.opt_int("period_credited_minor")?,
        scheduled_level: r.opt_text("scheduled_level")?,
        scheduled_seats: r.opt_int("scheduled_seats")?,
        scheduled_frequency: r.opt_text("scheduled_frequency")?,
        ended_on: r.opt_text("ended_on")?,
        version: r.int("version")?,
        anchor_on: r.opt_text("anchor_on")?,
        dunning_step: r.int("dunning_step")?,
        next_retry_on: r.opt_text("next_retry_on")?,
    })
}

pub async fn subscriptions(db: &Db, account_id: i64) -> Result<Vec<SubscriptionRecord>, DbError> {
    let rows = sqlx::query("SELECT * FROM subscriptions WHERE account_id = $1 ORDER BY id")
        .bind(account_id)
        .fetch_all(&db.pool)
        .await?;
    rows.iter().map(subscription).collect()
}

/// Inserts or replaces every column of a subscription (seeding, tests).
pub async fn insert_subscription(db: &Db, s: &SubscriptionRecord) -> Result<i64, DbError> {
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO subscriptions (account_id, product, level, seats, frequency, status, trial_ends_on,
            period_start, period_end, paid_unit_minor, paid_seats, period_paid_minor, period_credited_minor,
            ended_on, version, updated_at, anchor_on)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, 1, $15, $8) RETURNING id",
    )
    .bind(s.account_id)
    .bind(&s.product)
    .bind(&s.level)
    .bind(s.seats)
    .bind(s.frequency.code())
    .bind(s.status.code())
    .bind(&s.trial_ends_on)
    .bind(&s.period_start)
    .bind(&s.period_end)
    .bind(s.paid_unit_minor)
    .bind(s.paid_seats)
    .bind(s.period_paid_minor)
    .bind(s.period_credited_minor)
    .bind(&s.ended_on)
    .bind(super::row::now_text())
    .fetch_one(&db.pool)
    .await?;
    Ok(id)
}

/// Sets the status of one subscription if it is still at `version`
/// (optimistic concurrency). `false` when another window changed it first.
pub async fn set_status(
    db: &Db,
    account_id: i64,
    id: i64,
    version: i64,
    status: &str,
) -> Result<bool, DbError> {
    let done = sqlx::query(
        "UPDATE subscriptions SET status = $1, version = version + 1, updated_at = $2
         WHERE id = $3 AND account_id = $4 AND version = $5",
    )
    .bind(status)
    .bind(super::row::now_text())
    .bind(id)
    .bind(account_id)
    .bind(version)
    .execute(&db.pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Moves one subscription at `version` from `from` to `to` with its audit
/// line and its email if any, in one transaction (the cancellation and its
/// undo).
/// `false` when another window changed it first: nothing is written.
pub async fn change_status_with_notice(
    db: &Db,
    (account_id, user_id): (i64, i64),
    (id, version): (i64, i64),
    (from, to): (&str, &str),
    (action, detail): (&str, &str),
    email: Option<&EmailWrite>,
) -> Result<bool, DbError> {
    let _turn = db.write_turn().await;
    let now = super::row::now_text();
    let mut tx = db.pool.begin().await?;
    let done = sqlx::query(
        "UPDATE subscriptions SET status = $1, version = version + 1, updated_at = $2
         WHERE id = $3 AND account_id = $4 AND version = $5 AND status = $6",
    )
    .bind(to)
    .bind(&now)
    .bind(id)
    .bind(account_id)
    .bind(version)
    .bind(from)
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() != 1 {
        return Ok(false);
    }
    let entry = super::audit::Entry {
        account_id,
        user_id: Some(user_id),
        action,
        detail,
    };
    super::audit::record(&mut tx, &[entry], &now).await?;
    if let Some(email) = email {
        enqueue_email(&mut tx, Some(account_id), email, &now).await?;
    }
    tx.commit().await?;
    Ok(true)
}

/// Updates `writes` (existing subscriptions) where their version still is
/// the one read; the ids updated.
pub(super) async fn update_subscriptions(
    tx: &mut impl Exec,
    writes: &[(i64, &SubscriptionWrite)],
    now: &str,
) -> Result<std::collections::HashSet<i64>, DbError> {
    let mut params = Vec::with_capacity(writes.len() * 21);
    for (account_id, s) in writes {
        let Some((id, version)) = s.existing else {
            continue;
        };
        let (sl, ss, sf) = match &s.scheduled {
            Some((l, n, f)) => (Some(l.as_str()), Some(*n), Some(f.as_str())),
            None => (None, None, None),
        };
        params.extend([
            Param::Int(Some(id)),
            Param::Int(Some(*account_id)),
            Param::Int(Some(version)),
        ]);
        params.extend(plan_params(s));
        params.extend([
            Param::Text(sl.map(Cow::Borrowed)),
            Param::Int(ss),
            Param::Text(sf.map(Cow::Borrowed)),
            opt_text(&s.ended_on),
            opt_text(&s.anchor_on),
            Param::Int(Some(s.dunning_step)),
            opt_text(&s.next_retry_on),
            text(now),
        ]);
    }
    // VALUES columns are named column1… on SQLite and PostgreSQL alike.
    let rows = multi_row(
        tx,
        "UPDATE subscriptions SET level = v.column4, seats = v.column5, frequency = v.column6,
           status = v.column7, period_start = v.column8, period_end = v.column9,
           paid_unit_minor = v.column10, paid_seats = v.column11, period_paid_minor = v.column12,
           period_credited_minor = v.column13, scheduled_level = v.column14,
           scheduled_seats = v.column15, scheduled_frequency = v.column16, ended_on = v.column17,
           anchor_on = v.column18, dunning_step = v.column19, next_retry_on = v.column20,
           version = subscriptions.version + 1, updated_at = v.column21
         FROM (",
        21,
        ") AS v WHERE subscriptions.id = v.column1 AND subscriptions.account_id = v.column2
           AND subscriptions.version = v.column3 RETURNING subscriptions.id",
        params,
    )
    .await?;
    Ok(rows.iter().map(|r| r.int("id")).collect::<Result<_, _>>()?)
}

/// A subscription's plan and period as bound in both its update and its
/// insert, in their columns' order there.
fn plan_params(s: &SubscriptionWrite) -> [Param<'_>; 10] {
    [
        text(&s.level),
        Param::Int(Some(s.seats)),
        text(&s.frequency),
        text(&s.status),
        opt_text(&s.period_start),
        opt_text(&s.period_end),
        Param::Int(s.paid_unit_minor),
        Param::Int(s.paid_seats),
        Param::Int(s.period_paid_minor),
        Param::Int(s.period_credited_minor),
    ]
}

/// Inserts the new subscriptions among `subs`; `false` when the account
/// already has one of the product (another window subscribed first).
pub(super) async fn insert_subscriptions(
    tx: &mut impl Exec,
    account_id: i64,
    subs: &[SubscriptionWrite],
    now: &str,
) -> Result<bool, DbError> {
    for s in subs.iter().filter(|s| s.existing.is_none()) {
        let inserted = tx
            .execute(
                "INSERT INTO subscriptions (account_id, product, level, seats, frequency, status,
                   period_start, period_end, paid_unit_minor, paid_seats, period_paid_minor,
                   period_credited_minor, version, updated_at, anchor_on)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 1, $13, $7)
                 ON CONFLICT (account_id, product) DO NOTHING",
                [Param::Int(Some(account_id)), text(&s.product)]
                    .into_iter()
                    .chain(plan_params(s))
                    .chain([text(now)])
                    .collect(),
            )
            .await?;
        if inserted != 1 {
            // Another window subscribed to the same product first.
            return Ok(false);
        }
    }
    Ok(true)
}

/// Where a page of due subscriptions ends: the next page starts after it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DueCursor {
    /// The `due_on` column (migration 0007): the date the subscription next
    /// needs the run, by status. The empty string sorts before every date.
    pub due_on: String,
    pub id: i64,
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
            "SELECT * FROM subscriptions WHERE due_on = $1 AND id > $2 ORDER BY id LIMIT $3".into(),
            vec![
                owned(&after.due_on),
                Param::Int(Some(after.id)),
                Param::Int(Some(limit)),
            ],
            due,
        )
        .await?;
    if (rows.len() as i64) < limit {
        rows.extend(
            db.read_rows(
                "SELECT * FROM subscriptions WHERE due_on > $1 AND due_on <= $2
                 ORDER BY due_on, id LIMIT $3"
                    .into(),
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
    after_id: i64,
    limit: i64,
) -> Result<Vec<SubscriptionRecord>, DbError> {
    let rows = sqlx::query(
        "SELECT * FROM subscriptions
         WHERE id > $2 AND (
               (status = 'trial' AND trial_ends_on <= $1
                AND (reminded_for IS NULL OR reminded_for <> trial_ends_on))
            OR (status = 'pending_cancellation' AND period_end <= $1
                AND (reminded_for IS NULL OR reminded_for <> period_end)))
         ORDER BY id LIMIT $3",
    )
    .bind(horizon)
    .bind(after_id)
    .bind(limit)
    .fetch_all(&db.pool)
    .await?;
    rows.iter().map(subscription).collect()
}

/// Marks the reminder for `about` as sent and enqueues its email, together;
/// `false` when it was already sent (another runner) or the status moved on.
pub async fn record_reminder(
    db: &Db,
    sub: &SubscriptionRecord,
    about: &str,
    email: &EmailWrite,
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
    enqueue_email(
        &mut tx,
        Some(sub.account_id),
        email,
        &super::row::now_text(),
    )
    .await?;
    tx.commit().await?;
    Ok(true)
}
