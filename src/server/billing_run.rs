//! The billing run: renewals, scheduled changes, ends of trials and terms,
//! dunning. `billing-center bill --as-of DATE` and a job inside `serve`.
//!
//! Each step is one transaction guarded by the subscription's version, so a
//! run killed at any point and run again bills nothing twice and skips
//! nothing; two runs at once (several servers on PostgreSQL) race on the
//! version and the loser skips. A renewal's charge reference is the
//! server's, made from the term it follows and its closed attempts
//! (`charges`): a run killed after a charge sends the same reference
//! again, and the gateway, which deduplicates on it (as real ones do with
//! idempotency keys), returns the first charge instead of charging twice.

use crate::billing::quote::PaidTerm;
use crate::billing::{AccountKind, InvoiceStatus, Money};
use crate::domain::{AccountId, SubscriptionId};
use chrono::NaiveDate;
use std::collections::HashMap;
use std::time::{Duration, Instant};

use super::billing::{SELLER, SELLER_DETAILS, currency_of, lang_of, snapshot, terms};
use super::charges::{Attempt, Purpose};
use super::email::{self, notice};
use super::payments::Charge;
use super::state::AppState;
use crate::billing::SubscriptionStatus;
use crate::billing::quote::totals;
use crate::billing::renewal::{
    AWAITING_NEW_METHOD, CANCELLATION_REMINDER_DAYS, HARD_DECLINE_GRACE_DAYS, ReminderKind,
    RunState, Step, TRIAL_REMINDER_DAYS, after_failure, next_step, reminder,
};
use crate::billing::tax::tax_treatment;
use crate::db::accounts::{self, AccountRecord, UserRecord};
use crate::db::due::{self, DueCursor};
use crate::db::payment_methods::PaymentMethodRecord;
use crate::db::subscriptions::SubscriptionRecord;
use crate::db::writes::CommitError;
use crate::db::writes::EmailWrite;
use crate::db::writes::InvoiceLineWrite;
use crate::db::writes::InvoiceWrite;
use crate::db::writes::OrderWrite;
use crate::db::writes::SubscriptionWrite;
use crate::db::{commit, orders, payment_methods, subscriptions};
use crate::error::AppError;
use crate::i18n::fill;

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

/// A step ready to be written: the write, the charge to give back if it
/// cannot be recorded, and what it counts for in the report.
struct Planned {
    write: OrderWrite,
    charged: Option<Charged>,
    counts: RunReport,
}

/// A charge made, with the attempt it was made under.
type Charged = (Attempt, Charge);

/// Plans and writes the steps of `due` in one transaction; `true` when
/// something was written.
async fn run_batch(
    state: &AppState,
    page: &mut Page,
    due: &[SubscriptionRecord],
    as_of: AsOf,
    (report, times): (&mut RunReport, &mut RunTimes),
) -> Result<bool, AppError> {
    // On PostgreSQL the rows are locked (SKIP LOCKED) before anything is
    // charged: a second runner skips them instead of charging them too.
    let t0 = Instant::now();
    let read: Vec<(SubscriptionId, i64)> = due.iter().map(|r| (r.id, r.version)).collect();
    let lock = commit::lock_for_run(&state.db, &read).await?;
    let t1 = Instant::now();
    times.reading += t1 - t0;
    let mut planned = Vec::new();
    for r in due {
        if !lock.holds(r.id) {
            report.skipped_changed += 1;
            continue;
        }
        match plan(state, page, r, as_of) {
            Ok(Some(p)) => planned.push(p),
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
    let t2 = Instant::now();
    times.planning += t2 - t1;
    if planned.is_empty() {
        return Ok(false);
    }
    let (writes, rest): (Vec<OrderWrite>, Vec<(Option<Charged>, RunReport)>) = planned
        .into_iter()
        .map(|p| (p.write, (p.charged, p.counts)))
        .unzip();
    let committed = commit::commit_batch(&state.db, lock, writes).await;
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
        super::charges::refund_unrecorded(state, account, purpose).await?;
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
            let Some(contact) = accounts::billing_contact(&state.db, account.id).await? else {
                continue;
            };
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
            let mail = notice(
                lang,
                contact.email.as_str(),
                subject,
                body,
                &[("product", &product), ("date", &lang.date(due.last_day))],
            );
            if due::record_reminder(&state.db, r, &due.about.to_string(), &mail).await? {
                report.reminders_sent += 1;
            }
        }
    }
}

