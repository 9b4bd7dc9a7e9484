//! Table and property tests of the quote against the vectors in
//! `billing-rules.md` (Stripe's and Kill Bill's own cases).

use std::str::FromStr;

use chrono::NaiveDate;
use proptest::prelude::*;
use rust_decimal::Decimal;

use super::catalog::load::{demo, from_toml};
use super::quote::*;
use super::tax::{Country, TaxTreatment, VatNumber};
use super::*;

fn date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn eur(s: &str) -> Money {
    Money::parse(s, Currency::Eur).unwrap()
}

fn account(country: &str) -> AccountTerms {
    AccountTerms {
        kind: AccountKind::Online,
        country: Country::parse(country).unwrap(),
        vat_number: None,
        currency: Currency::Eur,
        credit_balance: eur("0"),
        seller_country: Country::parse("FR").unwrap(),
    }
}

fn plan(level: &str, seats: i64, frequency: Frequency) -> PlanChoice {
    PlanChoice {
        level: level.into(),
        seats,
        frequency,
    }
}

fn new_sub(product: &str, level: &str, seats: i64, frequency: Frequency) -> CartItem {
    CartItem::Subscribe {
        subscription_id: None,
        product: product.into(),
        plan: plan(level, seats, frequency),
    }
}

/// An active subscription paid in full for `period` at catalog price.
fn active(
    id: i64,
    product: &str,
    level: &str,
    seats: u32,
    frequency: Frequency,
    period: BillingPeriod,
) -> SubscriptionSnapshot {
    let catalog = demo();
    let unit = catalog
        .product(product)
        .unwrap()
        .online_price(level, frequency)
        .unwrap();
    let total = Money::round(unit.amount() * Decimal::from(seats), Currency::Eur);
    SubscriptionSnapshot {
        id: sid(id),
        product: product.into(),
        level: level.into(),
        seats,
        frequency,
        status: SubscriptionStatus::Active,
        period: Some(period),
        paid: Some(PaidTerm {
            unit_price: unit,
            seats,
            total_paid: total,
            credited: eur("0"),
        }),
        trial_ends: None,
        scheduled: None,
        version: 1,
    }
}

fn trial(id: i64, product: &str, level: &str, status: SubscriptionStatus) -> SubscriptionSnapshot {
    SubscriptionSnapshot {
        id: sid(id),
        product: product.into(),
        level: level.into(),
        seats: 1,
        frequency: Frequency::Monthly,
        status,
        period: None,
        paid: None,
        trial_ends: Some(date("2026-12-01")),
        scheduled: None,
        version: 1,
    }
}

const TODAY: &str = "2026-11-26";

#[test]
fn webinar_standard_one_seat_monthly_fr() {
    let q = quote(
        &demo(),
        &account("FR"),
        &[],
        &[new_sub("webinar", "standard", 1, Frequency::Monthly)],
        date(TODAY),
    )
    .unwrap();
    assert_eq!(q.totals.net, eur("129.00"));
    assert_eq!(q.totals.vat, eur("25.80"));
    assert_eq!(q.totals.total_due, eur("154.80"));
    let item = &q.items[0];
    assert_eq!(
        item.period.unwrap().start,
        date(TODAY),
        "a new paid term starts today"
    );
    assert_eq!(item.period.unwrap().end, date("2026-12-26"));
    assert_eq!(item.next_renewal.as_ref().unwrap().date, date("2026-12-26"));
    assert_eq!(
        q.next_renewal().unwrap(),
        (date("2026-12-26"), eur("154.80"))
    );
}

#[test]
fn webinar_pro_three_seats_annual_fr() {
    let q = quote(
        &demo(),
        &account("FR"),
        &[],
        &[new_sub("webinar", "pro", 3, Frequency::Annual)],
        date(TODAY),
    )
    .unwrap();
    assert_eq!(q.totals.net, eur("7164.00"));
    assert_eq!(q.totals.vat, eur("1432.80"));
    assert_eq!(q.totals.total_due, eur("8596.80"));
    assert_eq!(q.items[0].period.unwrap().end, date("2027-11-26"));
}

