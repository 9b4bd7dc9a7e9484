//! `billing-center seed-demo`: the demo accounts, dated relative to today in
//! Europe/Paris. Idempotent: an existing demo is left as it is.

use crate::billing::quote::PaidTerm;
use crate::billing::{Currency, InvoiceStatus, Money};
use crate::domain::AccountId;
use chrono::{Duration, NaiveDate};

use crate::billing::{BillingPeriod, Frequency};
use crate::db::accounts::{self, NewAccount};
use crate::db::payment_methods::PaymentMethodRecord;
use crate::db::subscriptions::SubscriptionRecord;
use crate::db::writes::InvoiceLineWrite;
use crate::db::writes::InvoiceWrite;
use crate::db::{Db, DbError};
use crate::db::{commit, payment_methods, subscriptions};

pub const DEMO_PASSWORD: &str = "billing-demo";
const TZ: &str = "Europe/Paris";

#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    #[error("{0}")]
    Db(#[from] DbError),
    #[error("cannot seed the demo: {0}")]
    Other(String),
}

use crate::billing::SubscriptionStatus as S;

fn sub(
    account_id: AccountId,
    product: &str,
    level: &str,
    seats: u32,
    frequency: Frequency,
    status: S,
) -> SubscriptionRecord {
    SubscriptionRecord::new(account_id, (product, level, seats), frequency, status)
}

/// A paid term `period` at `unit_minor` euro cents per seat, its renewals
/// anchored on its first day.
fn paid(mut s: SubscriptionRecord, period: BillingPeriod, unit_minor: i64) -> SubscriptionRecord {
    let eur = |minor| Money::from_minor(minor, Currency::Eur);
    s.period = Some(period);
    s.anchor_on = Some(period.start);
    s.paid = Some(PaidTerm {
        unit_price: eur(unit_minor),
        seats: s.seats,
        total_paid: eur(unit_minor * i64::from(s.seats)),
        credited: eur(0),
    });
    s
}

fn card_4242() -> PaymentMethodRecord {
    PaymentMethodRecord {
        kind: crate::db::payment_methods::PaymentMethodKind::Card,
        token: "tok_ok_4242".into(),
        brand: "Visa".into(),
        last4: "4242".into(),
        exp_month: Some(12),
        exp_year: Some(2030),
    }
}

/// A one-line historical invoice at 20 % VAT.
#[allow(clippy::too_many_arguments)]
fn invoice(
    account: &str,
    email: &str,
    status: InvoiceStatus,
    issued: NaiveDate,
    period: BillingPeriod,
    desc: &str,
    seats: i64,
    unit_minor: i64,
) -> InvoiceWrite {
    let demo = super::config::Config::demo_seller();
    let net = unit_minor * seats;
    // 20 % French VAT, rounded half-up once.
    let vat = (net * 20 + 50) / 100;
    let eur = |minor| Money::from_minor(minor, Currency::Eur);
    InvoiceWrite {
        seller: demo.invoice_prefix.clone(),
        status,
        renewal_key: None,
        issued_on: issued,
        time_zone: TZ.into(),
        net: eur(net),
        credit_applied: eur(0),
        vat_rate: rust_decimal::Decimal::new(20, 2),
        vat: eur(vat),
        total: eur(net + vat),
        tax_mention: None,
        seller_details: demo.details(),
        buyer_name: account.into(),
        buyer_country: "FR".into(),
        buyer_vat_number: None,
        buyer_email: email.into(),
        period_start: Some(period.start),
        period_end: Some(period.last_day()),
        lines: vec![InvoiceLineWrite {
            description: desc.into(),
            seats,
            unit: eur(unit_minor),
            amount: eur(net),
            period_start: period.start,
            period_end: period.last_day(),
        }],
    }
}

