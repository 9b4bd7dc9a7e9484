//! The billing run over real databases, including a run killed mid-way.

use std::process::Command;

use billing_center::db::accounts;
use billing_center::db::payment_methods::PaymentMethodRecord;
use billing_center::db::{payment_methods, subscriptions};
use billing_center::server::billing_run::{AsOf, RunReport, run};
use chrono::{Duration, NaiveDate};

use crate::crash::{Rng, kills};
use crate::helpers::{
    TestApp, active_monthly, assert_books, backends, fresh_database_url, online_account_with_card,
};
use crate::providers::Provider;
use billing_center::domain::AccountId;

pub fn today() -> NaiveDate {
    billing_center::server::clock::local_date(chrono::Utc::now(), "Europe/Paris")
}

async fn statuses(app: &TestApp) -> Vec<(String, String, String)> {
    sqlx::query_as("SELECT a.name, s.product, s.status FROM subscriptions s JOIN accounts a ON a.id = s.account_id ORDER BY s.id")
        .fetch_all(&app.db.pool)
        .await
        .unwrap()
}

/// Renewal invoices of one subscription tile: each starts where the
/// previous one ended, none twice.
async fn assert_renewals_tile(db: &billing_center::db::Db, sub_id: i64) -> usize {
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT period_start, period_end FROM invoices WHERE renewal_key LIKE $1 ORDER BY period_start",
    )
    .bind(format!("{sub_id}:%"))
    .fetch_all(&db.pool)
    .await
    .unwrap();
    for pair in rows.windows(2) {
        let last_day: NaiveDate = pair[0].1.parse().unwrap();
        let next_start: NaiveDate = pair[1].0.parse().unwrap();
        assert_eq!(
            last_day + Duration::days(1),
            next_start,
            "gap or overlap in subscription {sub_id}"
        );
    }
    rows.len()
}

#[tokio::test]
async fn a_year_of_billing_runs_renews_expires_and_is_idempotent() {
    for backend in backends() {
        let app = TestApp::spawn_seeded(backend).await;
        let state = app.state();
        let as_of = today() + Duration::days(400);
        let report = run(&state, AsOf::Date(as_of)).await.unwrap();
        assert_eq!(report.trials_ended, 1, "{backend:?} {report:?}");
        assert_eq!(report.terms_ended, 1);
        // 13 monthly meeting renewals, the annual training and the corporate webinar.
        assert!(report.renewed >= 15, "{report:?}");
        let s = statuses(&app).await;
        let find = |name: &str, product: &str| {
            s.iter()
                .find(|(a, p, _)| a == name && p == product)
                .unwrap()
                .2
                .clone()
        };
        assert_eq!(find("Trial SARL", "webinar"), "trial_expired");
        assert_eq!(find("Pending SAS", "webinar"), "expired");
        assert_eq!(find("Active GmbH", "meeting"), "active");
        assert_eq!(find("Expirée SA", "webinar"), "expired");
        // Corporate renewals are invoiced, not charged.
        let open: (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM invoices WHERE status = 'open' AND renewal_key IS NOT NULL",
        )
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
        assert_eq!(open.0, 1);
        let meeting_id: (i64,) =
            sqlx::query_as("SELECT id FROM subscriptions WHERE product = 'meeting'")
                .fetch_one(&app.db.pool)
                .await
                .unwrap();
        assert!(assert_renewals_tile(&app.db, meeting_id.0).await >= 13);
        // Reverse charge on the German account's renewals.
        let vat: (i64,) = sqlx::query_as(
            "SELECT CAST(COALESCE(SUM(vat_minor), 0) AS BIGINT) FROM invoices WHERE buyer_name = 'Active GmbH'",
        )
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
        assert_eq!(vat.0, 0);

        let invoices = app.count("invoices").await;
        let mails = app.count("email_outbox").await;
        let again = run(&state, AsOf::Date(as_of)).await.unwrap();
        assert_eq!(again, RunReport::default(), "a re-run finds nothing to do");
        assert_eq!(
            (app.count("invoices").await, app.count("email_outbox").await),
            (invoices, mails)
        );
    }
}