#[test]
fn ten_dollar_to_twenty_dollar_at_the_midpoint_is_five() {
    let text = "version = 1\ncurrency = \"USD\"\ntrial_days = 14\n[[products]]\ncode = \"p\"\nname = \"P\"\nmin_seats = 1\nmax_seats = 5\n\
        [[products.levels]]\ncode = \"a\"\nname = \"A\"\nmonthly = \"10.00\"\nannual = \"100.00\"\n\
        [[products.levels]]\ncode = \"b\"\nname = \"B\"\nmonthly = \"20.00\"\nannual = \"200.00\"\n";
    let catalog = from_toml(text, "usd.toml").unwrap();
    let usd = |s: &str| Money::parse(s, Currency::Usd).unwrap();
    let period = BillingPeriod {
        start: date("2026-11-01"),
        end: date("2026-12-01"),
    }; // 30 days
    let sub = SubscriptionSnapshot {
        id: sid(1),
        product: "p".into(),
        level: "a".into(),
        seats: 1,
        frequency: Frequency::Monthly,
        status: SubscriptionStatus::Active,
        period: Some(period),
        paid: Some(PaidTerm {
            unit_price: usd("10"),
            seats: 1,
            total_paid: usd("10"),
            credited: usd("0"),
        }),
        trial_ends: None,
        scheduled: None,
        version: 1,
    };
    let mut acct = account("US");
    acct.currency = Currency::Usd;
    acct.credit_balance = usd("0");
    let cart = [CartItem::Change {
        subscription_id: sid(1),
        plan: plan("b", 1, Frequency::Monthly),
    }];
    let q = quote(&catalog, &acct, &[sub], &cart, date("2026-11-16")).unwrap();
    let amounts: Vec<String> = q.items[0].lines.iter().map(|l| l.amount.plain()).collect();
    assert_eq!(amounts, ["10.00", "-5.00"]);
    assert_eq!(q.items[0].kind, ItemKind::Upgrade);
    assert_eq!(q.totals.total_due, usd("5.00"));
}

#[test]
fn day_fraction_proration_kill_bill_vectors() {
    // 2023-02-23 in 2023-02-15..03-15 = 20/28; 2024 = 21/29; 2023-05-23 in 05-15..06-15 = 23/31.
    for (start, end, today, remaining, days) in [
        ("2023-02-15", "2023-03-15", "2023-02-23", 20, 28),
        ("2024-02-15", "2024-03-15", "2024-02-23", 21, 29),
        ("2023-05-15", "2023-06-15", "2023-05-23", 23, 31),
    ] {
        let period = BillingPeriod {
            start: date(start),
            end: date(end),
        };
        let sub = active(1, "webinar", "lite", 1, Frequency::Monthly, period);
        let cart = [CartItem::Change {
            subscription_id: sid(1),
            plan: plan("pro", 1, Frequency::Monthly),
        }];
        let q = quote(&demo(), &account("FR"), &[sub], &cart, date(today)).unwrap();
        let l = &q.items[0].lines;
        assert_eq!(
            l[0].kind,
            LineKind::Prorated {
                remaining_days: remaining,
                period_days: days
            }
        );
        let expect_new = Money::round(
            Decimal::from(249 * remaining) / Decimal::from(days),
            Currency::Eur,
        );
        let expect_credit = Money::round(
            Decimal::from(59 * remaining) / Decimal::from(days),
            Currency::Eur,
        );
        assert_eq!(l[0].amount, expect_new);
        assert_eq!(l[1].amount, -expect_credit);
    }
}

#[test]
fn rounding_per_line_then_vat_once_reconciles() {
    // 200.00 over 30 days prorated 29/30 = 193.33 net; at 25 % VAT 48.33; total 241.66.
    let line = Money::round(
        Decimal::from(200) * Decimal::from(29) / Decimal::from(30),
        Currency::Eur,
    );
    assert_eq!(line, eur("193.33"));
    let t = totals(
        Currency::Eur,
        &[line],
        eur("0"),
        TaxTreatment::Standard {
            rate: Decimal::from_str("0.25").unwrap(),
        },
    )
    .unwrap();
    assert_eq!(t.vat, eur("48.33"));
    assert_eq!(t.total_due, eur("241.66"));
    assert_eq!(t.net.checked_add(t.vat).unwrap(), t.total_due);
}

