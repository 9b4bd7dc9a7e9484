//! Billing services: turn stored records into the engine's inputs, and
//! place orders (quote again, claim the idempotency key, charge, write
//! everything in one transaction).

use crate::domain::{InvoiceId, OrderId};
use chrono::NaiveDate;
use sha2::{Digest, Sha256};

use super::charges::{Attempt, Purpose};
use super::payments::PaymentError;

use super::auth::Caller;
use super::state::AppState;
use crate::billing::quote::{ItemKind, LineKind, PaidTerm, Quote, QuoteItem, ScheduledChange};
use crate::billing::tax::{Country, VatNumber};
use crate::billing::{
    AccountTerms, CartItem, Currency, InvoiceStatus, Money, SubscriptionSnapshot,
};
use crate::db::accounts::AccountRecord;
use crate::db::orders::OrderStatus;
use crate::db::subscriptions::SubscriptionRecord;
use crate::db::writes::CommitError;
use crate::db::writes::InvoiceLineWrite;
use crate::db::writes::InvoiceWrite;
use crate::db::writes::OrderWrite;
use crate::db::writes::SubscriptionWrite;
use crate::db::{commit, invoices, orders, payment_methods, sessions};
use crate::error::AppError;
use crate::i18n::{Lang, fill};

/// Everything the engine needs for one account, read once.
pub struct Context {
    pub terms: AccountTerms,
    pub records: Vec<SubscriptionRecord>,
    pub subscriptions: Vec<SubscriptionSnapshot>,
    pub cart: Vec<CartItem>,
    pub today: NaiveDate,
}

/// A placed order as its confirmation shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Placed {
    pub invoice_id: Option<InvoiceId>,
    pub invoice_number: Option<String>,
    pub total: String,
    pub email: String,
}

pub fn currency_of(account: &AccountRecord) -> Currency {
    account.currency
}

/// The account's language, for its emails and documents.
pub fn lang_of(account: &AccountRecord) -> Lang {
    account.language
}

/// The engine's view of the account, sold by `seller`.
pub fn terms(
    account: &AccountRecord,
    seller: &crate::server::identity::Seller,
) -> Result<AccountTerms, AppError> {
    let currency = currency_of(account);
    Ok(AccountTerms {
        kind: account.kind,
        country: Country::parse(&account.country)?,
        vat_number: account
            .vat_number
            .as_deref()
            .map(VatNumber::parse)
            .transpose()?,
        currency,
        credit_balance: account.credit_balance,
        seller_country: seller.country.clone(),
    })
}

/// The engine's view of a stored subscription.
pub fn snapshot(r: &SubscriptionRecord) -> SubscriptionSnapshot {
    SubscriptionSnapshot {
        id: r.id,
        product: r.product.clone(),
        level: r.level.clone(),
        seats: r.seats,
        frequency: r.frequency,
        status: r.status,
        period: r.period,
        paid: r.paid.clone(),
        trial_ends: r.trial_ends_on,
        scheduled: r.scheduled.clone(),
        version: r.version,
    }
}

pub fn today(state: &AppState, account: &AccountRecord) -> NaiveDate {
    super::clock::local_date(state.clock.now(), &account.time_zone)
}

/// The billing context from the rows a billing page read with its session
/// (see [`super::auth::billing_contact_with_page`]).
pub fn context_from(
    state: &AppState,
    caller: &Caller,
    (records, cart): sessions::PageRows,
) -> Result<Context, AppError> {
    let terms = terms(&caller.account, &state.identity.seller)?;
    let today = today(state, &caller.account);
    // What a customer may do follows from the clock and the stored facts,
    // never from whether the billing run has passed yet.
    let subscriptions = records.iter().map(|r| snapshot(r).as_of(today)).collect();
    let cart = cart
        .into_iter()
        .filter_map(|(_, json)| serde_json::from_str(&json).ok())
        .collect();
    Ok(Context {
        terms,
        records,
        subscriptions,
        cart,
        today,
    })
}

pub fn quote_cart(state: &AppState, ctx: &Context, cart: &[CartItem]) -> Result<Quote, AppError> {
    Ok(crate::billing::quote(
        &state.catalog,
        &ctx.terms,
        &ctx.subscriptions,
        cart,
        ctx.today,
    )?)
}