#[tokio::test]
async fn failed_renewals_retry_at_one_three_seven_days_then_expire() {
    for backend in backends() {
        let app = TestApp::spawn_seeded(backend).await;
        let state = app.state();
        let active = accounts::find_account_by_name(&app.db, "Active GmbH")
            .await
            .unwrap()
            .unwrap();
        payment_methods::save_payment_method(
            &app.db,
            active.id,
            &PaymentMethodRecord {
                kind: billing_center::db::payment_methods::PaymentMethodKind::Card,
                token: "tok_fail_on_charge_0341".into(),
                brand: "Visa".into(),
                last4: "0341".into(),
                exp_month: Some(12),
                exp_year: Some(2030),
            },
        )
        .await
        .unwrap();
        let subs = subscriptions::subscriptions(&app.db, active.id)
            .await
            .unwrap();
        let meeting = subs.iter().find(|s| s.product == "meeting").unwrap();
        let due: NaiveDate = meeting.period.unwrap().end;
        let status = |app: &TestApp| {
            let db = app.db.clone();
            let id = meeting.id;
            async move {
                let r: (String, Option<String>) =
                    sqlx::query_as("SELECT status, next_retry_on FROM subscriptions WHERE id = $1")
                        .bind(id)
                        .fetch_one(&db.pool)
                        .await
                        .unwrap();
                r
            }
        };
        let invoices = app.count("invoices").await;
        run(&state, AsOf::Date(due)).await.unwrap();
        assert_eq!(
            status(&app).await,
            (
                "past_due".into(),
                Some((due + Duration::days(1)).to_string())
            )
        );
        run(&state, AsOf::Date(due + Duration::days(1)))
            .await
            .unwrap();
        assert_eq!(
            status(&app).await.1,
            Some((due + Duration::days(3)).to_string())
        );
        run(&state, AsOf::Date(due + Duration::days(3)))
            .await
            .unwrap();
        assert_eq!(
            status(&app).await.1,
            Some((due + Duration::days(7)).to_string())
        );
        let r = run(&state, AsOf::Date(due + Duration::days(7)))
            .await
            .unwrap();
        assert_eq!(r.expired_after_retries, 1);
        assert_eq!(status(&app).await.0, "expired");
        assert_eq!(
            app.count("invoices").await,
            invoices,
            "nothing invoiced, nothing charged"
        );
        let mails: (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM email_outbox WHERE account_id = $1")
                .bind(active.id)
                .fetch_one(&app.db.pool)
                .await
                .unwrap();
        assert_eq!(mails.0, 4, "an email at each step");
    }
}

/// A fresh database with `n` accounts × 3 monthly subscriptions, two years
/// behind: 24 renewals each are due.
pub async fn two_years_behind(
    backend: billing_center::db::Backend,
    n: usize,
) -> (
    tempfile::TempDir,
    String,
    billing_center::server::state::AppState,
) {
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database_url(backend, dir.path()).await;
    let state = crate::helpers::offline_state(&url).await;
    // 40 accounts × 3 monthly subscriptions, two years behind.
    let start = today() - Duration::days(730);
    for i in 0..n {
        let (a, _) = online_account_with_card(
            &state.db,
            &format!("Load {i}"),
            &format!("load{i}@demo.test"),
        )
        .await;
        for (product, level) in [
            ("webinar", "lite"),
            ("meeting", "business"),
            ("training", "starter"),
        ] {
            subscriptions::insert_subscription(
                &state.db,
                &active_monthly(a, product, level, start, 100),
            )
            .await
            .unwrap();
        }
    }
    (dir, url, state)
}

fn bill_command(url: &str, as_of: &str) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_billing-center"));
    c.args(["bill", "--as-of", as_of])
        .env("DATABASE_URL", url)
        .env(
            "CATALOG_PATH",
            concat!(env!("CARGO_MANIFEST_DIR"), "/catalog.toml"),
        )
        .env("RUST_LOG", "off")
        .stdout(std::process::Stdio::null());
    c
}