/// The next step of one subscription, charged when it is a renewal; `None`
/// when nothing is due.
fn plan(
    state: &AppState,
    page: &mut Page,
    r: &SubscriptionRecord,
    as_of: AsOf,
) -> Result<Option<Planned>, AppError> {
    let mut counts = RunReport::default();
    let report = &mut counts;
    let Some(account) = page.accounts.get(&r.account_id) else {
        return Ok(None);
    };
    let as_of = match as_of {
        AsOf::Date(d) => d,
        AsOf::Now => super::clock::local_date(state.clock.now(), &account.time_zone),
    };
    let terms = terms(account)?;
    let lang = lang_of(account);
    let t = lang.texts();
    let currency = currency_of(account);
    let sub = snapshot(r);
    let run = RunState {
        anchor: r.anchor_on,
        dunning_step: r.dunning_step,
        next_retry: r.next_retry_on,
    };
    let Some(step) = next_step(&state.catalog, &sub, &run, as_of)? else {
        return Ok(None);
    };
    let to = page
        .contacts
        .get(&account.id)
        .map(|u| u.email.to_string())
        .unwrap_or_default();
    let base = SubscriptionWrite::keeping(r);
    let product_name = state
        .catalog
        .product(&r.product)
        .map(|p| p.name.clone())
        .unwrap_or_else(|_| r.product.clone());
    let mut write = OrderWrite {
        account_id: account.id,
        user_id: None,
        order: None,
        subscriptions: vec![],
        invoice: None,
        payment_ref: None,
        attempt: None,
        credit_delta_minor: 0,
        email: Box::new(|_| EmailWrite {
            to: String::new(),
            subject: String::new(),
            text: String::new(),
            html: String::new(),
        }),
        audit: String::new(),
    };
    let mut charged = None;
    // A subscription whose renewal could not be paid ends on `on`.
    let expire = |base: SubscriptionWrite, on: NaiveDate, reason: &str| {
        let ended = SubscriptionWrite {
            status: SubscriptionStatus::Expired,
            ended_on: Some(on),
            next_retry_on: None,
            ..base
        };
        let mail = notice(
            lang,
            &to,
            t.expired_subject,
            t.expired_body,
            &[("product", &product_name), ("reason", reason)],
        );
        (ended, mail)
    };
    match step {
        Step::ExpireUnpaid { on } => {
            let reason = crate::i18n::errors::sentence(
                lang,
                &super::payments::PaymentError::HardDecline.to_string(),
            );
            let (ended, mail) = expire(base, on, &reason);
            write.subscriptions.push(ended);
            write.email = boxed(mail);
            write.audit = format!("expired unpaid after a hard decline: subscription {}", r.id);
            report.expired_after_retries += 1;
        }
        Step::EndTrial => {
            write.subscriptions.push(SubscriptionWrite {
                status: SubscriptionStatus::TrialExpired,
                ..base
            });
            write.email = boxed(notice(
                lang,
                &to,
                t.trial_ended_subject,
                t.trial_ended_body,
                &[("product", &product_name)],
            ));
            write.audit = format!("trial ended: subscription {}", r.id);
            report.trials_ended += 1;
        }
        Step::EndTerm { on } => {
            write.subscriptions.push(SubscriptionWrite {
                status: SubscriptionStatus::Expired,
                ended_on: Some(on),
                ..base
            });
            write.email = boxed(notice(
                lang,
                &to,
                t.term_ended_subject,
                t.term_ended_body,
                &[("product", &product_name), ("date", &lang.date(on))],
            ));
            write.audit = format!("term ended: subscription {}", r.id);
            report.terms_ended += 1;
        }
        Step::Renew {
            period,
            anchor,
            level,
            seats,
            frequency,
            unit_price,
            net,
            attempt,
        } => {
            let tax = tax_treatment(&terms.country, terms.vat_number.as_ref());
            let credit_left = page
                .credit_left
                .get(&account.id)
                .copied()
                .unwrap_or(account.credit_balance.to_minor());
            let credit = crate::billing::Money::from_minor(credit_left, currency);
            let sums = totals(currency, &[net], credit, tax.clone())?;
            let corporate = account.kind == AccountKind::Corporate;
            let due_date = r.period.map_or(as_of, |p| p.end);
            let outcome = if corporate || sums.total_due.is_zero() {
                Ok(None)
            } else {
                match page.methods.get(&account.id) {
                    Some(pm) => {
                        let purpose = renewal_purpose(r);
                        let closed = page.closed_attempts.get(&purpose).copied().unwrap_or(0);
                        let a = Attempt::numbered(
                            account.id,
                            purpose,
                            closed,
                            &pm.token,
                            sums.total_due,
                        );
                        let result = a.charge(&*state.gateway);
                        write.attempt = result.as_ref().err().and_then(|e| a.failed(e));
                        result.map(|c| Some((a, c)))
                    }
                    None => Err(super::payments::PaymentError::Declined),
                }
            };
            match outcome {
                Ok(paid) => {
                    write.payment_ref = paid.as_ref().map(|(_, c)| c.id.clone());
                    charged = paid;
                    write.credit_delta_minor = -sums.credit_applied.to_minor();
                    page.credit_left
                        .insert(account.id, credit_left - sums.credit_applied.to_minor());
                    let level_name = state
                        .catalog
                        .product(&r.product)
                        .and_then(|p| p.level(&level))
                        .map(|l| l.name.clone())
                        .unwrap_or_else(|_| level.clone());
                    write.invoice = Some(InvoiceWrite {
                        seller: SELLER.into(),
                        status: if corporate {
                            InvoiceStatus::Open
                        } else {
                            InvoiceStatus::Paid
                        },
                        renewal_key: Some(format!("{}:{}", r.id, period.start)),
                        issued_on: as_of,
                        time_zone: account.time_zone.clone(),
                        net: sums.net,
                        credit_applied: sums.credit_applied,
                        vat_rate: tax.rate(),
                        vat: sums.vat,
                        total: sums.total_due,
                        tax_mention: tax.legal_mention().map(str::to_string),
                        seller_details: SELLER_DETAILS.into(),
                        buyer_name: account.name.clone(),
                        buyer_country: account.country.clone(),
                        buyer_vat_number: account.vat_number.clone(),
                        buyer_email: to.clone(),
                        period_start: Some(period.start),
                        period_end: Some(period.last_day()),
                        lines: vec![InvoiceLineWrite {
                            description: format!(
                                "{product_name} {level_name}, {} ({})",
                                email::frequency(lang, frequency),
                                t.renewal_line
                            ),
                            seats: i64::from(seats),
                            unit: unit_price,
                            amount: net,
                            period_start: period.start,
                            period_end: period.last_day(),
                        }],
                    });
                    write.subscriptions.push(SubscriptionWrite {
                        level,
                        seats,
                        frequency,
                        status: SubscriptionStatus::Active,
                        period: Some(period),
                        anchor_on: Some(anchor),
                        paid: Some(PaidTerm {
                            unit_price,
                            seats,
                            total_paid: net,
                            credited: Money::zero(currency),
                        }),
                        scheduled: None,
                        dunning_step: 0,
                        next_retry_on: None,
                        ..base
                    });
                    let to = to.clone();
                    let range = fill(
                        t.period_range,
                        &[
                            ("start", &lang.date(period.start)),
                            ("end", &lang.date(period.last_day())),
                        ],
                    );
                    let body = [
                        fill(
                            t.renewal_body,
                            &[("product", &product_name), ("period", &range)],
                        ),
                        format!(
                            "{}: {}\n{}: {}",
                            t.invoice_number,
                            "{number}",
                            t.total,
                            lang.money(sums.total_due)
                        ),
                    ];
                    write.email = Box::new(move |number| {
                        let number = number.unwrap_or("-");
                        let body: Vec<String> = body
                            .iter()
                            .map(|p| fill(p, &[("number", number)]))
                            .collect();
                        email::compose(
                            lang,
                            &to,
                            fill(lang.texts().renewal_subject, &[("number", number)]),
                            &body,
                        )
                    });
                    write.audit = format!("renewed: subscription {} for {}", r.id, period.start);
                    report.renewed += 1;
                }
                Err(super::payments::PaymentError::Timeout) => {
                    // The charge may have gone through: write nothing, and
                    // retry with the same reference (the gateway returns the
                    // first charge rather than charging again).
                    return Ok(None);
                }
                Err(e) => {
                    // Keep the period; retry +1, +3, +7 days after the
                    // attempts actually made, then expire. A hard decline
                    // waits for a new payment method (saving one charges at
                    // once), and expires a week after the due date.
                    let hard = e.is_hard();
                    let (next, mail) = match after_failure(as_of, attempt, hard) {
                        _ if hard => {
                            report.failed_payments += 1;
                            let awaiting = SubscriptionWrite {
                                status: SubscriptionStatus::PastDue,
                                dunning_step: AWAITING_NEW_METHOD,
                                next_retry_on: Some(
                                    due_date.max(as_of)
                                        + chrono::Duration::days(HARD_DECLINE_GRACE_DAYS),
                                ),
                                ..base
                            };
                            let reason = crate::i18n::errors::sentence(lang, &e.to_string());
                            let mail = notice(
                                lang,
                                &to,
                                t.payment_failed_subject,
                                t.payment_failed_hard_body,
                                &[("product", &product_name), ("reason", &reason)],
                            );
                            (awaiting, mail)
                        }
                        Some(retry) => {
                            report.failed_payments += 1;
                            let retrying = SubscriptionWrite {
                                status: SubscriptionStatus::PastDue,
                                dunning_step: attempt + 1,
                                next_retry_on: Some(retry),
                                ..base
                            };
                            let mail = notice(
                                lang,
                                &to,
                                t.payment_failed_subject,
                                t.payment_failed_body,
                                &[
                                    ("product", &product_name),
                                    ("reason", &e.to_string()),
                                    ("date", &lang.date(retry)),
                                ],
                            );
                            (retrying, mail)
                        }
                        None => {
                            report.expired_after_retries += 1;
                            expire(base, due_date, &e.to_string())
                        }
                    };
                    write.subscriptions.push(next);
                    write.email = boxed(mail);
                    let what = if hard { "hard-declined" } else { "failed" };
                    write.audit = format!(
                        "renewal payment {what}: subscription {} attempt {attempt}",
                        r.id
                    );
                }
            }
        }
    }
    Ok(Some(Planned {
        write,
        charged,
        counts,
    }))
}

/// An email that does not depend on the invoice number.
fn boxed(mail: EmailWrite) -> crate::db::writes::EmailBuilder {
    Box::new(move |_| mail.clone())
}
