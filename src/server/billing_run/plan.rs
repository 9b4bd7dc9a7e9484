//! One subscription's next step, planned in two halves around its charge:
//! [`plan`] decides the step and the charge it needs (no gateway call, no
//! database), [`Prepared::finish`] turns the charge's outcome into the
//! write. Between the two the run charges many renewals at once, holding
//! nothing in the database.

use chrono::NaiveDate;

use super::{Page, RunReport, renewal_purpose};
use crate::billing::quote::{PaidTerm, totals};
use crate::billing::renewal::{
    AWAITING_NEW_METHOD, HARD_DECLINE_GRACE_DAYS, RunState, Step, after_failure, next_step,
};
use crate::billing::tax::tax_treatment;
use crate::billing::{AccountKind, InvoiceStatus, Money, SubscriptionStatus};
use crate::db::subscriptions::SubscriptionRecord;
use crate::db::writes::{
    EmailBuilder, EmailWrite, InvoiceLineWrite, InvoiceWrite, OrderWrite, SubscriptionWrite,
};
use crate::error::AppError;
use crate::i18n::{Lang, fill};
use crate::server::billing::{currency_of, lang_of, snapshot, terms};
use crate::server::charges::Attempt;
use crate::server::email::{self, notice};
use crate::server::payments::{Charge, PaymentError};
use crate::server::state::AppState;

/// A step ready to be written: the write, the charge to give back if it
/// cannot be recorded, and what it counts for in the report.
pub(super) struct Planned {
    pub write: OrderWrite,
    pub charged: Option<Charged>,
    pub counts: RunReport,
}

/// A charge made, with the attempt it was made under.
pub(super) type Charged = (Attempt, Charge);

/// What the charge of a step came to: `None` when it asked for none.
pub(super) type Outcome = Option<Result<Charge, PaymentError>>;

/// A step decided, waiting for its charge (if it needs one).
pub(super) struct Prepared {
    /// The charge to make before the step can be written.
    pub charge: Option<Attempt>,
    finish: Box<dyn FnOnce(Outcome) -> Option<Planned> + Send + Sync>,
}

impl Prepared {
    /// The write for the charge's outcome; `None` when nothing is to be
    /// written (a payment timeout: the next run retries the same reference).
    pub fn finish(self, outcome: Outcome) -> Option<Planned> {
        (self.finish)(outcome)
    }

    fn ready(write: OrderWrite, counts: RunReport) -> Prepared {
        Prepared {
            charge: None,
            finish: Box::new(move |_| {
                Some(Planned {
                    write,
                    charged: None,
                    counts,
                })
            }),
        }
    }
}