/// Killed (SIGKILL) at random moments, `BC_KILLS` times (3 here, 20 in
/// `make soak`), each time after it has made some progress; then a whole
/// run: every period billed once, every charge kept by the gateway is a
/// payment in the books and the other way round.
#[tokio::test]
async fn a_run_killed_mid_way_then_run_again_bills_each_period_exactly_once() {
    let kills = kills();
    let runs = backends()
        .into_iter()
        .flat_map(|b| Provider::all().into_iter().map(move |p| (b, p)));
    for (backend, provider) in runs {
        let what = format!("{backend:?}, {}", provider.name());
        // Stripe's 100 charges a second (the default limit) set its size.
        let accounts = match provider {
            Provider::Journal(_) => 40.max(kills * 10),
            Provider::Stripe(_) => 12.max(kills * 4),
        };
        let (_dir, url, state) = two_years_behind(backend, accounts).await;
        for (account,) in sqlx::query_as::<_, (i64,)>("SELECT id FROM accounts")
            .fetch_all(&state.db.pool)
            .await
            .unwrap()
        {
            provider.give_card(&state.db, AccountId::new(account)).await;
        }
        // The provider outlives the killed runs, as a real one does.
        let as_of = today().to_string();
        let bill = || {
            bill_command(&url, &as_of)
                .envs(provider.env())
                // A killed run's claims on what it was charging run out
                // after this; the next run then charges them.
                .env("BC_ORDER_LEASE_SECONDS", "1")
                .spawn()
                .unwrap()
        };
        let count = || billing_center::db::count(&state.db, "invoices");
        let mut rng = Rng::from_env();
        let mut killed = 0;
        for _ in 0..kills {
            let before = count().await.unwrap();
            let mut child = bill();
            // Wait for progress, then a random moment more.
            for _ in 0..400 {
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                if count().await.unwrap() > before {
                    break;
                }
            }
            tokio::time::sleep(std::time::Duration::from_millis(rng.below(100))).await;
            if child.try_wait().unwrap().is_some() {
                break; // it finished first: nothing left to kill
            }
            child.kill().unwrap(); // SIGKILL
            child.wait().unwrap();
            killed += 1;
            // Its claims hold the page it was charging until they run out.
            tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
        }
        let at_kill = count().await.unwrap();
        assert!(
            killed == kills && at_kill > 0,
            "{what}: {killed} of {kills} kills landed mid-run"
        );
        let claimed = |db: &billing_center::db::Db| {
            let pool = db.pool.clone();
            async move {
                let (n,): (i64,) = sqlx::query_as(
                    "SELECT COUNT(*) FROM subscriptions WHERE run_lease IS NOT NULL",
                )
                .fetch_one(&pool)
                .await
                .unwrap();
                n
            }
        };
        let left_claimed = claimed(&state.db).await;
        assert!(bill().wait().unwrap().success());
        assert_eq!(
            claimed(&state.db).await,
            0,
            "a completed run leaves no claim"
        );
        println!("billing run {what}: {left_claimed} claims left by the killed runs");
        let subs: Vec<(i64,)> = sqlx::query_as("SELECT id FROM subscriptions")
            .fetch_all(&state.db.pool)
            .await
            .unwrap();
        let expected_each = assert_renewals_tile(&state.db, subs[0].0).await;
        assert!(expected_each >= 23, "{expected_each}");
        for (id,) in &subs {
            assert_eq!(
                assert_renewals_tile(&state.db, *id).await,
                expected_each,
                "subscription {id}: a missed or doubled period"
            );
        }
        let total = count().await.unwrap();
        assert_eq!(total as usize, expected_each * subs.len());
        assert!(
            at_kill < total,
            "{what}: the kills came too late to test anything ({at_kill} of {total})"
        );
        let settled = provider.settled(&state.db).await;
        assert_books(&state.db, &format!("killed runs {what}"), &settled).await;
        println!(
            "billing run {what}: killed {killed} times ({at_kill} of {total} renewals done by then), then completed: each period once, books = gateway"
        );
    }
}