pub async fn seed_demo(db: &Db, today: NaiveDate) -> Result<bool, SeedError> {
    if accounts::find_account_by_name(db, "Trial SARL")
        .await?
        .is_some()
    {
        return Ok(false);
    }
    let hash = tokio::task::spawn_blocking(|| password_auth::generate_hash(DEMO_PASSWORD))
        .await
        .map_err(|e| SeedError::Other(e.to_string()))?;
    let online = |name| NewAccount {
        name,
        kind: "online",
        country: "FR",
        vat_number: None,
        currency: "EUR",
        time_zone: TZ,
        language: "fr",
        rep: None,
        address: Default::default(),
        external_id: None,
    };
    let per = |start: NaiveDate, f| {
        BillingPeriod::starting(start, f).map_err(|e| SeedError::Other(e.to_string()))
    };
    let days = Duration::days;

    // Trial SARL: webinar Standard trial ending in 5 days; a second user.
    let a = accounts::insert_account(db, &online("Trial SARL")).await?;
    accounts::insert_user(db, a, "trial@demo.test", "Théo Trial", &hash, true).await?;
    accounts::insert_user(db, a, "member@demo.test", "Marie Member", &hash, false).await?;
    let mut s = sub(a, "webinar", "standard", 1, Frequency::Monthly, S::Trial);
    s.trial_ends_on = Some(today + days(5));
    subscriptions::insert_subscription(db, &s).await?;

    // Pending SAS: webinar Pro ×2 annual since 100 days, pending cancellation.
    let a = accounts::insert_account(db, &online("Pending SAS")).await?;
    accounts::insert_user(db, a, "pending@demo.test", "Paul Pending", &hash, true).await?;
    let p = per(today - days(100), Frequency::Annual)?;
    subscriptions::insert_subscription(
        db,
        &paid(
            sub(
                a,
                "webinar",
                "pro",
                2,
                Frequency::Annual,
                S::PendingCancellation,
            ),
            p,
            238_800,
        ),
    )
    .await?;
    payment_methods::save_payment_method(db, a, &card_4242()).await?;
    commit::insert_paid_invoice(
        db,
        a,
        &invoice(
            "Pending SAS",
            "pending@demo.test",
            InvoiceStatus::Paid,
            p.start,
            p,
            "GoToWebinar Pro, annual",
            2,
            238_800,
        ),
    )
    .await
    .map_err(|e| SeedError::Other(e.to_string()))?;

    // Fin d'essai SARL: trial expired 3 days ago.
    let a = accounts::insert_account(db, &online("Fin d'essai SARL")).await?;
    accounts::insert_user(db, a, "trialover@demo.test", "Fanny Fin", &hash, true).await?;
    let mut s = sub(
        a,
        "webinar",
        "standard",
        1,
        Frequency::Monthly,
        S::TrialExpired,
    );
    s.trial_ends_on = Some(today - days(3));
    subscriptions::insert_subscription(db, &s).await?;

    // Expirée SA: webinar Lite monthly, expired 10 days ago, 3 paid invoices.
    let a = accounts::insert_account(db, &online("Expirée SA")).await?;
    accounts::insert_user(db, a, "expired@demo.test", "Eric Expired", &hash, true).await?;
    let anchor = (today - days(10))
        .checked_sub_months(chrono::Months::new(3))
        .ok_or_else(|| SeedError::Other("date".into()))?;
    for n in 0..3 {
        let p = BillingPeriod::nth(anchor, Frequency::Monthly, n)
            .map_err(|e| SeedError::Other(e.to_string()))?;
        commit::insert_paid_invoice(
            db,
            a,
            &invoice(
                "Expirée SA",
                "expired@demo.test",
                InvoiceStatus::Paid,
                p.start,
                p,
                "GoToWebinar Lite, monthly",
                1,
                5_900,
            ),
        )
        .await
        .map_err(|e| SeedError::Other(e.to_string()))?;
    }
    let last = BillingPeriod::nth(anchor, Frequency::Monthly, 2)
        .map_err(|e| SeedError::Other(e.to_string()))?;
    let mut s = paid(
        sub(a, "webinar", "lite", 1, Frequency::Monthly, S::Expired),
        last,
        5_900,
    );
    s.ended_on = Some(last.end);
    subscriptions::insert_subscription(db, &s).await?;
    payment_methods::save_payment_method(db, a, &card_4242()).await?;

    // Active GmbH (DE, reverse charge): meeting Business ×5 monthly since 40
    // days, training Starter annual.
    let a = accounts::insert_account(
        db,
        &NewAccount {
            country: "DE",
            vat_number: Some("DE123456789"),
            language: "en",
            ..online("Active GmbH")
        },
    )
    .await?;
    accounts::insert_user(db, a, "active@demo.test", "Anna Active", &hash, true).await?;
    let start = today - days(40);
    let p = BillingPeriod::containing(start, Frequency::Monthly, today)
        .map_err(|e| SeedError::Other(e.to_string()))?;
    subscriptions::insert_subscription(
        db,
        &paid(
            sub(a, "meeting", "business", 5, Frequency::Monthly, S::Active),
            p,
            1_900,
        ),
    )
    .await?;
    let p = per(start, Frequency::Annual)?;
    subscriptions::insert_subscription(
        db,
        &paid(
            sub(a, "training", "starter", 1, Frequency::Annual, S::Active),
            p,
            130_800,
        ),
    )
    .await?;
    payment_methods::save_payment_method(db, a, &card_4242()).await?;

    // Corporate Group SA: billed by invoice, with a representative.
    let a = accounts::insert_account(
        db,
        &NewAccount {
            kind: "corporate",
            rep: Some((
                "Camille Martin",
                "camille.martin@example.com",
                "+33 1 23 45 67 89",
            )),
            ..online("Corporate Group SA")
        },
    )
    .await?;
    accounts::insert_user(
        db,
        a,
        "corporate@demo.test",
        "Claire Corporate",
        &hash,
        true,
    )
    .await?;
    let p = per(today - days(60), Frequency::Annual)?;
    subscriptions::insert_subscription(
        db,
        &paid(
            sub(a, "webinar", "enterprise", 10, Frequency::Annual, S::Active),
            p,
            478_800,
        ),
    )
    .await?;
    let old = per(today - days(400), Frequency::Annual)?;
    let mut s = paid(
        sub(a, "training", "pro", 5, Frequency::Annual, S::Expired),
        old,
        262_800,
    );
    s.ended_on = Some(old.end);
    subscriptions::insert_subscription(db, &s).await?;
    for (issued, seats) in [(today - days(60), 10), (today - days(20), 2)] {
        let p = per(issued, Frequency::Annual)?;
        commit::insert_paid_invoice(
            db,
            a,
            &invoice(
                "Corporate Group SA",
                "corporate@demo.test",
                InvoiceStatus::Open,
                issued,
                p,
                "GoToWebinar Enterprise, annual",
                seats,
                478_800,
            ),
        )
        .await
        .map_err(|e| SeedError::Other(e.to_string()))?;
    }
    Ok(true)
}
