//! `cargo bench --features ssr --bench engine`: the engine's hot paths.
//! Budget (issue: billing engine): a 10-item quote in under 20 µs.

use std::hint::black_box;

use billing_center::billing::catalog::load::from_toml;
use billing_center::billing::quote::{
    AccountTerms, CartItem, PaidTerm, PlanChoice, SubscriptionSnapshot, quote,
};
use billing_center::billing::tax::Country;
use billing_center::billing::{
    AccountKind, BillingPeriod, Currency, Frequency, Money, SubscriptionStatus,
};
use chrono::NaiveDate;
use criterion::{Criterion, criterion_group, criterion_main};

/// A catalog of ten products (a cart holds one item per product).
fn ten_product_catalog() -> String {
    let mut text = String::from("version = 1\ncurrency = \"EUR\"\ntrial_days = 14\n");
    for i in 0..10 {
        text.push_str(&format!(
            "[[products]]\ncode = \"p{i}\"\nname = \"Product {i}\"\nmin_seats = 1\nmax_seats = 100\n\
             [[products.levels]]\ncode = \"basic\"\nname = \"Basic\"\nmonthly = \"19.00\"\nannual = \"190.00\"\n\
             [[products.levels]]\ncode = \"pro\"\nname = \"Pro\"\nmonthly = \"49.00\"\nannual = \"490.00\"\n"
        ));
    }
    text
}

fn bench_quote(c: &mut Criterion) {
    let catalog = from_toml(&ten_product_catalog(), "bench.toml").unwrap();
    let eur = |s: &str| Money::parse(s, Currency::Eur).unwrap();
    let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
    let account = AccountTerms {
        kind: AccountKind::Online,
        country: Country::parse("FR").unwrap(),
        vat_number: None,
        currency: Currency::Eur,
        credit_balance: eur("10.00"),
        seller_country: Country::parse("FR").unwrap(),
    };
    // Five active subscriptions being upgraded (proration + credit lines),
    // five new products.
    let subs: Vec<SubscriptionSnapshot> = (0..5)
        .map(|i| SubscriptionSnapshot {
            id: billing_center::domain::SubscriptionId::new(i),
            product: format!("p{i}"),
            level: "basic".into(),
            seats: 3,
            frequency: Frequency::Monthly,
            status: SubscriptionStatus::Active,
            period: Some(BillingPeriod {
                start: d("2026-11-10"),
                end: d("2026-12-10"),
            }),
            paid: Some(PaidTerm {
                unit_price: eur("19.00"),
                seats: 3,
                total_paid: eur("57.00"),
                credited: eur("0"),
            }),
            scheduled: None,
            trial_ends: None,
            version: 1,
        })
        .collect();
    let cart: Vec<CartItem> = (0..10)
        .map(|i| {
            let plan = PlanChoice {
                level: "pro".into(),
                seats: 5,
                frequency: Frequency::Monthly,
            };
            if i < 5 {
                CartItem::Change {
                    subscription_id: billing_center::domain::SubscriptionId::new(i),
                    plan,
                }
            } else {
                CartItem::Subscribe {
                    subscription_id: None,
                    product: format!("p{i}"),
                    plan,
                }
            }
        })
        .collect();
    let today = d("2026-11-26");
    assert_eq!(
        quote(&catalog, &account, &subs, &cart, today)
            .unwrap()
            .items
            .len(),
        10
    );
    c.bench_function("quote 10-item cart", |b| {
        b.iter(|| {
            quote(
                black_box(&catalog),
                black_box(&account),
                black_box(&subs),
                black_box(&cart),
                black_box(today),
            )
        })
    });
}

fn bench_periods(c: &mut Criterion) {
    let anchor = NaiveDate::from_ymd_opt(2024, 1, 31).unwrap();
    c.bench_function("120 monthly periods (10 years)", |b| {
        b.iter(|| {
            (0..120)
                .map(|n| BillingPeriod::nth(black_box(anchor), Frequency::Monthly, n).unwrap())
                .next_back()
        })
    });
}

criterion_group!(benches, bench_quote, bench_periods);
criterion_main!(benches);
