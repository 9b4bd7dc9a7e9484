//! What the billing run does to one subscription on a given local date:
//! renew at period end (applying a scheduled change), end trials and pending
//! cancellations, retry failed renewals at +1, +3 and +7 days, then expire.
//! Pure: the run reads the state, asks [`next_step`], and writes the result.

use chrono::{Duration, NaiveDate};
use serde::{Deserialize, Serialize};

use super::catalog::Catalog;
use super::error::BillingError;
use super::money::Money;
use super::period::{BillingPeriod, Frequency};
use super::quote::SubscriptionSnapshot;
use super::state::SubscriptionStatus;

/// Days after the due date on which a failed renewal is retried (R14).
pub const RETRY_DAYS: [i64; 3] = [1, 3, 7];

/// The dunning step of a subscription whose renewal was hard-declined: it is
/// not retried on the same payment method; a new one is charged as soon as
/// it is saved, and without one it expires [`HARD_DECLINE_GRACE_DAYS`] later.
pub const AWAITING_NEW_METHOD: u32 = 100;
pub const HARD_DECLINE_GRACE_DAYS: i64 = 7;

/// The stored facts the run needs beyond the snapshot.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunState {
    /// First day of the paid term: periods are computed from it.
    pub anchor: Option<NaiveDate>,
    /// Failed attempts so far for the current due period.
    pub dunning_step: u32,
    pub next_retry: Option<NaiveDate>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    EndTrial,
    /// A hard-declined renewal got no new payment method in time.
    ExpireUnpaid {
        on: NaiveDate,
    },
    /// A pending cancellation reached the end of the term.
    EndTerm {
        on: NaiveDate,
    },
    /// Charge `net` (excl. VAT) for `period`; on success the subscription
    /// moves to it with this plan.
    Renew {
        period: BillingPeriod,
        anchor: NaiveDate,
        level: String,
        seats: u32,
        frequency: Frequency,
        unit_price: Money,
        net: Money,
        /// 0 for the renewal itself, 1..=3 for the retries.
        attempt: u32,
    },
}

/// Days before the end of a trial when its reminder goes out.
pub const TRIAL_REMINDER_DAYS: i64 = 3;
/// Days before a pending cancellation takes effect when its reminder goes out.
pub const CANCELLATION_REMINDER_DAYS: i64 = 7;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReminderKind {
    TrialEnding,
    CancellationTakingEffect,
}

/// A reminder due today. `about` identifies the event (the trial's end or
/// the term's end) so that each event is reminded once; `last_day` is the
/// last day of service, for the text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reminder {
    pub kind: ReminderKind,
    pub about: NaiveDate,
    pub last_day: NaiveDate,
}

pub fn reminder(sub: &SubscriptionSnapshot, today: NaiveDate) -> Option<Reminder> {
    let within = |end: NaiveDate, days: i64| today < end && (end - today).num_days() <= days;
    match sub.status {
        SubscriptionStatus::Trial => sub
            .trial_ends
            .filter(|end| within(*end, TRIAL_REMINDER_DAYS))
            .map(|end| Reminder {
                kind: ReminderKind::TrialEnding,
                about: end,
                // `trial_ends` is the first day without the trial, as a
                // term's end is the first day after it.
                last_day: end.pred_opt().unwrap_or(end),
            }),
        SubscriptionStatus::PendingCancellation => sub
            .period
            .filter(|p| within(p.end, CANCELLATION_REMINDER_DAYS))
            .map(|p| Reminder {
                kind: ReminderKind::CancellationTakingEffect,
                about: p.end,
                last_day: p.last_day(),
            }),
        _ => None,
    }
}

/// What to do today, if anything. Call again after applying a step: a
/// subscription several periods behind renews once per call.
pub fn next_step(
    catalog: &Catalog,
    sub: &SubscriptionSnapshot,
    run: &RunState,
    today: NaiveDate,
) -> Result<Option<Step>, BillingError> {
    match sub.status {
        SubscriptionStatus::Trial => Ok(sub
            .trial_ends
            .filter(|end| *end <= today)
            .map(|_| Step::EndTrial)),
        SubscriptionStatus::PendingCancellation => Ok(sub
            .period
            .filter(|p| p.end <= today)
            .map(|p| Step::EndTerm { on: p.end })),
        SubscriptionStatus::Active => match sub.period {
            Some(p) if p.end <= today => renew(catalog, sub, run, p, 0).map(Some),
            _ => Ok(None),
        },
        SubscriptionStatus::PastDue => match (sub.period, run.next_retry) {
            (Some(_), Some(retry)) if retry <= today && run.dunning_step >= AWAITING_NEW_METHOD => {
                Ok(Some(Step::ExpireUnpaid { on: retry }))
            }
            (Some(p), Some(retry)) if retry <= today => {
                renew(catalog, sub, run, p, run.dunning_step).map(Some)
            }
            _ => Ok(None),
        },
        SubscriptionStatus::TrialExpired | SubscriptionStatus::Expired => Ok(None),
    }
}

