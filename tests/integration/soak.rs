//! Load with correctness: 200 sessions on 20 accounts reading, changing
//! seats and placing orders at once (10 s here; `BC_SOAK_SECONDS=60` for the
//! long run), then the books: per account Σ payments = Σ invoice totals =
//! what the gateway settled, invoice numbers continuous, no 5xx.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use billing_center::db::accounts;
use billing_center::db::billing as store;
use chrono::Utc;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::helpers::{TestApp, active_monthly, backends, online_account_with_card};

const ACCOUNTS: usize = 20;
const SESSIONS_PER_ACCOUNT: usize = 10;

async fn setup(app: &TestApp) -> Vec<String> {
    let today = billing_center::server::clock::local_date(Utc::now(), "Europe/Paris");
    let start = today - chrono::Duration::days(5);
    let now = Utc::now();
    let stamp = |t: chrono::DateTime<Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let mut cookies = Vec::new();
    for i in 0..ACCOUNTS {
        let (a, user) =
            online_account_with_card(&app.db, &format!("Soak {i}"), &format!("soak{i}@demo.test"))
                .await;
        store::insert_subscription(
            &app.db,
            &active_monthly(a, "meeting", "business", start, 1900),
        )
        .await
        .unwrap();
        // Sessions straight into the table: 200 Argon2 sign-ins would
        // measure the password hash, not the billing.
        for s in 0..SESSIONS_PER_ACCOUNT {
            let token = format!(
                "{:064x}",
                (i * 1000 + s + 1) as u128 * 0x9e37_79b9_7f4a_7c15
            );
            let hash: String = Sha256::digest(token.as_bytes())
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            accounts::insert_session(
                &app.db,
                &hash,
                user,
                &stamp(now),
                &stamp(now + chrono::Duration::hours(1)),
            )
            .await
            .unwrap();
            cookies.push(format!("bc_session={token}"));
        }
    }
    cookies
}

#[tokio::test]
async fn two_hundred_sessions_keep_the_books_straight() {
    let seconds: u64 = std::env::var("BC_SOAK_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let cookies = setup(&app).await;
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(256)
            .build()
            .unwrap();
        let server_errors = Arc::new(AtomicUsize::new(0));
        let orders = Arc::new(AtomicUsize::new(0));
        let requests = Arc::new(AtomicUsize::new(0));
        let deadline = Instant::now() + Duration::from_secs(seconds);
        let mut workers = Vec::new();
        for (n, cookie) in cookies.into_iter().enumerate() {
            let (client, base) = (client.clone(), app.base.clone());
            let (errors, orders, requests) =
                (server_errors.clone(), orders.clone(), requests.clone());
            workers.push(tokio::spawn(async move {
                let call = |endpoint: &'static str, json_body: Option<Value>, form: Vec<(&'static str, String)>| {
                    let mut req = client
                        .post(format!("{base}/api/{endpoint}"))
                        .header("Accept", "application/json")
                        .header("Cookie", &cookie);
                    req = match json_body {
                        Some(j) => req.json(&j),
                        None => req.form(&form),
                    };
                    let (errors, requests) = (errors.clone(), requests.clone());
                    async move {
                        requests.fetch_add(1, Ordering::Relaxed);
                        let r = req.send().await.ok()?;
                        if r.status().is_server_error() {
                            errors.fetch_add(1, Ordering::Relaxed);
                        }
                        let ok = r.status().is_success();
                        let v: Value = r.json().await.ok()?;
                        ok.then_some(v)
                    }
                };
                let mut step = n;
                while Instant::now() < deadline {
                    step += 1;
                    if step % 3 == 0 {
                        let _ = call("invoices", None, vec![]).await;
                        continue;
                    }
                    let Some(overview) = call("overview", None, vec![]).await else { continue };
                    let card = &overview["cards"][0];
                    let (Some(id), Some(seats)) = (card["id"].as_i64(), card["seats"].as_i64()) else { continue };
                    let item = json!({"item": {"type": "change", "subscription_id": id,
                        "plan": {"level": "business", "seats": (seats % 200) + 1, "frequency": "monthly"}}, "replace": true});
                    if call("put_cart_item", Some(item), vec![]).await.is_none() {
                        continue;
                    }
                    let Some(checkout) = call("checkout", None, vec![]).await else { continue };
                    let form = vec![
                        ("key", checkout["idempotency_key"].as_str().unwrap_or("").to_string()),
                        (
                            "expected_total",
                            checkout["quote"]["totals"]["total_due"]["amount"].as_str().unwrap_or("").to_string(),
                        ),
                        ("cart_digest", checkout["cart_digest"].as_str().unwrap_or("").to_string()),
                    ];
                    if call("place_order", None, form).await.is_some() {
                        orders.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }));
        }
        for w in workers {
            w.await.unwrap();
        }
        let (orders, requests) = (
            orders.load(Ordering::Relaxed),
            requests.load(Ordering::Relaxed),
        );
        assert_eq!(
            server_errors.load(Ordering::Relaxed),
            0,
            "{backend:?}: 5xx under load"
        );
        assert!(orders > 20, "{backend:?}: only {orders} orders placed");

        // The books, per account.
        let per_account: Vec<(i64, i64, i64, i64, i64)> = sqlx::query_as(
            "SELECT a.id,
                    CAST((SELECT COUNT(*) FROM invoices i WHERE i.account_id = a.id) AS BIGINT),
                    CAST((SELECT COALESCE(SUM(total_minor), 0) FROM invoices i WHERE i.account_id = a.id) AS BIGINT),
                    CAST((SELECT COUNT(*) FROM payments p WHERE p.account_id = a.id) AS BIGINT),
                    CAST((SELECT COALESCE(SUM(amount_minor), 0) FROM payments p WHERE p.account_id = a.id) AS BIGINT)
             FROM accounts a ORDER BY a.id",
        )
        .fetch_all(&app.db.pool)
        .await
        .unwrap();
        let mut invoices = 0;
        for (account, n_inv, inv_total, n_pay, paid) in &per_account {
            // Downgrades credit the account instead of charging: those
            // invoices (total 0) have no payment.
            let (zero,): (i64,) = sqlx::query_as(
                "SELECT CAST(COUNT(*) AS BIGINT) FROM invoices WHERE account_id = $1 AND total_minor = 0",
            )
            .bind(account)
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
            assert_eq!(
                inv_total, paid,
                "{backend:?} account {account}: invoices ≠ payments"
            );
            assert_eq!(*n_inv - zero, *n_pay, "{backend:?} account {account}");
            invoices += n_inv;
        }
        let settled: i64 = app.state().gateway.settled().iter().map(|(_, a)| a).sum();
        let paid: i64 = per_account.iter().map(|r| r.4).sum();
        assert_eq!(settled, paid, "{backend:?}: gateway ≠ books");
        let (max_seq, count): (Option<i64>, i64) = sqlx::query_as(
            "SELECT CAST(MAX(seq) AS BIGINT), CAST(COUNT(*) AS BIGINT) FROM invoices",
        )
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
        assert_eq!(
            max_seq.unwrap_or(0),
            count,
            "{backend:?}: a gap in the invoice numbers"
        );
        assert_eq!(count, invoices);
        println!(
            "soak {backend:?}: {seconds} s, 200 sessions on {ACCOUNTS} accounts, {requests} requests, {orders} orders, {count} invoices, 0 server errors, books balanced"
        );
    }
}