#[test]
fn credit_is_what_was_paid_not_todays_price() {
    let period = BillingPeriod {
        start: date("2026-11-01"),
        end: date("2026-12-01"),
    };
    let mut sub = active(1, "webinar", "lite", 2, Frequency::Monthly, period);
    // Paid 40.00 per seat last month (an older, cheaper price).
    sub.paid = Some(PaidTerm {
        unit_price: eur("40.00"),
        seats: 2,
        total_paid: eur("80.00"),
        credited: eur("0"),
    });
    let cart = [CartItem::Change {
        subscription_id: sid(1),
        plan: plan("standard", 2, Frequency::Monthly),
    }];
    let q = quote(&demo(), &account("FR"), &[sub], &cart, date("2026-11-16")).unwrap();
    // 15/30 of 80.00 paid, not 15/30 of 2 × 59.00.
    assert_eq!(q.items[0].lines[1].amount, eur("-40.00"));
    assert_eq!(q.items[0].lines[0].amount, eur("129.00"));
}

#[test]
fn two_upgrades_in_one_period_never_credit_more_than_paid() {
    let period = BillingPeriod {
        start: date("2026-11-01"),
        end: date("2026-12-01"),
    };
    let catalog = demo();
    let sub = active(1, "webinar", "lite", 1, Frequency::Monthly, period);
    let first = quote(
        &catalog,
        &account("FR"),
        std::slice::from_ref(&sub),
        &[CartItem::Change {
            subscription_id: sid(1),
            plan: plan("standard", 1, Frequency::Monthly),
        }],
        date("2026-11-11"),
    )
    .unwrap();
    let item = &first.items[0];
    let paid_now = item.amount;
    let credited_now = -item.lines[1].amount;
    // The second upgrade starts from what the first invoice charged.
    let after = SubscriptionSnapshot {
        level: "standard".into(),
        paid: Some(PaidTerm {
            unit_price: eur("129.00"),
            seats: 1,
            total_paid: eur("59.00").checked_add(paid_now).unwrap(),
            credited: credited_now,
        }),
        ..sub
    };
    let second = quote(
        &catalog,
        &account("FR"),
        std::slice::from_ref(&after),
        &[CartItem::Change {
            subscription_id: sid(1),
            plan: plan("pro", 1, Frequency::Monthly),
        }],
        date("2026-11-21"),
    )
    .unwrap();
    let credit2 = -second.items[0].lines[1].amount;
    let paid = after.paid.unwrap();
    assert!(
        credit2.amount() + credited_now.amount() <= paid.total_paid.amount(),
        "credit never exceeds what was paid"
    );
    // 10/30 of 129.00 = 43.00
    assert_eq!(credit2, eur("43.00"));

    // The cap bites when little was paid for the period.
    let stingy = SubscriptionSnapshot {
        paid: Some(PaidTerm {
            unit_price: eur("129.00"),
            seats: 1,
            total_paid: eur("20.00"),
            credited: eur("5.00"),
        }),
        ..after
    };
    let q = quote(
        &catalog,
        &account("FR"),
        &[stingy],
        &[CartItem::Change {
            subscription_id: sid(1),
            plan: plan("pro", 1, Frequency::Monthly),
        }],
        date("2026-11-21"),
    )
    .unwrap();
    assert_eq!(q.items[0].lines[1].amount, eur("-15.00"));
}

#[test]
fn downgrades_and_shorter_intervals_wait_for_the_end_of_term() {
    let period = BillingPeriod {
        start: date("2026-11-01"),
        end: date("2026-12-01"),
    };
    let sub = active(1, "webinar", "pro", 3, Frequency::Monthly, period);
    for p in [
        plan("lite", 3, Frequency::Monthly),
        plan("pro", 2, Frequency::Monthly),
    ] {
        let q = quote(
            &demo(),
            &account("FR"),
            std::slice::from_ref(&sub),
            &[CartItem::Change {
                subscription_id: sid(1),
                plan: p,
            }],
            date("2026-11-10"),
        )
        .unwrap();
        assert_eq!(q.items[0].kind, ItemKind::Downgrade);
        assert_eq!(q.items[0].effective, Effective::From(date("2026-12-01")));
        assert!(q.totals.total_due.is_zero());
    }
    let annual = active(
        2,
        "training",
        "pro",
        1,
        Frequency::Annual,
        BillingPeriod {
            start: date("2026-06-01"),
            end: date("2027-06-01"),
        },
    );
    let q = quote(
        &demo(),
        &account("FR"),
        &[annual],
        &[CartItem::Change {
            subscription_id: sid(2),
            plan: plan("enterprise", 1, Frequency::Monthly),
        }],
        date("2026-11-10"),
    )
    .unwrap();
    assert_eq!(
        q.items[0].kind,
        ItemKind::Downgrade,
        "annual → monthly is end of term even at a higher level"
    );
    assert_eq!(q.items[0].next_renewal.as_ref().unwrap().net, eur("399.00"));
}

