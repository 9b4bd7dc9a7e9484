//! The quote (order summary): what a cart costs today. The plan editor's live
//! preview in the browser and "Place order" on the server both call
//! [`quote`] with the same inputs and a frozen `today`, so what is shown is
//! what is charged.
//!
//! Order of computation (Lago `compute_amounts_from_fees`, Stripe): lines,
//! each rounded once half-up → account credit → VAT on the net sum, rounded
//! once → total. Every printed figure reconciles: net + VAT = total.

use std::collections::HashSet;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::catalog::{Catalog, ChangeKind, Product, Seats};
use super::error::BillingError;
use super::money::{Currency, Money};
use super::period::{BillingPeriod, Frequency};
use super::state::{AccountKind, Event, SubscriptionStatus, transition};
use super::tax::{Country, TaxTreatment, VatNumber, tax_treatment};
use crate::domain::SubscriptionId;

/// What the engine needs to know about the buying account.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AccountTerms {
    pub kind: AccountKind,
    pub country: Country,
    pub vat_number: Option<VatNumber>,
    pub currency: Currency,
    /// Credit carried from earlier negative totals, applied before VAT.
    pub credit_balance: Money,
    /// The seller's own country: VAT is reverse-charged to EU businesses
    /// of other countries.
    pub seller_country: Country,
}

/// What was actually invoiced for the current period: the basis of any
/// credit for unused time (never today's prices: Stripe "flexible" mode,
/// lago-api#218).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PaidTerm {
    /// Net price per seat for the whole period, as invoiced.
    pub unit_price: Money,
    pub seats: u32,
    /// Net amount paid for this period so far (first invoice plus upgrades).
    pub total_paid: Money,
    /// Credit already granted against this period by earlier changes.
    pub credited: Money,
}

/// A subscription as the engine sees it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SubscriptionSnapshot {
    pub id: SubscriptionId,
    pub product: String,
    pub level: String,
    pub seats: u32,
    pub frequency: Frequency,
    pub status: SubscriptionStatus,
    /// The current paid period, when there is one.
    pub period: Option<BillingPeriod>,
    pub paid: Option<PaidTerm>,
    pub trial_ends: Option<NaiveDate>,
    /// A change that waits for the end of the term (a downgrade).
    #[serde(default)]
    pub scheduled: Option<ScheduledChange>,
    pub version: i64,
}

/// The plan a subscription moves to at the end of its term.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ScheduledChange {
    pub level: String,
    pub seats: u32,
    pub frequency: Frequency,
}

impl SubscriptionSnapshot {
    /// The state at `today` from the stored facts alone: a pending
    /// cancellation whose term has ended is expired and a trial past its end
    /// is over, whether or not the billing run has written it yet (its
    /// timing must never decide what a customer may do).
    pub fn as_of(mut self, today: NaiveDate) -> Self {
        match self.status {
            SubscriptionStatus::PendingCancellation
                if self.period.is_some_and(|p| p.end <= today) =>
            {
                self.status = SubscriptionStatus::Expired;
                self.scheduled = None;
            }
            SubscriptionStatus::Trial if self.trial_ends.is_some_and(|end| end <= today) => {
                self.status = SubscriptionStatus::TrialExpired;
            }
            _ => {}
        }
        self
    }

    /// The plan of the next renewal: the scheduled change, else the current.
    pub fn next_plan(&self) -> (String, u32, Frequency) {
        match &self.scheduled {
            Some(c) => (c.level.clone(), c.seats, c.frequency),
            None => (self.level.clone(), self.seats, self.frequency),
        }
    }
}

/// Level, seats and frequency chosen in the plan editor. Seats are a plain
/// integer here because they come from a form; [`Seats::parse`] checks them.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PlanChoice {
    pub level: String,
    pub seats: i64,
    pub frequency: Frequency,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum CartItem {
    /// Subscribe from a trial (running or over), or to a product the account
    /// does not have yet (`subscription_id: None`).
    Subscribe {
        subscription_id: Option<SubscriptionId>,
        product: String,
        plan: PlanChoice,
    },
    Reactivate {
        subscription_id: SubscriptionId,
        plan: PlanChoice,
    },
    Change {
        subscription_id: SubscriptionId,
        plan: PlanChoice,
    },
    RemovePendingCancellation {
        subscription_id: SubscriptionId,
    },
    CancelAtPeriodEnd {
        subscription_id: SubscriptionId,
    },
}

