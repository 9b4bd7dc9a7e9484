//! The billing run: renewals, scheduled changes, ends of trials and terms,
//! dunning. `billing-center bill --as-of DATE` and a job inside `serve`.
//!
//! Due subscriptions go by pages: claimed (a lease, so a second runner on
//! the same database skips them), charged outside any transaction with
//! bounded concurrency, then written, each step guarded by the
//! subscription's version, so a run killed at any point and run again
//! bills nothing twice and skips nothing. A renewal's charge reference is the
//! server's, made from the term it follows and its closed attempts
//! (`charges`): a run killed after a charge sends the same reference
//! again, and the gateway, which deduplicates on it (as real ones do with
//! idempotency keys), returns the first charge instead of charging twice.

use crate::domain::{AccountId, SubscriptionId};
use chrono::NaiveDate;
use std::collections::HashMap;
use std::time::{Duration, Instant};

mod plan;

use super::billing::{lang_of, snapshot};
use super::charges::{Attempt, Purpose};
use super::email::notice;
use super::payments::PaymentGateway;
use super::state::AppState;
use crate::billing::SubscriptionStatus;
use crate::billing::renewal::{
    AWAITING_NEW_METHOD, CANCELLATION_REMINDER_DAYS, ReminderKind, TRIAL_REMINDER_DAYS, reminder,
};
use crate::db::accounts::{self, AccountRecord, UserRecord};
use crate::db::due::{self, DueCursor};
use crate::db::payment_methods::PaymentMethodRecord;
use crate::db::subscriptions::SubscriptionRecord;
use crate::db::writes::{CommitError, OrderWrite};
use crate::db::{commit, orders, payment_methods, subscriptions};
use crate::error::AppError;
use plan::{Charged, Outcome, Planned, Prepared};
use std::collections::HashSet;
use std::sync::Arc;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RunReport {
    pub renewed: u32,
    pub failed_payments: u32,
    pub trials_ended: u32,
    pub terms_ended: u32,
    pub expired_after_retries: u32,
    pub skipped_changed: u32,
    /// Subscriptions whose stored record the run cannot bill (a country
    /// without a VAT rate, a VAT number or product that no longer parses):
    /// skipped, logged with the reason, and the rest of the run goes on.
    pub skipped_invalid: std::collections::BTreeMap<SubscriptionId, String>,
    pub reminders_sent: u32,
    /// Orders whose process died between claim and commit: refunded if
    /// charged, and their key released (the cart is still there).
    pub orders_abandoned: u32,
    /// Refunds the gateway had refused, given back now.
    pub refunds_retried: u32,
    /// Refunds the gateway still refuses: an operator should look at them.
    pub refunds_failing: u32,
    /// The process was asked to stop: the run ended after a batch, and the
    /// next run takes up what is left.
    pub interrupted: bool,
}

impl RunReport {
    fn add(&mut self, o: &RunReport) {
        self.renewed += o.renewed;
        self.failed_payments += o.failed_payments;
        self.trials_ended += o.trials_ended;
        self.terms_ended += o.terms_ended;
        self.expired_after_retries += o.expired_after_retries;
        self.skipped_changed += o.skipped_changed;
        self.skipped_invalid.extend(o.skipped_invalid.clone());
        self.reminders_sent += o.reminders_sent;
        self.orders_abandoned += o.orders_abandoned;
        self.refunds_retried += o.refunds_retried;
        self.refunds_failing += o.refunds_failing;
    }
}

/// Where a run's time went: reading the due rows and what they need,
/// planning the steps (prices, invoices, emails, charges), writing them.
/// Printed by `bill` for operators; the benchmark compares the writing
/// alone with a bulk insert (what a run cannot go below).
#[derive(Clone, Copy, Debug, Default)]
pub struct RunTimes {
    pub reading: Duration,
    pub planning: Duration,
    pub writing: Duration,
}

/// Due subscriptions read, planned and written at once, one transaction per
/// page: one transaction per renewal would spend most of the run committing
/// (at 100 per transaction the commits were still a tenth of the run).
const PAGE: i64 = 500;

/// What the steps of one page need, read once for the page.
struct Page {
    accounts: HashMap<AccountId, AccountRecord>,
    contacts: HashMap<AccountId, UserRecord>,
    methods: HashMap<AccountId, PaymentMethodRecord>,
    /// Credit still available per account as the page's steps are planned:
    /// two renewals of one account in one page share its balance instead of
    /// each applying all of it.
    credit_left: HashMap<AccountId, i64>,
    /// Closed payment attempts per renewal purpose: the next one's number.
    closed_attempts: HashMap<String, i64>,
}

