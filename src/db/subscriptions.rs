//! Subscriptions: their rows, status changes at a known version, and the
//! writes an order or a renewal makes (the billing run's pages: `due`).

use crate::domain::ids::{AccountId, SubscriptionId, UserId};
use std::borrow::Cow;

use super::error::DbError;
use super::exec::{Exec, Param, multi_row, opt_date as date, opt_minor, owned, text};
use super::outbox::enqueue_email;
use super::pool::Db;
use super::row::{Columns, bad_value, opt_date, opt_parsed, parsed};
use super::webhooks::EventWrite;
use super::writes::{EmailWrite, SubscriptionWrite};
use crate::billing::quote::{PaidTerm, ScheduledChange};
use crate::billing::{BillingPeriod, Currency, Frequency, Money, SubscriptionStatus};
use crate::domain::EventType;
use chrono::NaiveDate;

/// A subscription as stored, decoded into the engine's types; its amounts
/// are in its account's currency.
#[derive(Clone, Debug, PartialEq)]
pub struct SubscriptionRecord {
    pub id: SubscriptionId,
    pub account_id: AccountId,
    pub product: String,
    pub level: String,
    pub seats: u32,
    pub frequency: Frequency,
    pub status: SubscriptionStatus,
    pub trial_ends_on: Option<NaiveDate>,
    pub period: Option<BillingPeriod>,
    pub paid: Option<PaidTerm>,
    pub scheduled: Option<ScheduledChange>,
    pub ended_on: Option<NaiveDate>,
    pub version: i64,
    pub anchor_on: Option<NaiveDate>,
    pub dunning_step: u32,
    pub next_retry_on: Option<NaiveDate>,
}

impl SubscriptionRecord {
    /// A new trial of `product` at `level` for `seats`, ending on `ends`
    /// (its first unpaid day), to be inserted.
    pub fn trial(
        account_id: AccountId,
        plan: (&str, &str, u32),
        frequency: Frequency,
        ends: NaiveDate,
    ) -> SubscriptionRecord {
        SubscriptionRecord {
            trial_ends_on: Some(ends),
            ..SubscriptionRecord::new(account_id, plan, frequency, SubscriptionStatus::Trial)
        }
    }

    /// A new subscription in `status` with no period, payment or change yet,
    /// to be inserted (what each step then sets starts here).
    pub fn new(
        account_id: AccountId,
        (product, level, seats): (&str, &str, u32),
        frequency: Frequency,
        status: SubscriptionStatus,
    ) -> SubscriptionRecord {
        SubscriptionRecord {
            id: SubscriptionId::new(0),
            account_id,
            product: product.to_string(),
            level: level.to_string(),
            seats,
            frequency,
            status,
            trial_ends_on: None,
            period: None,
            paid: None,
            scheduled: None,
            ended_on: None,
            version: 1,
            anchor_on: None,
            dunning_step: 0,
            next_retry_on: None,
        }
    }

    /// What the seller's application should grant while the subscription
    /// is in `state`: nothing once the trial or the term has ended.
    /// `active_until` is the last day included.
    pub fn entitlement(&self, state: SubscriptionStatus) -> serde_json::Value {
        let until: Option<NaiveDate> = match state {
            SubscriptionStatus::Trial => self.trial_ends_on.and_then(|d| d.pred_opt()),
            SubscriptionStatus::Active
            | SubscriptionStatus::PendingCancellation
            | SubscriptionStatus::PastDue => self.period.map(|p| p.last_day()),
            SubscriptionStatus::TrialExpired | SubscriptionStatus::Expired => None,
        };
        match until {
            Some(day) => serde_json::json!({
                "product": self.product, "level": self.level, "seats": self.seats, "active_until": day,
            }),
            None => serde_json::Value::Null,
        }
    }

    /// In `state` (the stored status, or the one the engine reads for
    /// today when the billing run has not written it yet), as the operator
    /// API shows it and the `subscription.*` events carry it.
    pub fn object(&self, state: SubscriptionStatus) -> serde_json::Value {
        let s = self;
        serde_json::json!({
            "object": "subscription",
            "id": s.id,
            "account": s.account_id,
            "product": s.product,
            "level": s.level,
            "seats": s.seats,
            "frequency": s.frequency.code(),
            "state": state.code(),
            "trial_ends_on": s.trial_ends_on,
            "period": s.period.map(|p| serde_json::json!({"start": p.start, "end": p.last_day()})),
            "scheduled_change": s.scheduled.as_ref().map(|c| serde_json::json!({
                "level": c.level, "seats": c.seats, "frequency": c.frequency.code(),
            })),
            "entitlement": s.entitlement(state),
        })
    }
}