#[test]
fn monthly_to_annual_is_immediate_with_a_new_anchor_and_credit() {
    let period = BillingPeriod {
        start: date("2026-11-11"),
        end: date("2026-12-11"),
    }; // 30 days
    let sub = active(1, "webinar", "standard", 1, Frequency::Monthly, period);
    let cart = [CartItem::Change {
        subscription_id: sid(1),
        plan: plan("standard", 1, Frequency::Annual),
    }];
    let q = quote(&demo(), &account("FR"), &[sub], &cart, date(TODAY)).unwrap();
    let item = &q.items[0];
    assert_eq!(item.kind, ItemKind::SwitchToAnnual);
    assert_eq!(
        item.period.unwrap(),
        BillingPeriod {
            start: date(TODAY),
            end: date("2027-11-26")
        }
    );
    // 15 of 30 days unused of 129.00 = 64.50 credit.
    assert_eq!(item.lines[1].amount, eur("-64.50"));
    assert_eq!(q.totals.net, eur("1123.50"));
}

#[test]
fn subscribing_from_a_trial_starts_today_without_trial_credit() {
    let subs = [trial(7, "webinar", "standard", SubscriptionStatus::Trial)];
    let cart = [CartItem::Subscribe {
        subscription_id: Some(sid(7)),
        product: "webinar".into(),
        plan: plan("standard", 1, Frequency::Monthly),
    }];
    let q = quote(&demo(), &account("FR"), &subs, &cart, date(TODAY)).unwrap();
    assert_eq!(q.items[0].lines.len(), 1);
    assert_eq!(q.items[0].period.unwrap().start, date(TODAY));
    assert_eq!(q.totals.total_due, eur("154.80"));
    assert_eq!(q.items[0].status_after, SubscriptionStatus::Active);
    // Also after the trial ended.
    let subs = [trial(
        7,
        "webinar",
        "standard",
        SubscriptionStatus::TrialExpired,
    )];
    assert!(quote(&demo(), &account("FR"), &subs, &cart, date(TODAY)).is_ok());
}

#[test]
fn reactivation_starts_a_new_term_today() {
    let mut sub = active(
        3,
        "webinar",
        "lite",
        1,
        Frequency::Monthly,
        BillingPeriod {
            start: date("2026-10-16"),
            end: date("2026-11-16"),
        },
    );
    sub.status = SubscriptionStatus::Expired;
    let cart = [CartItem::Reactivate {
        subscription_id: sid(3),
        plan: plan("lite", 1, Frequency::Monthly),
    }];
    let q = quote(&demo(), &account("FR"), &[sub], &cart, date(TODAY)).unwrap();
    assert_eq!(q.items[0].period.unwrap().start, date(TODAY));
    assert_eq!(q.totals.net, eur("59.00"));
    assert_eq!(q.totals.total_due, eur("70.80"));
}

#[test]
fn removing_a_pending_cancellation_costs_nothing_and_restores_renewal() {
    let mut sub = active(
        4,
        "webinar",
        "pro",
        2,
        Frequency::Annual,
        BillingPeriod {
            start: date("2026-08-18"),
            end: date("2027-08-18"),
        },
    );
    sub.status = SubscriptionStatus::PendingCancellation;
    let q = quote(
        &demo(),
        &account("FR"),
        &[sub],
        &[CartItem::RemovePendingCancellation {
            subscription_id: sid(4),
        }],
        date(TODAY),
    )
    .unwrap();
    assert!(q.totals.total_due.is_zero());
    assert_eq!(q.items[0].status_after, SubscriptionStatus::Active);
    assert_eq!(
        q.items[0].next_renewal.as_ref().unwrap(),
        &Renewal {
            date: date("2027-08-18"),
            net: eur("4776.00")
        }
    );
}