impl Page {
    async fn load(state: &AppState, due: &[SubscriptionRecord]) -> Result<Page, AppError> {
        let mut ids: Vec<AccountId> = due.iter().map(|r| r.account_id).collect();
        ids.sort_unstable();
        ids.dedup();
        let accounts = accounts::find_accounts(&state.db, &ids).await?;
        let credit_left = accounts
            .iter()
            .map(|(id, a)| (*id, a.credit_balance.to_minor()))
            .collect();
        let purposes: Vec<String> = due.iter().map(renewal_purpose).collect();
        Ok(Page {
            accounts,
            contacts: accounts::billing_contacts(&state.db, &ids).await?,
            methods: payment_methods::payment_methods(&state.db, &ids).await?,
            credit_left,
            closed_attempts: crate::db::payments::closed_attempts(&state.db, &purposes).await?,
        })
    }
}

/// What a renewal of `r` pays for: the term after the one ending on its
/// period end.
fn renewal_purpose(r: &SubscriptionRecord) -> String {
    Purpose::Renewal {
        subscription: r.id,
        term_end: r.period.map(|p| p.end),
    }
    .key()
}

/// Claims, plans, charges and writes the steps of `due`; `true` when
/// something was written. The claim and the write are short statements of
/// their own: nothing is held in the database while the renewals are
/// charged, `gateway_concurrency` at a time.
async fn run_batch(
    state: &AppState,
    page: &mut Page,
    due: &[SubscriptionRecord],
    as_of: AsOf,
    (report, times): (&mut RunReport, &mut RunTimes),
) -> Result<bool, AppError> {
    let t0 = Instant::now();
    let read: Vec<(SubscriptionId, i64)> = due.iter().map(|r| (r.id, r.version)).collect();
    let lease = state.run_lease_token();
    let runner = super::state::runner_id();
    let claimed =
        due::claim_for_run(&state.db, &read, (&lease, runner), &crate::db::now_text()).await?;
    times.reading += t0.elapsed();
    let written = charge_and_write(state, page, due, &claimed, as_of, (report, times)).await;
    // The steps that wrote nothing give their claims back at once (the
    // written ones cleared theirs); a failure here only leaves the lease
    // to run out.
    if let Err(e) = due::release_run_claims(&state.db, &lease).await {
        tracing::warn!(error = %e, "billing run: claims left to expire");
    }
    written
}

async fn charge_and_write(
    state: &AppState,
    page: &mut Page,
    due: &[SubscriptionRecord],
    claimed: &HashSet<SubscriptionId>,
    as_of: AsOf,
    (report, times): (&mut RunReport, &mut RunTimes),
) -> Result<bool, AppError> {
    let t1 = Instant::now();
    let mut prepared = Vec::new();
    for r in due {
        if !claimed.contains(&r.id) {
            report.skipped_changed += 1;
            continue;
        }
        match plan::plan(state, page, r, as_of) {
            Ok(Some(p)) => prepared.push(p),
            Ok(None) => {}
            Err(e) => {
                // One bad record must not stop the run nor undo the others'
                // renewals: it is skipped (and charged nothing) until fixed.
                tracing::error!(
                    subscription = %r.id,
                    account = %r.account_id,
                    reason = %e,
                    "billing run: subscription skipped"
                );
                report.skipped_invalid.insert(r.id, e.to_string());
            }
        }
    }
    let outcomes = charge_all(state, &prepared).await;
    let planned: Vec<Planned> = prepared
        .into_iter()
        .zip(outcomes)
        .filter_map(|(p, outcome)| p.finish(outcome))
        .collect();
    let t2 = Instant::now();
    times.planning += t2 - t1;
    if planned.is_empty() {
        return Ok(false);
    }
    let (writes, rest): (Vec<OrderWrite>, Vec<(Option<Charged>, RunReport)>) = planned
        .into_iter()
        .map(|p| (p.write, (p.charged, p.counts)))
        .unzip();
    let committed = commit::commit_batch(&state.db, writes).await;
    times.writing += t2.elapsed();
    match committed {
        Ok(results) => {
            let mut wrote = false;
            for (result, (charged, counts)) in results.into_iter().zip(rest) {
                match result {
                    Ok(_) => {
                        wrote = true;
                        report.add(&counts);
                    }
                    // (ClaimLost cannot happen: renewals claim no order.)
                    Err(CommitError::Stale | CommitError::Db(_) | CommitError::ClaimLost) => {
                        // A customer changed it meanwhile: theirs stands.
                        if let Some((attempt, charge)) = charged {
                            attempt.refund(state, &charge).await;
                        }
                        report.skipped_changed += 1;
                    }
                }
            }
            Ok(wrote)
        }
        Err(e) => {
            for (attempt, charge) in rest.into_iter().filter_map(|(charged, _)| charged) {
                attempt.refund(state, &charge).await;
            }
            Err(e.into())
        }
    }
}