fn hash(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

pub fn line_description(lang: Lang, item: &QuoteItem, kind: &LineKind) -> String {
    let what = format!("{} {}", item.product_name, item.level_name);
    let t = lang.texts();
    match kind {
        LineKind::Term => format!("{what}, {}", super::email::frequency(lang, item.frequency)),
        LineKind::Prorated {
            remaining_days,
            period_days,
        } => fill(
            t.line_prorated,
            &[
                ("what", &what),
                ("remaining", &remaining_days.to_string()),
                ("days", &period_days.to_string()),
            ],
        ),
        LineKind::UnusedCredit {
            remaining_days,
            period_days,
        } => fill(
            t.line_credit,
            &[
                ("remaining", &remaining_days.to_string()),
                ("days", &period_days.to_string()),
            ],
        ),
    }
}

/// Places the account's cart. `key` was created when the order page was
/// rendered; `expected_total` is the total that page showed.
/// Digest of the cart as the order page saw it: part of what an idempotency
/// key is bound to.
pub fn cart_digest(cart: &[CartItem]) -> String {
    hash(&serde_json::to_string(cart).unwrap_or_default())
}

pub async fn place_order(
    state: &AppState,
    caller: &Caller,
    ctx: &Context,
    key: &str,
    expected_total: &str,
    page_cart_digest: &str,
) -> Result<Placed, AppError> {
    if key.len() < 16
        || key.len() > 64
        || !key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    {
        return Err(AppError::Invalid(
            "This order form is invalid: reload the page.".into(),
        ));
    }
    let account_id = caller.account.id;
    // The key is bound to what the page showed: its cart and its total.
    let request_hash = hash(&format!("{page_cart_digest}|{}", expected_total.trim()));
    // The cart changed in another window since the page was rendered, or
    // the total did: unless this is a repeat of a finished order (its cart
    // is empty by then), which returns its result; the same key with other
    // content is refused. (Looked up only here: a first placing goes
    // straight to the claim, which finds any repeat too.)
    let quote = match cart_digest(&ctx.cart) == page_cart_digest {
        true => Some(quote_cart(state, ctx, &ctx.cart)?),
        false => None,
    };
    let Some(quote) = quote.filter(|q| q.totals.total_due.plain() == expected_total.trim()) else {
        return match orders::find_order(&state.db, account_id, key).await? {
            Some(done) if done.request_hash != request_hash => Err(other_content()),
            Some(done) if done.status == OrderStatus::Done => {
                stored_result(state, caller, &done).await
            }
            _ => Err(AppError::QuoteChanged),
        };
    };
    let total_minor = quote.totals.total_due.to_minor();
    let currency = quote.currency.code();

    // Claim the key: exactly one request proceeds; the others wait for its
    // result (a double click, a second tab, a retry after a timeout). A
    // claim is a lease: when its process died before finishing, a retry
    // takes it over and charges under the same reference (the server's,
    // made from the key: `charges`), which the gateway deduplicates.
    let lease = state.order_lease_token();
    let order_id = loop {
        if let Some(id) = orders::claim_order(
            &state.db,
            account_id,
            key,
            &request_hash,
            total_minor,
            currency,
            &lease,
        )
        .await?
        {
            break id;
        }
        let mut waited = 0;
        let existing = loop {
            match orders::find_order(&state.db, account_id, key).await? {
                Some(o) if o.abandoned(&crate::db::now_text()) => break Some(o),
                Some(o) if o.status == OrderStatus::Pending && waited < 300 => {
                    waited += 1;
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                }
                other => break other,
            }
        };
        match existing {
            // The first attempt failed and released the key: try again.
            None => continue,
            Some(o) if o.request_hash != request_hash => return Err(other_content()),
            Some(o) if o.status == OrderStatus::Done => {
                return stored_result(state, caller, &o).await;
            }
            Some(o) if o.abandoned(&crate::db::now_text()) => {
                if orders::take_over_order(&state.db, o.id, &crate::db::now_text(), &lease).await? {
                    tracing::warn!(order = %o.id, "taking over an abandoned order claim");
                    break o.id;
                }
            }
            Some(_) => return Err(still_processing()),
        }
    };

    let result = charge_and_commit(state, caller, ctx, &quote, (order_id, &lease), key).await;
    if result.is_err() {
        orders::release_order(&state.db, order_id, &lease).await?;
    }
    result
}

fn still_processing() -> AppError {
    AppError::Invalid("Your order is still being processed. Reload the page in a moment.".into())
}

fn other_content() -> AppError {
    AppError::Invalid(
        "This order was already placed with different content. Reload the page.".into(),
    )
}

async fn charge_and_commit(
    state: &AppState,
    caller: &Caller,
    ctx: &Context,
    quote: &Quote,
    (order_id, lease): (OrderId, &str),
    key: &str,
) -> Result<Placed, AppError> {
    let account = &caller.account;
    let lang = lang_of(account);
    let total = quote.totals.total_due;
    let mut charged = None;
    if !total.is_zero() {
        let pm = payment_methods::payment_method(&state.db, account.id)
            .await?
            .ok_or_else(|| AppError::Invalid("Add a payment method to place this order.".into()))?;
        let purpose = Purpose::Order {
            account: account.id,
            key,
        };
        let attempt = Attempt::next(state, account.id, purpose, &pm.token, total).await?;
        match attempt.charge(&*state.gateway).await {
            Ok(charge) => charged = Some((attempt, charge)),
            // Not an outcome: the same key placed again, once the customer
            // authenticated, finds the payment made.
            Err(PaymentError::ActionRequired { client_secret, .. }) => {
                return Err(AppError::ActionRequired { client_secret });
            }
            Err(e) => {
                attempt.record_failure(state, &e).await?;
                return Err(AppError::Payment(e.to_string()));
            }
        }
    }

    let writes = subscription_writes(ctx, quote);
    let has_lines = quote.items.iter().any(|i| !i.lines.is_empty());
    let period = quote.items.iter().filter_map(|i| i.period).next();
    let invoice = has_lines.then(|| InvoiceWrite {
        seller: state.identity.seller.invoice_prefix.clone(),
        status: InvoiceStatus::Paid,
        renewal_key: None,
        issued_on: ctx.today,
        time_zone: account.time_zone.clone(),
        net: quote.totals.net,
        credit_applied: quote.totals.credit_applied,
        vat_rate: quote.totals.tax.rate(),
        vat: quote.totals.vat,
        total,
        tax_mention: quote.totals.tax.legal_mention().map(str::to_string),
        seller_details: state.identity.seller.details(),
        buyer_name: account.name.clone(),
        buyer_country: account.country.clone(),
        buyer_vat_number: account.vat_number.clone(),
        buyer_email: caller.user.email.to_string(),
        period_start: period.map(|p| p.start),
        period_end: period.map(|p| p.last_day()),
        lines: quote
            .items
            .iter()
            .flat_map(|item| {
                item.lines.iter().map(move |l| InvoiceLineWrite {
                    description: line_description(lang, item, &l.kind),
                    seats: i64::from(l.seats),
                    unit: l.unit_price,
                    amount: l.amount,
                    period_start: l.period.start,
                    period_end: l.period.last_day(),
                })
            })
            .collect(),
    });
    let email_to = caller.user.email.to_string();
    let site = state.identity.clone();
    let summary = super::email::order_summary(lang, quote);
    let write = OrderWrite {
        account_id: account.id,
        user_id: Some(caller.user.id),
        order: Some((order_id, lease.to_string())),
        subscriptions: writes,
        invoice,
        payment_ref: charged.as_ref().map(|(_, c)| c.id.clone()),
        attempt: None,
        credit_delta_minor: quote.totals.credit_created.to_minor()
            - quote.totals.credit_applied.to_minor(),
        email: Box::new(move |number| {
            super::email::order_confirmation(&site, lang, &email_to, number, &summary)
        }),
        audit: format!("order key={key} total={}", total.plain()),
    };
    match commit::commit_order(&state.db, write).await {
        Ok(invoice) => Ok(Placed {
            invoice_id: invoice.as_ref().map(|(id, _)| *id),
            invoice_number: invoice.map(|(_, n)| n),
            total: super::lang::current().money(total),
            email: caller.user.email.to_string(),
        }),
        // Our lease ran out and another request took the order over: it
        // owns the charge (same reference) and decides; nothing to give back.
        Err(CommitError::ClaimLost) => Err(still_processing()),
        Err(e) => {
            if let Some((attempt, charge)) = &charged {
                attempt.refund(state, charge).await;
            }
            Err(match e {
                CommitError::Stale => AppError::Stale,
                CommitError::ClaimLost => still_processing(),
                CommitError::Db(db) => db.into(),
            })
        }
    }
}

/// The result of this account's finished order `key` (its confirmation).
pub async fn order_result(
    state: &AppState,
    caller: &Caller,
    key: &str,
) -> Result<Placed, AppError> {
    match orders::find_order(&state.db, caller.account.id, key).await? {
        Some(o) if o.status == OrderStatus::Done => stored_result(state, caller, &o).await,
        _ => Err(AppError::NotFound),
    }
}

async fn stored_result(
    state: &AppState,
    caller: &Caller,
    order: &orders::OrderRecord,
) -> Result<Placed, AppError> {
    let number = match order.invoice_id {
        Some(id) => invoices::invoice_with_lines(&state.db, caller.account.id, id)
            .await?
            .map(|(i, _)| i.number),
        None => None,
    };
    Ok(Placed {
        invoice_id: order.invoice_id,
        invoice_number: number,
        total: super::lang::current().money(order.total),
        email: caller.user.email.to_string(),
    })
}

/// How each quoted item leaves its subscription.
fn subscription_writes(ctx: &Context, quote: &Quote) -> Vec<SubscriptionWrite> {
    quote
        .items
        .iter()
        .filter(|i| i.kind != ItemKind::Unchanged)
        .map(|item| {
            let record = item
                .subscription_id
                .and_then(|id| ctx.records.iter().find(|r| r.id == id));
            let base = match record {
                // The stored subscription as it is, with the new status; a
                // scheduled change stays until it is applied, replaced or
                // withdrawn (a later order, an upgrade of another product,
                // keeps it); an order ends any dunning.
                Some(r) => SubscriptionWrite {
                    product: item.product.clone(),
                    status: item.status_after,
                    dunning_step: 0,
                    next_retry_on: None,
                    ended_on: None,
                    ..SubscriptionWrite::keeping(r)
                },
                None => SubscriptionWrite {
                    existing: None,
                    product: item.product.clone(),
                    level: item.level.clone(),
                    seats: item.seats,
                    frequency: item.frequency,
                    status: item.status_after,
                    period: None,
                    paid: None,
                    scheduled: None,
                    anchor_on: None,
                    dunning_step: 0,
                    next_retry_on: None,
                    ended_on: None,
                },
            };
            let money = |minor: i64| Money::from_minor(minor, item.unit_price.currency());
            let line_sum = |pred: fn(&LineKind) -> bool| -> i64 {
                item.lines
                    .iter()
                    .filter(|l| pred(&l.kind))
                    .map(|l| l.amount.to_minor())
                    .sum()
            };
            match item.kind {
                ItemKind::Subscribe | ItemKind::Reactivate | ItemKind::SwitchToAnnual => {
                    SubscriptionWrite {
                        level: item.level.clone(),
                        seats: item.seats,
                        frequency: item.frequency,
                        period: item.period,
                        paid: Some(PaidTerm {
                            unit_price: item.unit_price,
                            seats: item.seats,
                            total_paid: money(line_sum(|k| matches!(k, LineKind::Term))),
                            credited: money(0),
                        }),
                        // A new term anchors its renewals on its first day.
                        anchor_on: item.period.map(|p| p.start),
                        scheduled: None,
                        ..base
                    }
                }
                ItemKind::Upgrade => {
                    let before = base.paid.as_ref();
                    let paid = before.map_or(0, |p| p.total_paid.to_minor())
                        + line_sum(|k| matches!(k, LineKind::Prorated { .. }));
                    let credited = before.map_or(0, |p| p.credited.to_minor())
                        - line_sum(|k| matches!(k, LineKind::UnusedCredit { .. }));
                    SubscriptionWrite {
                        level: item.level.clone(),
                        seats: item.seats,
                        paid: Some(PaidTerm {
                            unit_price: item.unit_price,
                            seats: item.seats,
                            total_paid: money(paid),
                            credited: money(credited),
                        }),
                        ..base
                    }
                }
                ItemKind::WithdrawScheduledChange => SubscriptionWrite {
                    scheduled: None,
                    ..base
                },
                ItemKind::Downgrade => SubscriptionWrite {
                    scheduled: Some(ScheduledChange {
                        level: item.level.clone(),
                        seats: item.seats,
                        frequency: item.frequency,
                    }),
                    ..base
                },
                _ => base,
            }
        })
        .collect()
}