#[test]
fn reverse_charge_for_a_german_business() {
    let mut acct = account("DE");
    acct.vat_number = Some(VatNumber::parse("DE123456789").unwrap());
    let q = quote(
        &demo(),
        &acct,
        &[],
        &[new_sub("meeting", "business", 5, Frequency::Monthly)],
        date(TODAY),
    )
    .unwrap();
    assert_eq!(q.totals.tax, TaxTreatment::ReverseCharge);
    assert!(q.totals.vat.is_zero());
    assert_eq!(q.totals.total_due, eur("95.00"));
    let q = quote(
        &demo(),
        &account("DE"),
        &[],
        &[new_sub("meeting", "business", 5, Frequency::Monthly)],
        date(TODAY),
    )
    .unwrap();
    assert_eq!(q.totals.vat, eur("18.05"));
}

#[test]
fn account_credit_is_applied_before_vat_and_negatives_become_credit() {
    let mut acct = account("FR");
    acct.credit_balance = eur("29.00");
    let q = quote(
        &demo(),
        &acct,
        &[],
        &[new_sub("webinar", "standard", 1, Frequency::Monthly)],
        date(TODAY),
    )
    .unwrap();
    assert_eq!(q.totals.credit_applied, eur("29.00"));
    assert_eq!(q.totals.net, eur("100.00"));
    assert_eq!(q.totals.vat, eur("20.00"));
    assert_eq!(q.totals.total_due, eur("120.00"));
    let t = totals(
        Currency::Eur,
        &[eur("-12.34")],
        eur("0"),
        TaxTreatment::Standard {
            rate: Decimal::from_str("0.2").unwrap(),
        },
    )
    .unwrap();
    assert!(t.total_due.is_zero());
    assert_eq!(t.credit_created, eur("12.34"));
}

#[test]
fn bad_input_is_a_typed_error() {
    let c = demo();
    let a = account("FR");
    let t = date(TODAY);
    let err = |cart: &[CartItem], subs: &[SubscriptionSnapshot]| {
        quote(&c, &a, subs, cart, t).unwrap_err()
    };
    assert!(matches!(
        err(&[new_sub("zoom", "pro", 1, Frequency::Monthly)], &[]),
        BillingError::UnknownProduct { .. }
    ));
    assert!(matches!(
        err(
            &[new_sub("webinar", "business", 1, Frequency::Monthly)],
            &[]
        ),
        BillingError::UnknownLevel { .. }
    ));
    assert!(matches!(
        err(
            &[new_sub("meeting", "enterprise", 1, Frequency::Monthly)],
            &[]
        ),
        BillingError::NotSoldOnline { .. }
    ));
    assert!(matches!(
        err(&[new_sub("webinar", "pro", 51, Frequency::Monthly)], &[]),
        BillingError::SeatsOutOfRange { got: 51, .. }
    ));
    assert!(matches!(
        err(&[new_sub("webinar", "pro", 0, Frequency::Monthly)], &[]),
        BillingError::SeatsOutOfRange { .. }
    ));
    assert!(matches!(err(&[], &[]), BillingError::EmptyCart));
    assert!(matches!(
        err(
            &[
                new_sub("webinar", "pro", 1, Frequency::Monthly),
                new_sub("webinar", "lite", 1, Frequency::Monthly)
            ],
            &[]
        ),
        BillingError::DuplicateCartItem { .. }
    ));
    let subs = [trial(1, "webinar", "standard", SubscriptionStatus::Trial)];
    assert!(matches!(
        err(&[new_sub("webinar", "pro", 1, Frequency::Monthly)], &subs),
        BillingError::AlreadySubscribed { .. }
    ));
    assert!(matches!(
        err(
            &[CartItem::Reactivate {
                subscription_id: sid(1),
                plan: plan("pro", 1, Frequency::Monthly)
            }],
            &subs
        ),
        BillingError::InvalidTransition { .. }
    ));
    assert!(matches!(
        err(
            &[CartItem::RemovePendingCancellation {
                subscription_id: sid(99)
            }],
            &subs
        ),
        BillingError::UnknownSubscription { id } if id == sid(99)
    ));
    // A webinar subscription never takes a meeting level.
    let period = BillingPeriod {
        start: date("2026-11-01"),
        end: date("2026-12-01"),
    };
    let w = [active(2, "webinar", "lite", 1, Frequency::Monthly, period)];
    assert!(matches!(
        err(
            &[CartItem::Change {
                subscription_id: sid(2),
                plan: plan("business", 1, Frequency::Monthly)
            }],
            &w
        ),
        BillingError::UnknownLevel { .. }
    ));
    // Currency mismatch.
    let mut usd = account("US");
    usd.currency = Currency::Usd;
    assert!(matches!(
        quote(
            &c,
            &usd,
            &[],
            &[new_sub("webinar", "pro", 1, Frequency::Monthly)],
            t
        ),
        Err(BillingError::CurrencyMismatch { .. })
    ));
    // Corporate accounts change nothing online.
    let mut corp = account("FR");
    corp.kind = AccountKind::Corporate;
    assert_eq!(
        quote(
            &c,
            &corp,
            &[],
            &[new_sub("webinar", "pro", 1, Frequency::Monthly)],
            t
        ),
        Err(BillingError::CorporateAccount)
    );
}