fn renew(
    catalog: &Catalog,
    sub: &SubscriptionSnapshot,
    run: &RunState,
    current: BillingPeriod,
    attempt: u32,
) -> Result<Step, BillingError> {
    let product = catalog.product(&sub.product)?;
    let (level, seats, frequency) = sub.next_plan();
    // Same frequency: the next period from the anchor (never drifting from
    // the 31st); a new frequency starts a new anchor at the term's end.
    let (anchor, period) = match run.anchor {
        Some(a) if frequency == sub.frequency => {
            (a, BillingPeriod::containing(a, frequency, current.end)?)
        }
        _ => (
            current.end,
            BillingPeriod::starting(current.end, frequency)?,
        ),
    };
    // The same functions as the card's "Renews on … for …".
    let unit_price = super::quote::unit_price(product, sub, &level, frequency)?;
    let net = super::quote::plan_net(product, sub, &level, seats, frequency)?;
    Ok(Step::Renew {
        period,
        anchor,
        level,
        seats,
        frequency,
        unit_price,
        net,
        attempt,
    })
}

/// After a failed charge on `attempt` (0 = the renewal) made on
/// `attempted_on`: the next retry date, or `None` when the subscription
/// expires. Retries are spaced from the actual attempt, so a gap without
/// billing runs never fires them all in one sweep; a hard decline (stolen
/// card, closed account) is never retried (R14): only a new payment method
/// can recover it.
pub fn after_failure(attempted_on: NaiveDate, attempt: u32, hard: bool) -> Option<NaiveDate> {
    if hard {
        return None;
    }
    let gap = match attempt {
        0 => RETRY_DAYS[0],
        n => RETRY_DAYS
            .get(n as usize)
            .zip(RETRY_DAYS.get(n as usize - 1))
            .map(|(d, prev)| d - prev)?,
    };
    Some(attempted_on + Duration::days(gap))
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;
    use crate::billing::catalog::load::demo;
    use crate::billing::{
        Currency,
        quote::{PaidTerm, ScheduledChange},
    };

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn active(start: &str, end: &str) -> SubscriptionSnapshot {
        let eur = |s: &str| Money::parse(s, Currency::Eur).unwrap();
        SubscriptionSnapshot {
            id: crate::domain::SubscriptionId::new(1),
            product: "webinar".into(),
            level: "standard".into(),
            seats: 2,
            frequency: Frequency::Monthly,
            status: SubscriptionStatus::Active,
            period: Some(BillingPeriod {
                start: d(start),
                end: d(end),
            }),
            paid: Some(PaidTerm {
                unit_price: eur("129.00"),
                seats: 2,
                total_paid: eur("258.00"),
                credited: eur("0"),
            }),
            trial_ends: None,
            scheduled: None,
            version: 1,
        }
    }

    fn run(anchor: &str) -> RunState {
        RunState {
            anchor: Some(d(anchor)),
            dunning_step: 0,
            next_retry: None,
        }
    }

    fn scheduled(level: &str, seats: u32, frequency: Frequency) -> ScheduledChange {
        ScheduledChange {
            level: level.into(),
            seats,
            frequency,
        }
    }

    #[test]
    fn reminders_go_out_in_their_window_only() {
        let mut trial = active("2024-01-01", "2024-02-01");
        trial.status = SubscriptionStatus::Trial;
        trial.period = None;
        trial.trial_ends = Some(d("2024-03-10"));
        assert_eq!(reminder(&trial, d("2024-03-06")), None);
        let r = reminder(&trial, d("2024-03-07")).unwrap();
        assert_eq!(r.kind, ReminderKind::TrialEnding);
        assert_eq!(r.about, d("2024-03-10"));
        // Both reminders name the last day of service, not the first after.
        assert_eq!(r.last_day, d("2024-03-09"));
        assert!(reminder(&trial, d("2024-03-09")).is_some());
        assert_eq!(
            reminder(&trial, d("2024-03-10")),
            None,
            "ended: no reminder"
        );

        let mut pending = active("2024-01-31", "2024-02-29");
        pending.status = SubscriptionStatus::PendingCancellation;
        assert_eq!(reminder(&pending, d("2024-02-21")), None);
        let r = reminder(&pending, d("2024-02-22")).unwrap();
        assert_eq!(r.kind, ReminderKind::CancellationTakingEffect);
        assert_eq!(r.last_day, d("2024-02-28"));
        assert_eq!(
            reminder(&active("2024-01-31", "2024-02-29"), d("2024-02-25")),
            None
        );
    }

    #[test]
    fn renews_on_the_end_date_not_before_keeping_the_anchor_day() {
        let c = demo();
        let sub = active("2024-01-31", "2024-02-29");
        assert_eq!(
            next_step(&c, &sub, &run("2024-01-31"), d("2024-02-28")).unwrap(),
            None
        );
        let Some(Step::Renew { period, net, .. }) =
            next_step(&c, &sub, &run("2024-01-31"), d("2024-02-29")).unwrap()
        else {
            panic!("due")
        };
        assert_eq!(
            period,
            BillingPeriod {
                start: d("2024-02-29"),
                end: d("2024-03-31")
            }
        );
        assert_eq!(net.plain(), "258.00");
    }

    #[test]
    fn scheduled_downgrade_applies_at_renewal_and_a_new_frequency_re_anchors() {
        let c = demo();
        let mut sub = active("2026-11-01", "2026-12-01");
        sub.scheduled = Some(scheduled("lite", 1, Frequency::Monthly));
        let r = run("2026-01-31");
        let Some(Step::Renew {
            level, seats, net, ..
        }) = next_step(&c, &sub, &r, d("2026-12-01")).unwrap()
        else {
            panic!()
        };
        assert_eq!(
            (level.as_str(), seats, net.plain().as_str()),
            ("lite", 1, "59.00")
        );
        let mut annual = active("2025-12-01", "2026-12-01");
        annual.frequency = Frequency::Annual;
        annual.scheduled = Some(scheduled("standard", 2, Frequency::Monthly));
        let r = run("2025-12-01");
        let Some(Step::Renew { period, anchor, .. }) =
            next_step(&c, &annual, &r, d("2026-12-03")).unwrap()
        else {
            panic!()
        };
        assert_eq!((anchor, period.end), (d("2026-12-01"), d("2027-01-01")));
    }

    #[test]
    fn trials_and_pending_cancellations_end_on_their_date() {
        let c = demo();
        let mut t = active("2026-11-01", "2026-12-01");
        t.status = SubscriptionStatus::Trial;
        t.trial_ends = Some(d("2026-11-26"));
        assert_eq!(
            next_step(&c, &t, &run("2026-11-01"), d("2026-11-25")).unwrap(),
            None
        );
        assert_eq!(
            next_step(&c, &t, &run("2026-11-01"), d("2026-11-26")).unwrap(),
            Some(Step::EndTrial)
        );
        let mut p = active("2026-11-01", "2026-12-01");
        p.status = SubscriptionStatus::PendingCancellation;
        assert_eq!(
            next_step(&c, &p, &run("2026-11-01"), d("2026-11-30")).unwrap(),
            None
        );
        assert_eq!(
            next_step(&c, &p, &run("2026-11-01"), d("2026-12-01")).unwrap(),
            Some(Step::EndTerm {
                on: d("2026-12-01")
            })
        );
    }

    #[test]
    fn retries_at_one_three_and_seven_days_then_expire() {
        let due = d("2026-12-01");
        // On time: +1, +3 and +7 days from the due date.
        assert_eq!(after_failure(due, 0, false), Some(d("2026-12-02")));
        assert_eq!(
            after_failure(d("2026-12-02"), 1, false),
            Some(d("2026-12-04"))
        );
        assert_eq!(
            after_failure(d("2026-12-04"), 2, false),
            Some(d("2026-12-08"))
        );
        assert_eq!(after_failure(d("2026-12-08"), 3, false), None);
        // Late (no run for ten days): spaced from the attempt actually made.
        assert_eq!(
            after_failure(d("2026-12-11"), 0, false),
            Some(d("2026-12-12"))
        );
        assert_eq!(
            after_failure(d("2026-12-12"), 1, false),
            Some(d("2026-12-14"))
        );
        // Hard declines are not retried.
        assert_eq!(after_failure(due, 0, true), None);
        let c = demo();
        let mut s = active("2026-11-01", "2026-12-01");
        s.status = SubscriptionStatus::PastDue;
        let mut r = run("2026-11-01");
        r.dunning_step = 1;
        r.next_retry = Some(d("2026-12-02"));
        assert_eq!(next_step(&c, &s, &r, d("2026-12-01")).unwrap(), None);
        assert!(matches!(
            next_step(&c, &s, &r, d("2026-12-02")).unwrap(),
            Some(Step::Renew { attempt: 1, .. })
        ));
    }
}