impl SubscriptionWrite {
    /// The subscription as this write leaves it, once it has its `id`.
    pub fn record(&self, id: SubscriptionId, account_id: AccountId) -> SubscriptionRecord {
        SubscriptionRecord {
            id,
            account_id,
            product: self.product.clone(),
            level: self.level.clone(),
            seats: self.seats,
            frequency: self.frequency,
            status: self.status,
            trial_ends_on: None,
            period: self.period,
            paid: self.paid.clone(),
            scheduled: self.scheduled.clone(),
            ended_on: self.ended_on,
            version: self.existing.map_or(1, |(_, v)| v + 1),
            anchor_on: self.anchor_on,
            dunning_step: self.dunning_step,
            next_retry_on: self.next_retry_on,
        }
    }

    /// The write that leaves `r` as it is: what a step changes starts here.
    pub fn keeping(r: &SubscriptionRecord) -> Self {
        SubscriptionWrite {
            existing: Some((r.id, r.version)),
            product: r.product.clone(),
            level: r.level.clone(),
            seats: r.seats,
            frequency: r.frequency,
            status: r.status,
            period: r.period,
            paid: r.paid.clone(),
            scheduled: r.scheduled.clone(),
            anchor_on: r.anchor_on,
            dunning_step: r.dunning_step,
            next_retry_on: r.next_retry_on,
            ended_on: r.ended_on,
        }
    }
}

/// The columns a [`SubscriptionRecord`] is read from: the row and its
/// account's currency.
pub(super) const SUBSCRIPTION_COLUMNS: &str = "subscriptions.*, \
    (SELECT currency FROM accounts WHERE accounts.id = subscriptions.account_id) AS account_currency";

pub(super) fn subscription(r: &(impl Columns + ?Sized)) -> Result<SubscriptionRecord, DbError> {
    const TABLE: (&str, &str) = ("subscriptions", "id");
    let count = |column: &'static str, n: i64| {
        u32::try_from(n).map_err(|_| bad_value(r, TABLE, column, n, "not a count"))
    };
    let status = parsed(r, TABLE, "status", |code| {
        SubscriptionStatus::parse(code).ok_or("not a subscription status")
    })?;
    let frequency = parsed(r, TABLE, "frequency", Frequency::parse)?;
    // The account's, read with the row: its amounts are in it.
    let currency = parsed(r, TABLE, "account_currency", Currency::parse)?;
    let money = |minor: i64| Money::from_minor(minor, currency);
    let period = match (
        opt_date(r, TABLE, "period_start")?,
        opt_date(r, TABLE, "period_end")?,
    ) {
        (Some(start), Some(end)) if start < end => Some(BillingPeriod { start, end }),
        (None, None) => None,
        other => return Err(bad_value(r, TABLE, "period_end", other, "not a period")),
    };
    let paid = match (
        r.opt_int("paid_unit_minor")?,
        r.opt_int("paid_seats")?,
        r.opt_int("period_paid_minor")?,
    ) {
        (Some(unit), Some(seats), Some(total)) => Some(PaidTerm {
            unit_price: money(unit),
            seats: count("paid_seats", seats)?,
            total_paid: money(total),
            // No credit granted against the period yet.
            credited: money(r.opt_int("period_credited_minor")?.unwrap_or(0)),
        }),
        (None, None, None) => None,
        other => {
            let reason = "a paid term needs its unit price, seats and total";
            return Err(bad_value(r, TABLE, "paid_unit_minor", other, reason));
        }
    };
    let scheduled = match (
        r.opt_text("scheduled_level")?,
        r.opt_int("scheduled_seats")?,
        opt_parsed(r, TABLE, "scheduled_frequency", Frequency::parse)?,
    ) {
        (Some(level), Some(seats), Some(frequency)) => Some(ScheduledChange {
            level,
            seats: count("scheduled_seats", seats)?,
            frequency,
        }),
        (None, None, None) => None,
        other => {
            let reason = "a scheduled change needs its level, seats and frequency";
            return Err(bad_value(r, TABLE, "scheduled_level", other, reason));
        }
    };
    Ok(SubscriptionRecord {
        id: SubscriptionId::new(r.int("id")?),
        account_id: AccountId::new(r.int("account_id")?),
        product: r.text("product")?,
        level: r.text("level")?,
        seats: count("seats", r.int("seats")?)?,
        frequency,
        status,
        trial_ends_on: opt_date(r, TABLE, "trial_ends_on")?,
        period,
        paid,
        scheduled,
        ended_on: opt_date(r, TABLE, "ended_on")?,
        version: r.int("version")?,
        anchor_on: opt_date(r, TABLE, "anchor_on")?,
        dunning_step: count("dunning_step", r.int("dunning_step")?)?,
        next_retry_on: opt_date(r, TABLE, "next_retry_on")?,
    })
}

