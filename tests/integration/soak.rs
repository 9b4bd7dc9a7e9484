//! Load with correctness: 200 sessions on 20 accounts reading, changing
//! seats and placing orders at once (10 s here; `BC_SOAK_SECONDS=60` for the
//! long run), then the books: per account Σ payments = Σ invoice totals =
//! what the gateway settled, invoice numbers continuous, no 5xx.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_books, backends, customer_mid_period, session_cookie};

const ACCOUNTS: usize = 20;
const SESSIONS_PER_ACCOUNT: usize = 10;

async fn setup(app: &TestApp) -> Vec<String> {
    let mut cookies = Vec::new();
    for i in 0..ACCOUNTS {
        let (_, user) =
            customer_mid_period(&app.db, &format!("Soak {i}"), &format!("soak{i}@demo.test")).await;
        for s in 0..SESSIONS_PER_ACCOUNT {
            cookies.push(session_cookie(&app.db, user, i * 1000 + s).await);
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

        let settled = app.state().gateway.settled().await.unwrap();
        let count = assert_books(&app.db, &format!("soak {backend:?}"), &settled).await;
        println!(
            "soak {backend:?}: {seconds} s, 200 sessions on {ACCOUNTS} accounts, {requests} requests, {orders} orders, {count} invoices, 0 server errors, books balanced"
        );
    }
}