/// The next step of `r`; `None` when nothing is due. A renewal's credit is
/// taken from the page's balance here, as if its charge succeeds: a later
/// renewal of the same account in the page then applies what is left (a
/// failed charge keeps its credit on the account for the next run).
pub(super) fn plan(
    state: &AppState,
    page: &mut Page,
    r: &SubscriptionRecord,
    as_of: super::AsOf,
) -> Result<Option<Prepared>, AppError> {
    let mut counts = RunReport::default();
    let Some(account) = page.accounts.get(&r.account_id) else {
        return Ok(None);
    };
    let as_of = match as_of {
        super::AsOf::Date(d) => d,
        super::AsOf::Now => crate::server::clock::local_date(state.clock.now(), &account.time_zone),
    };
    let terms = terms(account, &state.identity.seller)?;
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
        email: boxed(EmailWrite::default()),
        audit: String::new(),
    };
    let notices = Notices {
        site: state.identity.clone(),
        lang,
        to: to.clone(),
        product: product_name.clone(),
    };
    match step {
        Step::ExpireUnpaid { on } => {
            let reason =
                crate::i18n::errors::sentence(lang, &PaymentError::HardDecline.to_string());
            let (ended, mail) = notices.expired(base, on, &reason);
            write.subscriptions.push(ended);
            write.email = boxed(mail);
            write.audit = format!("expired unpaid after a hard decline: subscription {}", r.id);
            counts.expired_after_retries += 1;
        }
        Step::EndTrial => {
            write.subscriptions.push(SubscriptionWrite {
                status: SubscriptionStatus::TrialExpired,
                ..base
            });
            write.email = boxed(notices.notice(
                t.trial_ended_subject,
                t.trial_ended_body,
                &[("product", &product_name)],
            ));
            write.audit = format!("trial ended: subscription {}", r.id);
            counts.trials_ended += 1;
        }
        Step::EndTerm { on } => {
            write.subscriptions.push(SubscriptionWrite {
                status: SubscriptionStatus::Expired,
                ended_on: Some(on),
                ..base
            });
            write.email = boxed(notices.notice(
                t.term_ended_subject,
                t.term_ended_body,
                &[("product", &product_name), ("date", &lang.date(on))],
            ));
            write.audit = format!("term ended: subscription {}", r.id);
            counts.terms_ended += 1;
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
            let tax = tax_treatment(&terms);
            let credit_left = page
                .credit_left
                .get(&account.id)
                .copied()
                .unwrap_or(account.credit_balance.to_minor());
            let credit = Money::from_minor(credit_left, currency);
            let sums = totals(currency, &[net], credit, tax.clone())?;
            let corporate = account.kind == AccountKind::Corporate;
            let due_date = r.period.map_or(as_of, |p| p.end);
            let method = page.methods.get(&account.id);
            let charge = match (corporate || sums.total_due.is_zero(), method) {
                (true, _) | (false, None) => None,
                (false, Some(pm)) => {
                    let purpose = renewal_purpose(r);
                    let closed = page.closed_attempts.get(&purpose).copied().unwrap_or(0);
                    Some(Attempt::numbered(
                        &state.installation,
                        account.id,
                        purpose,
                        closed,
                        &pm.token,
                        sums.total_due,
                    ))
                }
            };
            let no_method = !corporate && !sums.total_due.is_zero() && method.is_none();
            page.credit_left
                .insert(account.id, credit_left - sums.credit_applied.to_minor());
            let level_name = state
                .catalog
                .product(&r.product)
                .and_then(|p| p.level(&level))
                .map(|l| l.name.clone())
                .unwrap_or_else(|_| level.clone());
            let invoice = InvoiceWrite {
                seller: state.identity.seller.invoice_prefix.clone(),
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
                seller_details: state.identity.seller.details(),
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
            };
            let renewed = SubscriptionWrite {
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
                ..base.clone()
            };
            let range = fill(
                t.period_range,
                &[
                    ("start", &lang.date(period.start)),
                    ("end", &lang.date(period.last_day())),
                ],
            );
            let receipt = [
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
            let id = r.id;
            let attempt_made = charge.clone();
            let finish = move |outcome: Outcome| {
                let paid = match (attempt_made, outcome) {
                    (Some(a), Some(Ok(c))) => Ok(Some((a, c))),
                    (Some(a), Some(Err(e))) => {
                        write.attempt = a.failed(&e);
                        Err(e)
                    }
                    // Asked for a charge and got no answer: as a timeout.
                    (Some(_), None) => Err(PaymentError::Timeout),
                    (None, _) if no_method => Err(PaymentError::Declined),
                    (None, _) => Ok(None),
                };
                let mut charged = None;
                match paid {
                    Ok(paid) => {
                        write.payment_ref = paid.as_ref().map(|(_, c)| c.id.clone());
                        charged = paid;
                        write.credit_delta_minor = -sums.credit_applied.to_minor();
                        write.invoice = Some(invoice);
                        write.subscriptions.push(renewed);
                        let to = notices.to.clone();
                        let site = notices.site.clone();
                        write.email = Box::new(move |invoice| {
                            let number = invoice.map_or("-", |(_, n)| n);
                            let body: Vec<String> = receipt
                                .iter()
                                .map(|p| fill(p, &[("number", number)]))
                                .collect();
                            email::receipt(
                                &site,
                                (lang, &to),
                                fill(lang.texts().renewal_subject, &[("number", number)]),
                                body,
                                invoice.map(|(id, _)| id),
                            )
                        });
                        write.audit = format!("renewed: subscription {id} for {}", period.start);
                        counts.renewed += 1;
                    }
                    // The charge may have gone through: write nothing, and
                    // retry with the same reference (the gateway returns the
                    // first charge rather than charging again).
                    Err(PaymentError::Timeout) => return None,
                    Err(e) => {
                        let (next, mail) =
                            notices.dunning(base, &e, (as_of, due_date, attempt), &mut counts);
                        write.subscriptions.push(next);
                        write.email = boxed(mail);
                        let what = if e.is_hard() {
                            "hard-declined"
                        } else {
                            "failed"
                        };
                        write.audit =
                            format!("renewal payment {what}: subscription {id} attempt {attempt}");
                    }
                }
                Some(Planned {
                    write,
                    charged,
                    counts,
                })
            };
            return Ok(Some(Prepared {
                charge,
                finish: Box::new(finish),
            }));
        }
    }
    Ok(Some(Prepared::ready(write, counts)))
}