#[test]
fn a_change_not_allowed_by_the_catalog_is_refused() {
    let text = demo_toml_with("webinar", "allowed_changes = [\"seats\"]");
    let c = from_toml(&text, "c.toml").unwrap();
    let period = BillingPeriod {
        start: date("2026-11-01"),
        end: date("2026-12-01"),
    };
    let w = [active(2, "webinar", "lite", 1, Frequency::Monthly, period)];
    let e = quote(
        &c,
        &account("FR"),
        &w,
        &[CartItem::Change {
            subscription_id: sid(2),
            plan: plan("pro", 1, Frequency::Monthly),
        }],
        date(TODAY),
    )
    .unwrap_err();
    assert!(matches!(e, BillingError::ChangeNotAllowed { .. }), "{e:?}");
    assert!(
        quote(
            &c,
            &account("FR"),
            &w,
            &[CartItem::Change {
                subscription_id: sid(2),
                plan: plan("lite", 4, Frequency::Monthly)
            }],
            date(TODAY)
        )
        .is_ok()
    );
}

fn demo_toml_with(product: &str, line: &str) -> String {
    catalog::DEMO_CATALOG_TOML.replacen(
        &format!("code = \"{product}\"\n"),
        &format!("code = \"{product}\"\n{line}\n"),
        1,
    )
}

// ---- properties ----

fn arb_level() -> impl Strategy<Value = (&'static str, &'static str)> {
    prop::sample::select(vec![
        ("webinar", "lite"),
        ("webinar", "standard"),
        ("webinar", "pro"),
        ("webinar", "enterprise"),
        ("meeting", "professional"),
        ("meeting", "business"),
        ("training", "starter"),
        ("training", "pro"),
        ("training", "enterprise"),
    ])
}

fn arb_frequency() -> impl Strategy<Value = Frequency> {
    prop_oneof![Just(Frequency::Monthly), Just(Frequency::Annual)]
}