/// Makes the charges the steps need, `gateway_concurrency` at a time (the
/// gateway paces them to the provider's rate limit); each outcome in the
/// order of `prepared`.
async fn charge_all(state: &AppState, prepared: &[Prepared]) -> Vec<Outcome> {
    use futures::StreamExt;
    // Owned inputs: a stream of futures borrowing `prepared` is not `Send`
    // for every lifetime, which the spawned run needs.
    let charges: Vec<_> = prepared
        .iter()
        .map(|p| charge_one(state.gateway.clone(), p.charge.clone()))
        .collect();
    futures::stream::iter(charges)
        .buffered(state.gateway_concurrency.max(1))
        .collect()
        .await
}

async fn charge_one(gateway: Arc<dyn PaymentGateway>, attempt: Option<Attempt>) -> Outcome {
    Some(attempt?.charge(&*gateway).await)
}

/// When the run is for.
#[derive(Clone, Copy, Debug)]
pub enum AsOf {
    /// This local date for every account (`bill --as-of`).
    Date(NaiveDate),
    /// Now, each account at its own local date.
    Now,
}

/// Runs everything due.
pub async fn run(state: &AppState, as_of: AsOf) -> Result<RunReport, AppError> {
    Ok(run_timed(state, as_of).await?.0)
}

/// [`run`], with where its time went.
pub async fn run_timed(state: &AppState, as_of: AsOf) -> Result<(RunReport, RunTimes), AppError> {
    let mut times = RunTimes::default();
    let (refunds_retried, refunds_failing) = super::charges::retry_refunds(state).await?;
    let mut report = RunReport {
        orders_abandoned: release_abandoned_orders(state).await?,
        refunds_retried,
        refunds_failing,
        ..RunReport::default()
    };
    // The widest local date anywhere (UTC+14) selects candidates; each
    // account's own local date decides.
    let horizon = match as_of {
        AsOf::Date(d) => d,
        AsOf::Now => (state.clock.now() + chrono::Duration::hours(14)).date_naive(),
    };
    // Sweeps in (due date, id) order, each page after the last (keyset: a
    // sweep reads each due row once, in pages of one index range). A renewal
    // moves the due date forward, so a subscription several periods behind
    // comes round again later in the same sweep. A step that writes nothing
    // (a payment timeout) is passed over; sweeping again while sweeps make
    // progress picks such rows up and terminates.
    let mut after = DueCursor::default();
    let mut swept_progress = false;
    let today = horizon.to_string();
    for _ in 0..100_000 {
        // Between batches: each batch is written whole, so stopping here
        // leaves nothing half done.
        if state.stopping.is_set() {
            report.interrupted = true;
            return Ok((report, times));
        }
        let t0 = Instant::now();
        let (due, next) = due::due_subscriptions(&state.db, &today, &after, PAGE).await?;
        times.reading += t0.elapsed();
        let Some(next) = next else {
            if !swept_progress {
                break;
            }
            (after, swept_progress) = (DueCursor::default(), false);
            continue;
        };
        after = next;
        let t1 = Instant::now();
        let mut page = Page::load(state, &due).await?;
        times.reading += t1.elapsed();
        swept_progress |=
            run_batch(state, &mut page, &due, as_of, (&mut report, &mut times)).await?;
    }
    remind(state, as_of, horizon, &mut report).await?;
    Ok((report, times))
}