/// The emails of one subscription's steps.
struct Notices {
    site: std::sync::Arc<crate::server::identity::Identity>,
    lang: Lang,
    to: String,
    product: String,
}

impl Notices {
    fn notice(&self, subject: &str, body: &str, values: &[(&str, &str)]) -> EmailWrite {
        notice(&self.site, self.lang, &self.to, subject, body, values)
    }

    /// The subscription ended on `on` because its renewal could not be paid.
    fn expired(
        &self,
        base: SubscriptionWrite,
        on: NaiveDate,
        reason: &str,
    ) -> (SubscriptionWrite, EmailWrite) {
        let t = self.lang.texts();
        let ended = SubscriptionWrite {
            status: SubscriptionStatus::Expired,
            ended_on: Some(on),
            next_retry_on: None,
            ..base
        };
        let mail = self.notice(
            t.expired_subject,
            t.expired_body,
            &[("product", &self.product), ("reason", reason)],
        );
        (ended, mail)
    }

    /// After a failed renewal payment: keep the period; retry +1, +3, +7
    /// days after the attempts actually made, then expire. A hard decline
    /// waits for a new payment method (saving one charges at once), and
    /// expires a week after the due date.
    fn dunning(
        &self,
        base: SubscriptionWrite,
        e: &PaymentError,
        (as_of, due_date, attempt): (NaiveDate, NaiveDate, u32),
        counts: &mut RunReport,
    ) -> (SubscriptionWrite, EmailWrite) {
        let t = self.lang.texts();
        let hard = e.is_hard();
        match after_failure(as_of, attempt, hard) {
            _ if hard => {
                counts.failed_payments += 1;
                let awaiting = SubscriptionWrite {
                    status: SubscriptionStatus::PastDue,
                    dunning_step: AWAITING_NEW_METHOD,
                    next_retry_on: Some(
                        due_date.max(as_of) + chrono::Duration::days(HARD_DECLINE_GRACE_DAYS),
                    ),
                    ..base
                };
                let reason = crate::i18n::errors::sentence(self.lang, &e.to_string());
                let link = self.site.link("/billing/payment");
                let mail = self.notice(
                    t.payment_failed_subject,
                    t.payment_failed_hard_body,
                    &[
                        ("product", &self.product),
                        ("reason", &reason),
                        ("link", &link),
                    ],
                );
                (awaiting, mail)
            }
            Some(retry) => {
                counts.failed_payments += 1;
                let retrying = SubscriptionWrite {
                    status: SubscriptionStatus::PastDue,
                    dunning_step: attempt + 1,
                    next_retry_on: Some(retry),
                    ..base
                };
                // The bank wants the customer: a link to the page that asks.
                if let PaymentError::ActionRequired { intent, .. } = e {
                    let link = self.site.link(&format!("/billing/authenticate/{intent}"));
                    let mail = self.notice(
                        t.payment_action_subject,
                        t.payment_action_body,
                        &[
                            ("product", &self.product),
                            ("link", &link),
                            ("date", &self.lang.date(retry)),
                        ],
                    );
                    return (retrying, mail);
                }
                let link = self.site.link("/billing/payment");
                let mail = self.notice(
                    t.payment_failed_subject,
                    t.payment_failed_body,
                    &[
                        ("product", &self.product),
                        ("reason", &e.to_string()),
                        ("date", &self.lang.date(retry)),
                        ("link", &link),
                    ],
                );
                (retrying, mail)
            }
            None => {
                counts.expired_after_retries += 1;
                self.expired(base, due_date, &e.to_string())
            }
        }
    }
}

/// An email that does not depend on the invoice number.
fn boxed(mail: EmailWrite) -> EmailBuilder {
    Box::new(move |_| mail.clone())
}