async fn outbox_subjects(app: &TestApp) -> Vec<(String, String)> {
    sqlx::query_as("SELECT to_addr, subject FROM email_outbox ORDER BY id")
        .fetch_all(&app.db.pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn reminders_go_out_once_per_event_in_the_accounts_language() {
    for backend in backends() {
        let app = TestApp::spawn_seeded(backend).await;
        let state = app.state();
        // Trial SARL's trial ends in 5 days: not yet in the 3-day window.
        let report = run(&state, AsOf::Date(today() + Duration::days(1)))
            .await
            .unwrap();
        assert_eq!(report.reminders_sent, 0, "{backend:?} {report:?}");
        let before = outbox_subjects(&app).await.len();

        let report = run(&state, AsOf::Date(today() + Duration::days(2)))
            .await
            .unwrap();
        assert_eq!(report.reminders_sent, 1, "{backend:?} {report:?}");
        let mails = outbox_subjects(&app).await;
        assert_eq!(mails.len(), before + 1);
        // The trial ends in 5 days: its last day is the day before, the
        // date the cancellation reminder names for a term too.
        let ends = (today() + Duration::days(4)).format("%d/%m/%Y").to_string();
        assert_eq!(
            mails.last().unwrap(),
            &(
                "trial@demo.test".to_string(),
                format!("Votre essai de GoToWebinar se termine le {ends}")
            )
        );
        // Again the next day, and twice at once: nothing more.
        let (a, b) = tokio::join!(
            run(&state, AsOf::Date(today() + Duration::days(3))),
            run(&state, AsOf::Date(today() + Duration::days(3)))
        );
        assert_eq!(a.unwrap().reminders_sent + b.unwrap().reminders_sent, 0);
        assert_eq!(outbox_subjects(&app).await.len(), before + 1);
    }
}

#[tokio::test]
async fn two_billing_runs_at_once_bill_each_period_once() {
    for backend in backends() {
        let (_dir, url, state) = two_years_behind(backend, 20).await;
        let as_of = today().to_string();
        // Two server processes' runs, side by side, logging their refunds.
        let spawn = || {
            bill_command(&url, &as_of)
                .env("RUST_LOG", "warn")
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        };
        let (a, b) = (spawn(), spawn());
        let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
        assert!(a.status.success() && b.status.success(), "{backend:?}");
        let subs: Vec<(i64,)> = sqlx::query_as("SELECT id FROM subscriptions")
            .fetch_all(&state.db.pool)
            .await
            .unwrap();
        for (id,) in &subs {
            assert_eq!(
                assert_renewals_tile(&state.db, *id).await,
                24,
                "{backend:?} subscription {id}: a missed or doubled period"
            );
        }
        let invoices = billing_center::db::count(&state.db, "invoices")
            .await
            .unwrap();
        let payments = billing_center::db::count(&state.db, "payments")
            .await
            .unwrap();
        assert_eq!(invoices as usize, 24 * subs.len());
        assert_eq!(payments, invoices, "one payment per invoice");
        let (max_seq,): (i64,) = sqlx::query_as("SELECT MAX(seq) FROM invoices")
            .fetch_one(&state.db.pool)
            .await
            .unwrap();
        assert_eq!(max_seq, invoices, "invoice numbers without gaps");
        if backend == billing_center::db::Backend::Postgres {
            // Row locks: the second runner skips what the first holds, so
            // nothing is even charged and refunded.
            let logs = format!(
                "{}{}",
                String::from_utf8_lossy(&a.stderr),
                String::from_utf8_lossy(&b.stderr)
            );
            assert!(!logs.contains("charge refunded"), "{logs}");
        }
    }
}

#[tokio::test]
async fn a_renewal_whose_charge_times_out_is_retried_with_the_same_reference() {
    for backend in backends() {
        let app = TestApp::spawn_seeded(backend).await;
        // Active GmbH's card now loses the gateway's first answer.
        sqlx::query(
            "UPDATE payment_methods SET token = 'tok_timeout_after_charge_0119'
             WHERE account_id = (SELECT account_id FROM users WHERE email = 'active@demo.test')",
        )
        .execute(&app.db.pool)
        .await
        .unwrap();
        let state = app.state();
        run(&state, AsOf::Date(today() + Duration::days(31)))
            .await
            .unwrap();
        // Whatever was charged is in the books once, and nothing else.
        let settled = state.gateway.settled().await.unwrap();
        let (payments, paid): (i64, i64) = sqlx::query_as(
            "SELECT COUNT(*), CAST(COALESCE(SUM(amount_minor), 0) AS BIGINT) FROM payments",
        )
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
        assert!(
            payments >= 1,
            "{backend:?}: the meeting renewal went through"
        );
        assert_eq!(payments as usize, settled.len(), "{settled:?}");
        assert_eq!(paid, settled.iter().map(|(_, a)| a).sum::<i64>());
        let (past_due,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM subscriptions WHERE status = 'past_due'")
                .fetch_one(&app.db.pool)
                .await
                .unwrap();
        assert_eq!(past_due, 0, "a timeout is not a failed payment");
    }
}

/// A refund the gateway refuses is recorded, not lost: the next billing
/// run gives it back and says so; the purpose's next attempt then gets a
/// reference of its own (the refunded one would only return the refunded
/// charge).
#[tokio::test]
async fn a_refused_refund_is_recorded_and_retried_by_the_next_run() {
    use billing_center::billing::{Currency, Money};
    use billing_center::server::charges::{Attempt, Purpose};
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let state = app.state();
        let (account, _) = online_account_with_card(&app.db, "Refund", "refund@demo.test").await;
        let purpose = || Purpose::Order {
            account,
            key: "refund-key-0123456789",
        };
        let amount = Money::from_minor(4_900, Currency::Eur);
        // Stripe's `…5126` card: charged, and its first refund fails.
        let token = "tok_refund_fails_5126";
        let first = Attempt::next(&state, account, purpose(), token, amount)
            .await
            .unwrap();
        let charge = first.charge(&*state.gateway).await.unwrap();
        first.refund(&state, &charge).await;
        let status = || async {
            sqlx::query_as::<_, (String,)>(
                "SELECT status FROM payment_attempts WHERE reference = $1",
            )
            .bind(&first.reference)
            .fetch_one(&app.db.pool)
            .await
            .unwrap()
            .0
        };
        assert_eq!(status().await, "refund_failed", "{backend:?}");
        assert_eq!(
            state.gateway.settled().await.unwrap().len(),
            1,
            "{backend:?}: still charged"
        );

        let report = run(&state, AsOf::Now).await.unwrap();
        assert_eq!(
            (report.refunds_retried, report.refunds_failing),
            (1, 0),
            "{backend:?}"
        );
        assert_eq!(status().await, "refunded", "{backend:?}");
        assert!(
            state.gateway.settled().await.unwrap().is_empty(),
            "{backend:?}: given back"
        );
        assert_eq!(run(&state, AsOf::Now).await.unwrap().refunds_retried, 0);

        let next = Attempt::next(&state, account, purpose(), "tok_ok_4242", amount)
            .await
            .unwrap();
        assert_ne!(next.reference, first.reference, "{backend:?}");
        let again = next.charge(&*state.gateway).await.unwrap();
        assert!(
            !again.refunded,
            "{backend:?}: a new charge, not the refunded one"
        );
    }
}

/// A writer whose commit lost (stale) gives its charge back, unless another
/// writer recorded that very charge: a retry under the same reference gets
/// the same charge from the gateway, and the payment recorded for it stands.
#[tokio::test]
async fn a_charge_another_writer_recorded_is_never_refunded() {
    use billing_center::billing::{Currency, Money};
    use billing_center::server::charges::{Attempt, Purpose};
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let state = app.state();
        let (account, _) = online_account_with_card(&app.db, "Twice", "twice@demo.test").await;
        let start = today() - Duration::days(31);
        let id = subscriptions::insert_subscription(
            &app.db,
            &active_monthly(account, "webinar", "lite", start, 5_900),
        )
        .await
        .unwrap();
        let before = subscriptions::subscriptions(&app.db, account)
            .await
            .unwrap();
        let term_end = before[0].period.map(|p| p.end);
        let report = run(&state, AsOf::Now).await.unwrap();
        assert_eq!(report.renewed, 1, "{backend:?}");
        // The slower writer: the same purpose, so the same reference and
        // the same charge, and its commit found the subscription renewed.
        let purpose = Purpose::Renewal {
            subscription: id,
            term_end,
        };
        let stale = Attempt::numbered(
            &state.installation,
            account,
            purpose.key(),
            0,
            "tok_ok_4242",
            Money::from_minor(0, Currency::Eur),
        );
        let charge = state
            .gateway
            .charge_for(&stale.reference, None)
            .await
            .unwrap()
            .expect("the renewal's charge");
        stale.refund(&state, &charge).await;
        assert!(
            !state
                .gateway
                .charge_for(&stale.reference, None)
                .await
                .unwrap()
                .unwrap()
                .refunded,
            "{backend:?}: the recorded charge stands"
        );
        assert_books(
            &app.db,
            &format!("{backend:?}"),
            &state.gateway.settled().await.unwrap(),
        )
        .await;
    }
}