/// Charges the account's past-due subscriptions now: a billing contact who
/// saves a new payment method expects the overdue renewal to be paid at
/// once, not days later at the next retry date.
pub async fn retry_past_due(
    state: &AppState,
    account_id: AccountId,
) -> Result<RunReport, AppError> {
    let Some(account) = accounts::find_account(&state.db, account_id).await? else {
        return Ok(RunReport::default());
    };
    let today = super::clock::local_date(state.clock.now(), &account.time_zone);
    let due: Vec<SubscriptionRecord> = subscriptions::subscriptions(&state.db, account_id)
        .await?
        .into_iter()
        .filter(|r| r.status == SubscriptionStatus::PastDue)
        .map(|mut r| {
            // Due today; a hard-declined one is charged as a last retry.
            r.next_retry_on = Some(today);
            if r.dunning_step >= AWAITING_NEW_METHOD {
                r.dunning_step = crate::billing::renewal::RETRY_DAYS.len() as u32;
            }
            r
        })
        .collect();
    let mut report = RunReport::default();
    if due.is_empty() {
        return Ok(report);
    }
    let mut page = Page::load(state, &due).await?;
    let mut times = RunTimes::default();
    run_batch(state, &mut page, &due, AsOf::Now, (&mut report, &mut times)).await?;
    Ok(report)
}

/// Orders whose claim outlived its lease: the process placing them died
/// (after the charge, maybe). Nobody saw a confirmation, so the charge is
/// refunded and the key released; the customer's cart is intact. Taking
/// the lease first keeps a concurrent retry of the same key out.
async fn release_abandoned_orders(state: &AppState) -> Result<u32, AppError> {
    let now = crate::db::now_text();
    let lease = state.order_lease_token();
    let mut released = 0;
    for (id, account, key) in orders::abandoned_orders(&state.db, &now).await? {
        if !orders::take_over_order(&state.db, id, &now, &lease).await? {
            continue;
        }
        // Refund first: if this process dies now, the next run finds the
        // order again (the refund is idempotent).
        let purpose = Purpose::Order { account, key: &key };
        match super::charges::refund_unrecorded(state, account, purpose).await {
            Ok(()) => {}
            // The provider did not answer: the order stays claimed until
            // the lease runs out, and a later run tries again; the others
            // go on.
            Err(AppError::Payment(e)) => {
                tracing::warn!(order = %id, error = %e, "abandoned order not released yet");
                continue;
            }
            Err(e) => return Err(e),
        }
        orders::release_order(&state.db, id, &lease).await?;
        tracing::warn!(order = %id, "abandoned order released");
        released += 1;
    }
    Ok(released)
}

/// Trial-ending and cancellation reminders, once per event.
async fn remind(
    state: &AppState,
    as_of: AsOf,
    horizon: NaiveDate,
    report: &mut RunReport,
) -> Result<(), AppError> {
    let window = chrono::Duration::days(TRIAL_REMINDER_DAYS.max(CANCELLATION_REMINDER_DAYS));
    let until = (horizon + window).to_string();
    let mut after = SubscriptionId::new(0);
    loop {
        let page = due::reminder_candidates(&state.db, &until, after, 500).await?;
        let Some(last) = page.last() else {
            return Ok(());
        };
        after = last.id;
        for r in &page {
            let Some(account) = accounts::find_account(&state.db, r.account_id).await? else {
                continue;
            };
            let today = match as_of {
                AsOf::Date(d) => d,
                AsOf::Now => super::clock::local_date(state.clock.now(), &account.time_zone),
            };
            let sub = snapshot(r);
            let Some(due) = reminder(&sub, today) else {
                continue;
            };
            // Without a billing contact no one is emailed, but the seller's
            // application still hears of the trial's end (`trial.will_end`).
            let contact = accounts::billing_contact(&state.db, account.id).await?;
            let lang = lang_of(&account);
            let t = lang.texts();
            let (subject, body) = match due.kind {
                ReminderKind::TrialEnding => (t.trial_reminder_subject, t.trial_reminder_body),
                ReminderKind::CancellationTakingEffect => (
                    t.cancellation_reminder_subject,
                    t.cancellation_reminder_body,
                ),
            };
            let product = state
                .catalog
                .product(&r.product)
                .map(|p| p.name.clone())
                .unwrap_or_else(|_| r.product.clone());
            let mail = contact.map(|c| {
                notice(
                    &state.identity,
                    lang,
                    c.email.as_str(),
                    subject,
                    body,
                    &[("product", &product), ("date", &lang.date(due.last_day))],
                )
            });
            if due::record_reminder(&state.db, r, &due.about.to_string(), mail.as_ref()).await? {
                report.reminders_sent += 1;
            }
        }
    }
}