proptest! {
    #[test]
    fn totals_reconcile_and_every_line_is_rounded(
        (product, level) in arb_level(),
        seats in 1i64..=50,
        freq in arb_frequency(),
        (_, new_level) in arb_level(),
        new_seats in 1i64..=50,
        new_freq in arb_frequency(),
        start_offset in 0i64..3000,
        day_offset in 0i64..366,
        credit_cents in 0i64..50_000,
        country in prop::sample::select(vec!["FR", "DE", "BE", "ES", "IT", "NL", "GB", "US"]),
    ) {
        let catalog = demo();
        let start = date("2018-01-01") + chrono::Duration::days(start_offset);
        let period = BillingPeriod::starting(start, freq).unwrap();
        let today = period.start + chrono::Duration::days(day_offset % period.days());
        let sub = active(1, product, level, seats as u32, freq, period);
        let new_level = if catalog.product(product).unwrap().level(new_level).is_ok() { new_level } else { level };
        let mut acct = account(country);
        acct.credit_balance = Money::from_minor(credit_cents, Currency::Eur);
        let cart = [CartItem::Change { subscription_id: sid(1), plan: plan(new_level, new_seats, new_freq) }];
        let q = quote(&catalog, &acct, std::slice::from_ref(&sub), &cart, today);
        let q = match q { Ok(q) => q, Err(e) => { prop_assert!(matches!(e, BillingError::NotSoldOnline { .. }), "{e:?}"); return Ok(()); } };
        let t = &q.totals;
        // total = Σ lines − credit + VAT, and net + VAT = total.
        let lines: Decimal = q.items.iter().flat_map(|i| &i.lines).map(|l| l.amount.amount()).sum();
        prop_assert_eq!(t.subtotal.amount(), lines);
        prop_assert_eq!(t.net.checked_add(t.vat).unwrap(), t.total_due);
        if lines >= Decimal::ZERO {
            prop_assert_eq!(t.net.amount(), lines - t.credit_applied.amount());
        } else {
            prop_assert_eq!(t.credit_created.amount(), -lines);
        }
        prop_assert!(t.credit_applied.amount() <= acct.credit_balance.amount());
        // Every line rounded to the currency's exponent.
        for l in q.items.iter().flat_map(|i| &i.lines) {
            prop_assert!(l.amount.amount().scale() <= Currency::Eur.exponent());
            prop_assert_eq!(l.amount.amount(), l.amount.amount().round_dp(2));
            // Credit for unused time never exceeds what was paid.
            if let LineKind::UnusedCredit { .. } = l.kind {
                prop_assert!(-l.amount.amount() <= sub.paid.as_ref().unwrap().total_paid.amount());
                prop_assert!(l.amount.amount() <= Decimal::ZERO);
            }
        }
        prop_assert!(!t.total_due.is_negative());
    }

    #[test]
    fn an_unchanged_cart_quotes_zero(
        (product, level) in arb_level(),
        seats in 1i64..=50,
        freq in arb_frequency(),
        start_offset in 0i64..3000,
        day_offset in 0i64..366,
    ) {
        let start = date("2018-01-01") + chrono::Duration::days(start_offset);
        let period = BillingPeriod::starting(start, freq).unwrap();
        let today = period.start + chrono::Duration::days(day_offset % period.days());
        let sub = active(1, product, level, seats as u32, freq, period);
        let cart = [CartItem::Change { subscription_id: sid(1), plan: plan(level, seats, freq) }];
        let q = quote(&demo(), &account("FR"), &[sub], &cart, today).unwrap();
        prop_assert!(q.totals.total_due.is_zero());
        prop_assert_eq!(q.items[0].kind, ItemKind::Unchanged);
    }
}

/// The newtypes come out of JSON only through their `parse`: what `parse`
/// refuses, deserializing refuses; what it accepts comes back equal.
#[test]
fn newtypes_deserialize_only_through_parse() {
    use crate::domain::{CardNumber, Email, Iban};
    let eur = Money::parse("12.30", Currency::Eur).unwrap();
    let json = serde_json::to_string(&eur).unwrap();
    assert_eq!(serde_json::from_str::<Money>(&json).unwrap(), eur);
    assert!(serde_json::from_str::<Money>(r#"{"amount":"12.345","currency":"EUR"}"#).is_err());
    assert!(serde_json::from_str::<Money>(r#"{"amount":"12.5","currency":"JPY"}"#).is_err());
    assert_eq!(
        serde_json::from_str::<Email>(r#"" Ada@Example.COM ""#).unwrap(),
        Email::parse("ada@example.com").unwrap()
    );
    assert!(serde_json::from_str::<Email>(r#""not an email""#).is_err());
    assert!(serde_json::from_str::<CardNumber>(r#""4242424242424241""#).is_err());
    assert!(serde_json::from_str::<CardNumber>(r#""4242424242424242""#).is_ok());
    assert!(serde_json::from_str::<Iban>(r#""FR7630006000011234567890188""#).is_err());
    assert!(serde_json::from_str::<Iban>(r#""FR7630006000011234567890189""#).is_ok());
    assert!(serde_json::from_str::<VatNumber>(r#""FR1""#).is_err());
    let vat = VatNumber::parse("FR40303265045").unwrap();
    let json = serde_json::to_string(&vat).unwrap();
    assert_eq!(serde_json::from_str::<VatNumber>(&json).unwrap(), vat);
}

/// A subscription's id in these vectors.
fn sid(id: i64) -> crate::domain::SubscriptionId {
    crate::domain::SubscriptionId::new(id)
}