impl CartItem {
    pub fn subscription_id(&self) -> Option<SubscriptionId> {
        match self {
            CartItem::Subscribe {
                subscription_id, ..
            } => *subscription_id,
            CartItem::Reactivate {
                subscription_id, ..
            }
            | CartItem::Change {
                subscription_id, ..
            }
            | CartItem::RemovePendingCancellation { subscription_id }
            | CartItem::CancelAtPeriodEnd { subscription_id } => Some(*subscription_id),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemKind {
    Subscribe,
    Reactivate,
    Upgrade,
    SwitchToAnnual,
    Downgrade,
    /// The current plan chosen again: a scheduled change is withdrawn.
    WithdrawScheduledChange,
    Unchanged,
    RemovePendingCancellation,
    CancelAtPeriodEnd,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "when", content = "date", rename_all = "snake_case")]
pub enum Effective {
    Now,
    /// Scheduled for the end of the current term.
    From(NaiveDate),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum LineKind {
    /// A whole new term.
    Term,
    /// The new plan for the rest of the current period.
    Prorated {
        remaining_days: i64,
        period_days: i64,
    },
    /// Credit for the unused part of what was paid.
    UnusedCredit {
        remaining_days: i64,
        period_days: i64,
    },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuoteLine {
    pub kind: LineKind,
    pub level_name: String,
    pub seats: u32,
    pub frequency: Frequency,
    pub unit_price: Money,
    pub period: BillingPeriod,
    /// Rounded once, half-up.
    pub amount: Money,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Renewal {
    pub date: NaiveDate,
    pub net: Money,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuoteItem {
    pub subscription_id: Option<SubscriptionId>,
    pub kind: ItemKind,
    pub product: String,
    pub product_name: String,
    pub level: String,
    pub level_name: String,
    pub seats: u32,
    pub frequency: Frequency,
    /// Per seat, for one period of `frequency`.
    pub unit_price: Money,
    pub effective: Effective,
    /// The period this item bills now; for a new term it starts today.
    pub period: Option<BillingPeriod>,
    pub lines: Vec<QuoteLine>,
    pub amount: Money,
    pub status_after: SubscriptionStatus,
    pub next_renewal: Option<Renewal>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totals {
    /// Σ of the rounded line amounts (may be negative).
    pub subtotal: Money,
    /// Account credit used against this order.
    pub credit_applied: Money,
    /// Taxable amount: subtotal − credit, never below zero.
    pub net: Money,
    pub tax: TaxTreatment,
    pub vat: Money,
    pub total_due: Money,
    /// A negative subtotal is never refunded: it becomes account credit.
    pub credit_created: Money,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Quote {
    pub currency: Currency,
    pub today: NaiveDate,
    pub items: Vec<QuoteItem>,
    pub totals: Totals,
}

impl Quote {
    /// The earliest next renewal among the items, with its amount including VAT.
    pub fn next_renewal(&self) -> Option<(NaiveDate, Money)> {
        let date = self
            .items
            .iter()
            .filter_map(|i| i.next_renewal.as_ref().map(|r| r.date))
            .min()?;
        let net = self
            .items
            .iter()
            .filter_map(|i| i.next_renewal.as_ref())
            .filter(|r| r.date == date)
            .try_fold(Money::zero(self.currency), |acc, r| acc.checked_add(r.net))
            .ok()?;
        let vat = Money::round(net.amount() * self.totals.tax.rate(), self.currency);
        net.checked_add(vat).ok().map(|gross| (date, gross))
    }
}

/// Quotes a cart. Pure: `today` is the account's local date, passed in.
pub fn quote(
    catalog: &Catalog,
    account: &AccountTerms,
    subscriptions: &[SubscriptionSnapshot],
    cart: &[CartItem],
    today: NaiveDate,
) -> Result<Quote, BillingError> {
    if account.kind == AccountKind::Corporate {
        return Err(BillingError::CorporateAccount);
    }
    if account.currency != catalog.currency {
        return Err(BillingError::CurrencyMismatch {
            expected: catalog.currency,
            found: account.currency,
        });
    }
    if cart.is_empty() {
        return Err(BillingError::EmptyCart);
    }
    let mut seen_products = HashSet::new();
    let mut items = Vec::with_capacity(cart.len());
    for item in cart {
        let quoted = quote_item(catalog, subscriptions, item, today)?;
        if !seen_products.insert(quoted.product.clone()) {
            return Err(BillingError::DuplicateCartItem {
                product: quoted.product_name,
            });
        }
        items.push(quoted);
    }
    let lines: Vec<Money> = items.iter().map(|i| i.amount).collect();
    let totals = totals(
        catalog.currency,
        &lines,
        account.credit_balance,
        tax_treatment(account),
    )?;
    Ok(Quote {
        currency: catalog.currency,
        today,
        items,
        totals,
    })
}

/// Rounded lines → credit → VAT on the net, rounded once → total.
pub fn totals(
    currency: Currency,
    line_amounts: &[Money],
    credit_balance: Money,
    tax: TaxTreatment,
) -> Result<Totals, BillingError> {
    let subtotal = line_amounts
        .iter()
        .try_fold(Money::zero(currency), |acc, m| acc.checked_add(*m))?;
    let zero = Money::zero(currency);
    let available_credit = credit_balance.max(zero);
    let (credit_applied, credit_created) = if subtotal.is_negative() {
        (zero, -subtotal)
    } else {
        (available_credit.min(subtotal), zero)
    };
    let net = subtotal.checked_sub(credit_applied)?.max(zero);
    let vat = Money::round(net.amount() * tax.rate(), currency);
    let total_due = net.checked_add(vat)?;
    Ok(Totals {
        subtotal,
        credit_applied,
        net,
        tax,
        vat,
        total_due,
        credit_created,
    })
}

fn quote_item(
    catalog: &Catalog,
    subscriptions: &[SubscriptionSnapshot],
    item: &CartItem,
    today: NaiveDate,
) -> Result<QuoteItem, BillingError> {
    let find = |id: SubscriptionId| {
        subscriptions
            .iter()
            .find(|s| s.id == id)
            .ok_or(BillingError::UnknownSubscription { id })
    };
    match item {
        CartItem::Subscribe {
            subscription_id,
            product,
            plan,
        } => {
            let product = catalog.product(product)?;
            match subscription_id {
                Some(id) => {
                    let sub = find(*id)?;
                    if sub.product != product.code {
                        return Err(BillingError::ChangeNotAllowed {
                            product: product.name.clone(),
                            change: "product".into(),
                        });
                    }
                    let status = transition(sub.status, Event::Subscribe)?;
                    new_term(product, plan, Some(*id), ItemKind::Subscribe, status, today)
                }
                None => {
                    if subscriptions.iter().any(|s| s.product == product.code) {
                        return Err(BillingError::AlreadySubscribed {
                            product: product.name.clone(),
                        });
                    }
                    let status = SubscriptionStatus::Active;
                    new_term(product, plan, None, ItemKind::Subscribe, status, today)
                }
            }
        }
        CartItem::Reactivate {
            subscription_id,
            plan,
        } => {
            let sub = find(*subscription_id)?;
            let product = catalog.product(&sub.product)?;
            let status = transition(sub.status, Event::Reactivate)?;
            new_term(
                product,
                plan,
                Some(sub.id),
                ItemKind::Reactivate,
                status,
                today,
            )
        }
        CartItem::Change {
            subscription_id,
            plan,
        } => {
            let sub = find(*subscription_id)?;
            let product = catalog.product(&sub.product)?;
            transition(sub.status, Event::Change)?;
            change(product, sub, plan, today)
        }
        CartItem::RemovePendingCancellation { subscription_id } => {
            let sub = find(*subscription_id)?;
            let product = catalog.product(&sub.product)?;
            if let (SubscriptionStatus::Expired, Some(p)) = (sub.status, sub.period) {
                return Err(BillingError::TermEnded { on: p.last_day() });
            }
            let status = transition(sub.status, Event::RemoveCancellation)?;
            let mut q = no_charge(product, sub, ItemKind::RemovePendingCancellation, status)?;
            // Renewal is restored at the plan it would have renewed at.
            q.next_renewal = next_renewal(product, sub)?;
            Ok(q)
        }
        CartItem::CancelAtPeriodEnd { subscription_id } => {
            let sub = find(*subscription_id)?;
            let product = catalog.product(&sub.product)?;
            let status = transition(sub.status, Event::CancelAtPeriodEnd)?;
            let mut q = no_charge(product, sub, ItemKind::CancelAtPeriodEnd, status)?;
            q.effective = Effective::From(sub.period.map(|p| p.end).unwrap_or(today));
            q.next_renewal = None;
            Ok(q)
        }
    }
}

/// A new paid term starting today, at the full price (trial days are never
/// credited; an expired term is not either).
fn new_term(
    product: &Product,
    plan: &PlanChoice,
    subscription_id: Option<SubscriptionId>,
    kind: ItemKind,
    status_after: SubscriptionStatus,
    today: NaiveDate,
) -> Result<QuoteItem, BillingError> {
    let seats = Seats::parse(product, plan.seats)?;
    let unit_price = product.online_price(&plan.level, plan.frequency)?;
    let level = product.level(&plan.level)?;
    let period = BillingPeriod::starting(today, plan.frequency)?;
    let amount = Money::round(
        unit_price.amount() * Decimal::from(seats.get()),
        unit_price.currency(),
    );
    Ok(QuoteItem {
        subscription_id,
        kind,
        product: product.code.clone(),
        product_name: product.name.clone(),
        level: level.code.clone(),
        level_name: level.name.clone(),
        seats: seats.get(),
        frequency: plan.frequency,
        unit_price,
        effective: Effective::Now,
        period: Some(period),
        lines: vec![QuoteLine {
            kind: LineKind::Term,
            level_name: level.name.clone(),
            seats: seats.get(),
            frequency: plan.frequency,
            unit_price,
            period,
            amount,
        }],
        amount,
        status_after,
        next_renewal: Some(Renewal {
            date: period.end,
            net: amount,
        }),
    })
}

/// Annualized value, including seats (Lago `Plan#yearly_amount_cents`).
fn annualized(unit_price: Money, seats: u32, frequency: Frequency) -> Decimal {
    let per_year = match frequency {
        Frequency::Monthly => unit_price.amount() * Decimal::from(12),
        Frequency::Annual => unit_price.amount(),
    };
    per_year * Decimal::from(seats)
}

fn change(
    product: &Product,
    sub: &SubscriptionSnapshot,
    plan: &PlanChoice,
    today: NaiveDate,
) -> Result<QuoteItem, BillingError> {
    let seats = Seats::parse(product, plan.seats)?;
    if plan.level != sub.level {
        product.allows(ChangeKind::Level)?;
    }
    if seats.get() != sub.seats {
        product.allows(ChangeKind::Seats)?;
    }
    if plan.frequency != sub.frequency {
        product.allows(ChangeKind::Frequency)?;
    }
    let new_unit = product.online_price(&plan.level, plan.frequency)?;
    let level = product.level(&plan.level)?;
    let old_unit = unit_price(product, sub, &sub.level, sub.frequency)?;
    let period = sub.period.ok_or(BillingError::InvalidTransition {
        status: sub.status,
        event: Event::Change,
    })?;
    let currency = new_unit.currency();
    let base = |kind,
                lines: Vec<QuoteLine>,
                effective,
                billed: Option<BillingPeriod>|
     -> Result<QuoteItem, BillingError> {
        let amount = lines
            .iter()
            .try_fold(Money::zero(currency), |acc, l| acc.checked_add(l.amount))?;
        Ok(QuoteItem {
            subscription_id: Some(sub.id),
            kind,
            product: product.code.clone(),
            product_name: product.name.clone(),
            level: level.code.clone(),
            level_name: level.name.clone(),
            seats: seats.get(),
            frequency: plan.frequency,
            unit_price: new_unit,
            effective,
            period: billed,
            lines,
            amount,
            status_after: SubscriptionStatus::Active,
            next_renewal: None,
        })
    };

    let unchanged =
        plan.level == sub.level && seats.get() == sub.seats && plan.frequency == sub.frequency;
    if unchanged {
        // Choosing the current plan again withdraws a scheduled change.
        let kind = match sub.scheduled {
            Some(_) => ItemKind::WithdrawScheduledChange,
            None => ItemKind::Unchanged,
        };
        let mut q = base(kind, vec![], Effective::Now, None)?;
        q.next_renewal = Some(Renewal {
            date: period.end,
            net: plan_net(product, sub, &sub.level, sub.seats, sub.frequency)?,
        });
        return Ok(q);
    }

    // A change that lowers anything (seats, level, frequency) waits for the
    // end of the term even when the yearly value rises (R6): the customer
    // keeps what was paid for until then.
    let fewer_seats = seats.get() < sub.seats;
    let lower_level = match (
        product.online_price(&plan.level, plan.frequency),
        product.online_price(&sub.level, plan.frequency),
    ) {
        (Ok(new), Ok(old)) => new.amount() < old.amount(),
        _ => false,
    };
    let lowers_something = fewer_seats || lower_level;

    let credit_line = |remaining: i64, days: i64| -> Option<QuoteLine> {
        let paid = sub.paid.as_ref()?;
        let raw = paid.unit_price.amount() * Decimal::from(paid.seats) * Decimal::from(remaining)
            / Decimal::from(days);
        // Never credit more than was paid for this period, less credit
        // already granted against it.
        let cap = paid
            .total_paid
            .checked_sub(paid.credited)
            .ok()?
            .amount()
            .max(Decimal::ZERO);
        let credit = Money::round(raw.min(cap), currency);
        Some(QuoteLine {
            kind: LineKind::UnusedCredit {
                remaining_days: remaining,
                period_days: days,
            },
            level_name: product
                .level(&sub.level)
                .map(|l| l.name.clone())
                .unwrap_or_default(),
            seats: paid.seats,
            frequency: sub.frequency,
            unit_price: paid.unit_price,
            period: BillingPeriod {
                start: today.max(period.start),
                end: period.end,
            },
            amount: -credit,
        })
    };

    // Monthly → annual: immediate, new anchor today, unused monthly time credited.
    if sub.frequency == Frequency::Monthly
        && plan.frequency == Frequency::Annual
        && !lowers_something
    {
        let new_period = BillingPeriod::starting(today, Frequency::Annual)?;
        let term = Money::round(new_unit.amount() * Decimal::from(seats.get()), currency);
        let mut lines = vec![QuoteLine {
            kind: LineKind::Term,
            level_name: level.name.clone(),
            seats: seats.get(),
            frequency: plan.frequency,
            unit_price: new_unit,
            period: new_period,
            amount: term,
        }];
        let remaining = period.remaining_days(today);
        if remaining > 0 {
            lines.extend(credit_line(remaining, period.days()));
        }
        let mut q = base(
            ItemKind::SwitchToAnnual,
            lines,
            Effective::Now,
            Some(new_period),
        )?;
        q.next_renewal = Some(Renewal {
            date: new_period.end,
            net: term,
        });
        return Ok(q);
    }

    let old_value = annualized(old_unit, sub.seats, sub.frequency);
    let new_value = annualized(new_unit, seats.get(), plan.frequency);
    let shorter_interval =
        sub.frequency == Frequency::Annual && plan.frequency == Frequency::Monthly;
    let renewal_net = Money::round(new_unit.amount() * Decimal::from(seats.get()), currency);

    if shorter_interval || lowers_something || new_value <= old_value {
        // Downgrades, seat decreases and shorter intervals wait for the end
        // of the term (Stripe portal, Kill Bill END_OF_TERM).
        let mut q = base(
            ItemKind::Downgrade,
            vec![],
            Effective::From(period.end),
            None,
        )?;
        q.next_renewal = Some(Renewal {
            date: period.end,
            net: renewal_net,
        });
        return Ok(q);
    }

    // Upgrade: new plan for the rest of the period minus credit for what was
    // paid for the unused part, counted in whole local days.
    let remaining = period.remaining_days(today);
    let days = period.days();
    let mut lines = Vec::new();
    if remaining > 0 {
        let raw = new_unit.amount() * Decimal::from(seats.get()) * Decimal::from(remaining)
            / Decimal::from(days);
        lines.push(QuoteLine {
            kind: LineKind::Prorated {
                remaining_days: remaining,
                period_days: days,
            },
            level_name: level.name.clone(),
            seats: seats.get(),
            frequency: plan.frequency,
            unit_price: new_unit,
            period: BillingPeriod {
                start: today.max(period.start),
                end: period.end,
            },
            amount: Money::round(raw, currency),
        });
        lines.extend(credit_line(remaining, days));
    }
    let mut q = base(
        ItemKind::Upgrade,
        lines,
        Effective::Now,
        Some(BillingPeriod {
            start: today.max(period.start),
            end: period.end,
        }),
    )?;
    q.next_renewal = Some(Renewal {
        date: period.end,
        net: renewal_net,
    });
    Ok(q)
}

fn no_charge(
    product: &Product,
    sub: &SubscriptionSnapshot,
    kind: ItemKind,
    status_after: SubscriptionStatus,
) -> Result<QuoteItem, BillingError> {
    let level = product.level(&sub.level)?;
    let unit_price = unit_price(product, sub, &sub.level, sub.frequency)?;
    Ok(QuoteItem {
        subscription_id: Some(sub.id),
        kind,
        product: product.code.clone(),
        product_name: product.name.clone(),
        level: level.code.clone(),
        level_name: level.name.clone(),
        seats: sub.seats,
        frequency: sub.frequency,
        unit_price,
        effective: Effective::Now,
        period: sub.period,
        lines: vec![],
        amount: Money::zero(unit_price.currency()),
        status_after,
        next_renewal: None,
    })
}

/// Net price of one term of `level` × `seats` at `frequency`: the catalog's
/// price, or what was paid when the level is no longer sold online.
pub fn plan_net(
    product: &Product,
    sub: &SubscriptionSnapshot,
    level: &str,
    seats: u32,
    frequency: Frequency,
) -> Result<Money, BillingError> {
    let unit = unit_price(product, sub, level, frequency)?;
    Ok(Money::round(
        unit.amount() * Decimal::from(seats),
        unit.currency(),
    ))
}

/// The catalog's price per seat, or the price paid for the current plan
/// when that level is no longer sold online.
pub fn unit_price(
    product: &Product,
    sub: &SubscriptionSnapshot,
    level: &str,
    frequency: Frequency,
) -> Result<Money, BillingError> {
    product.online_price(level, frequency).or_else(|e| {
        sub.paid
            .as_ref()
            .filter(|_| level == sub.level && frequency == sub.frequency)
            .map(|p| p.unit_price)
            .ok_or(e)
    })
}

/// The next renewal at the end of the current period, at the plan it will
/// renew at (the scheduled change when there is one): the figure the card
/// shows and the billing run charges.
pub fn next_renewal(
    product: &Product,
    sub: &SubscriptionSnapshot,
) -> Result<Option<Renewal>, BillingError> {
    let Some(period) = sub.period else {
        return Ok(None);
    };
    let (level, seats, frequency) = sub.next_plan();
    Ok(Some(Renewal {
        date: period.end,
        net: plan_net(product, sub, &level, seats, frequency)?,
    }))
}

/// The net amount of the next renewal of a subscription.
pub fn renewal_amount(
    catalog: &Catalog,
    sub: &SubscriptionSnapshot,
) -> Result<Money, BillingError> {
    let product = catalog.product(&sub.product)?;
    let (level, seats, frequency) = sub.next_plan();
    plan_net(product, sub, &level, seats, frequency)
}