pub async fn subscriptions(
    db: &Db,
    account_id: AccountId,
) -> Result<Vec<SubscriptionRecord>, DbError> {
    // Built once: every signed-in billing page reads it.
    static SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        format!(
            "SELECT {SUBSCRIPTION_COLUMNS} FROM subscriptions WHERE account_id = $1 ORDER BY id"
        )
    });
    let rows = sqlx::query(&SQL)
        .bind(account_id)
        .fetch_all(&db.pool)
        .await?;
    rows.iter().map(subscription).collect()
}

/// Inserts a subscription with every column of `s` (seeding, tests).
pub async fn insert_subscription(
    db: &Db,
    s: &SubscriptionRecord,
) -> Result<SubscriptionId, DbError> {
    insert_subscription_with(&mut &db.pool, s).await
}

/// [`insert_subscription`] in a transaction of the caller's (a trial the
/// operator API starts).
pub async fn insert_subscription_in(
    tx: &mut super::WriteTx,
    s: &SubscriptionRecord,
) -> Result<SubscriptionId, DbError> {
    let id = insert_subscription_with(&mut tx.tx, s).await?;
    let data = SubscriptionRecord { id, ..s.clone() }.object(s.status);
    let event = EventWrite::new(EventType::SubscriptionCreated, s.account_id, data);
    super::webhooks::record(tx, &[event]).await?;
    Ok(id)
}

/// One subscription by id, read in a transaction of the caller's.
pub async fn subscription_in(
    tx: &mut super::WriteTx,
    id: SubscriptionId,
) -> Result<Option<SubscriptionRecord>, DbError> {
    let sql = format!("SELECT {SUBSCRIPTION_COLUMNS} FROM subscriptions WHERE id = $1");
    let rows = tx.tx.fetch(&sql, vec![Param::from(id)]).await?;
    rows.first().map(subscription).transpose()
}

/// One subscription by id.
pub async fn find_subscription(
    db: &Db,
    id: SubscriptionId,
) -> Result<Option<SubscriptionRecord>, DbError> {
    let sql = format!("SELECT {SUBSCRIPTION_COLUMNS} FROM subscriptions WHERE id = $1");
    db.read_row(&sql, Param::from(id), |r| subscription(r))
        .await
}

async fn insert_subscription_with(
    e: &mut impl super::exec::Exec,
    s: &SubscriptionRecord,
) -> Result<SubscriptionId, DbError> {
    let write = SubscriptionWrite {
        existing: None,
        ..SubscriptionWrite::keeping(s)
    };
    let params: Vec<Param<'_>> = [Param::from(s.account_id), text(&s.product)]
        .into_iter()
        .chain(plan_params(&write))
        .chain(state_params(&write))
        .chain([
            date(s.trial_ends_on),
            Param::Int(Some(s.version)),
            owned(&super::row::now_text()),
        ])
        .collect();
    let rows = e
        .fetch(
            "INSERT INTO subscriptions (account_id, product, level, seats, frequency, status,
               period_start, period_end, paid_unit_minor, paid_seats, period_paid_minor,
               period_credited_minor, scheduled_level, scheduled_seats, scheduled_frequency,
               ended_on, anchor_on, dunning_step, next_retry_on, trial_ends_on, version, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17,
               $18, $19, $20, $21, $22) RETURNING id",
            params,
        )
        .await?;
    match rows.first() {
        Some(row) => Ok(SubscriptionId::new(row.int("id")?)),
        None => Err(sqlx::Error::RowNotFound.into()),
    }
}

/// Sets the status of one subscription if it is still at `version`
/// (optimistic concurrency). `false` when another window changed it first.
pub async fn set_status(
    db: &Db,
    account_id: AccountId,
    id: SubscriptionId,
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
    (account_id, user_id): (AccountId, UserId),
    (id, version): (SubscriptionId, i64),
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
    let sql = format!("SELECT {SUBSCRIPTION_COLUMNS} FROM subscriptions WHERE id = $1");
    let changed = subscription(&sqlx::query(&sql).bind(id).fetch_one(&mut *tx).await?)?;
    let kind = match changed.status {
        SubscriptionStatus::PendingCancellation => EventType::SubscriptionCanceled,
        _ => EventType::SubscriptionUpdated,
    };
    let data = changed.object(changed.status);
    super::webhooks::record_in(&mut tx, &[EventWrite::new(kind, account_id, data)], &now).await?;
    tx.commit().await?;
    Ok(true)
}

/// Updates `writes` (existing subscriptions) where their version still is
/// the one read; the ids updated.
pub(super) async fn update_subscriptions(
    tx: &mut impl Exec,
    writes: &[(AccountId, &SubscriptionWrite)],
    now: &str,
) -> Result<std::collections::HashSet<SubscriptionId>, DbError> {
    let mut params = Vec::with_capacity(writes.len() * 21);
    for (account_id, s) in writes {
        let Some((id, version)) = s.existing else {
            continue;
        };
        params.extend([
            Param::from(id),
            Param::from(*account_id),
            Param::Int(Some(version)),
        ]);
        params.extend(plan_params(s));
        params.extend(state_params(s));
        params.push(text(now));
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
           version = subscriptions.version + 1, updated_at = v.column21, run_lease = NULL
         FROM (",
        21,
        ") AS v WHERE subscriptions.id = v.column1 AND subscriptions.account_id = v.column2
           AND subscriptions.version = v.column3 RETURNING subscriptions.id",
        params,
    )
    .await?;
    Ok(rows
        .iter()
        .map(|r| r.int("id").map(SubscriptionId::new))
        .collect::<Result<_, _>>()?)
}

/// A subscription's plan and period as bound in both its update and its
/// insert, in their columns' order there.
fn plan_params(s: &SubscriptionWrite) -> [Param<'_>; 10] {
    let paid = s.paid.as_ref();
    [
        text(&s.level),
        Param::Int(Some(i64::from(s.seats))),
        text(s.frequency.code()),
        text(s.status.code()),
        date(s.period.map(|p| p.start)),
        date(s.period.map(|p| p.end)),
        opt_minor(paid.map(|p| p.unit_price)),
        Param::Int(paid.map(|p| i64::from(p.seats))),
        opt_minor(paid.map(|p| p.total_paid)),
        opt_minor(paid.map(|p| p.credited)),
    ]
}

/// Its scheduled change and run state, after [`plan_params`] in both.
fn state_params(s: &SubscriptionWrite) -> [Param<'_>; 7] {
    let scheduled = s.scheduled.as_ref();
    [
        Param::Text(scheduled.map(|c| Cow::Borrowed(c.level.as_str()))),
        Param::Int(scheduled.map(|c| i64::from(c.seats))),
        Param::Text(scheduled.map(|c| Cow::Borrowed(c.frequency.code()))),
        date(s.ended_on),
        date(s.anchor_on),
        Param::Int(Some(i64::from(s.dunning_step))),
        date(s.next_retry_on),
    ]
}

/// Inserts the new subscriptions among `subs`; their ids in order, or
/// `None` when the account already has one of the product (another window
/// subscribed first).
pub(super) async fn insert_subscriptions(
    tx: &mut impl Exec,
    account_id: AccountId,
    subs: &[SubscriptionWrite],
    now: &str,
) -> Result<Option<Vec<SubscriptionId>>, DbError> {
    let mut ids = Vec::new();
    for s in subs.iter().filter(|s| s.existing.is_none()) {
        let rows = tx
            .fetch(
                "INSERT INTO subscriptions (account_id, product, level, seats, frequency, status,
                   period_start, period_end, paid_unit_minor, paid_seats, period_paid_minor,
                   period_credited_minor, version, updated_at, anchor_on)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 1, $13, $7)
                 ON CONFLICT (account_id, product) DO NOTHING RETURNING id",
                [Param::from(account_id), text(&s.product)]
                    .into_iter()
                    .chain(plan_params(s))
                    .chain([text(now)])
                    .collect(),
            )
            .await?;
        match super::pool::first_id(&rows)? {
            Some(id) => ids.push(SubscriptionId::new(id)),
            // Another window subscribed to the same product first.
            None => return Ok(None),
        }
    }
    Ok(Some(ids))
}
