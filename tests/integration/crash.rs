//! Crash safety: the real server binary SIGKILLed at random moments while
//! customers place orders (3 kills here, `BC_KILLS=20` in `make soak`),
//! restarted on the same database each time; some customers submit the
//! same order again after the kill, others walk away. Then the billing run
//! (which releases abandoned orders), and the books: payments = paid
//! invoices = what the gateway kept, reference by reference; no gap in the
//! numbers; no order left pending; no 5xx, no panic in the server's log.
//!
//! The provider must outlive the server, as a real one does: the built-in
//! gateway's journal file (`BC_TEST_GATEWAY_LEDGER`), or localstripe
//! (`providers.rs`), whose own records the books are checked against.

use std::process::{Child, Command};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use chrono::Utc;
use serde_json::{Value, json};

use crate::helpers::{
    assert_books, backends, call, customer_mid_period, free_port, fresh_database_url,
    serve_process, session_cookie, wait_until_up,
};
use crate::providers::Provider;

const CUSTOMERS: usize = 8;

/// Kills to inflict: `BC_KILLS` (the long run) or 3.
pub fn kills() -> usize {
    std::env::var("BC_KILLS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3)
}

/// A small deterministic generator (xorshift), seeded from the clock and
/// printed, so that a failing sequence of kill moments can be replayed
/// with `BC_CRASH_SEED`.
pub struct Rng(u64);

impl Rng {
    pub fn from_env() -> Rng {
        let seed = std::env::var("BC_CRASH_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| Utc::now().timestamp_micros() as u64 | 1);
        println!("crash seed: BC_CRASH_SEED={seed}");
        Rng(seed)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

struct Server {
    child: Child,
    log: std::path::PathBuf,
}

fn start_server(url: &str, provider: &Provider, port: u16, log: &std::path::Path) -> Server {
    let mut env = provider.env();
    env.push(("BC_ORDER_LEASE_SECONDS", "1".into()));
    Server {
        child: serve_process(url, port, log, &env),
        log: log.to_path_buf(),
    }
}

#[derive(Default)]
struct Tally {
    orders: AtomicUsize,
    resubmitted: AtomicUsize,
    walked_away: AtomicUsize,
    cut: AtomicUsize,
    server_errors: AtomicUsize,
}

#[tokio::test]
async fn server_killed_during_orders_loses_nothing_and_bills_nothing_twice() {
    let kills = kills();
    let runs = backends()
        .into_iter()
        .flat_map(|b| Provider::all().into_iter().map(move |p| (b, p)));
    for (backend, provider) in runs {
        let what = format!("{backend:?}, {}", provider.name());
        let dir = tempfile::tempdir().unwrap();
        // PostgreSQL: a durable server of its own (the suite's runs with
        // fsync off).
        let own = (backend == billing_center::db::Backend::Postgres)
            .then(|| crate::db_faults::OwnPostgres::start().expect("PostgreSQL binaries"));
        let url = match &own {
            Some(pg) => pg.url(),
            None => fresh_database_url(backend, dir.path()).await,
        };
        let log = dir.path().join("server.log");
        let config = billing_center::server::config::Config::with_database(&url);
        let state = billing_center::server::startup::offline_state(&config)
            .await
            .unwrap();
        let today = billing_center::server::clock::local_date(Utc::now(), "Europe/Paris");
        let mut cookies = Vec::new();
        for i in 0..CUSTOMERS {
            let (account, user) = customer_mid_period(
                &state.db,
                &format!("Crash {i}"),
                &format!("crash{i}@demo.test"),
            )
            .await;
            provider.give_card(&state.db, account).await;
            cookies.push(session_cookie(&state.db, user, 50_000 + i).await);
        }

        let port = free_port();
        let base = format!("http://127.0.0.1:{port}");
        let mut server = start_server(&url, &provider, port, &log);
        wait_until_up(&base).await;

        let stop = Arc::new(AtomicBool::new(false));
        let tally = Arc::new(Tally::default());
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap();
        let mut customers = Vec::new();
        for (n, cookie) in cookies.into_iter().enumerate() {
            let (client, base, stop, tally) =
                (client.clone(), base.clone(), stop.clone(), tally.clone());
            customers.push(tokio::spawn(async move {
                let mut step = n as i64;
                while !stop.load(Ordering::Relaxed) {
                    step += 1;
                    let json_call = |endpoint: &'static str, body: Value| {
                        call(&client, &base, &cookie, endpoint, Ok(body))
                    };
                    let Some((200, overview)) = json_call("overview", json!({})).await else {
                        tokio::time::sleep(Duration::from_millis(20)).await;
                        continue;
                    };
                    let card = &overview["cards"][0];
                    let (Some(id), Some(seats)) = (card["id"].as_i64(), card["seats"].as_i64())
                    else {
                        continue;
                    };
                    let item = json!({"item": {"type": "change", "subscription_id": id,
                        "plan": {"level": "business", "seats": (seats % 50) + 1, "frequency": "monthly"}}, "replace": true});
                    if json_call("put_cart_item", item).await.is_none() {
                        continue;
                    }
                    let Some((200, checkout)) = json_call("checkout", json!({})).await else {
                        continue;
                    };
                    let form = vec![
                        ("key".to_string(), checkout["idempotency_key"].as_str().unwrap_or("").to_string()),
                        (
                            "expected_total".to_string(),
                            checkout["quote"]["totals"]["total_due"]["amount"].as_str().unwrap_or("").to_string(),
                        ),
                        ("cart_digest".to_string(), checkout["cart_digest"].as_str().unwrap_or("").to_string()),
                    ];
                    // Submitted; when the connection is cut, every other
                    // customer submits the same form again (the browser's
                    // "resend"), the others go back to their subscriptions.
                    let mut attempts = 0;
                    loop {
                        attempts += 1;
                        match call(&client, &base, &cookie, "place_order", Err(form.clone())).await
                        {
                            Some((s, _)) if s >= 500 => {
                                tally.server_errors.fetch_add(1, Ordering::Relaxed);
                                break;
                            }
                            Some((200, _)) => {
                                tally.orders.fetch_add(1, Ordering::Relaxed);
                                if attempts > 1 {
                                    tally.resubmitted.fetch_add(1, Ordering::Relaxed);
                                }
                                break;
                            }
                            Some(_) => break,
                            None => {
                                tally.cut.fetch_add(1, Ordering::Relaxed);
                                if step % 2 == 0 || attempts > 20 {
                                    tally.walked_away.fetch_add(1, Ordering::Relaxed);
                                    break;
                                }
                                tokio::time::sleep(Duration::from_millis(100)).await;
                            }
                        }
                    }
                }
            }));
        }

        let mut rng = Rng::from_env();
        for _ in 0..kills {
            tokio::time::sleep(Duration::from_millis(200 + rng.below(900))).await;
            server.child.kill().unwrap(); // SIGKILL
            server.child.wait().unwrap();
            server = start_server(&url, &provider, port, &log);
            wait_until_up(&base).await;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        stop.store(true, Ordering::Relaxed);
        for c in customers {
            c.await.unwrap();
        }
        server.child.kill().unwrap();
        server.child.wait().unwrap();

        // Leases are 1 s: after that the run may release what the killed
        // processes left pending.
        tokio::time::sleep(Duration::from_millis(1200)).await;
        let bill = Command::new(env!("CARGO_BIN_EXE_billing-center"))
            .args(["bill", "--as-of", &today.to_string()])
            .env("DATABASE_URL", &url)
            .env(
                "CATALOG_PATH",
                concat!(env!("CARGO_MANIFEST_DIR"), "/catalog.toml"),
            )
            .envs(provider.env())
            .env("BC_ORDER_LEASE_SECONDS", "1")
            .env("RUST_LOG", "warn")
            .output()
            .unwrap();
        assert!(
            bill.status.success(),
            "{}",
            String::from_utf8_lossy(&bill.stderr)
        );

        let bill_out = String::from_utf8_lossy(&bill.stdout).to_string();
        let log_text = std::fs::read_to_string(&server.log).unwrap_or_default();
        assert!(!log_text.contains("panicked"), "{what}: {log_text}");
        let t = &tally;
        assert_eq!(
            t.server_errors.load(Ordering::Relaxed),
            0,
            "{what}: 5xx\n{log_text}"
        );
        let orders = t.orders.load(Ordering::Relaxed);
        assert!(orders >= 10, "{what}: only {orders} orders placed");
        let settled = provider.settled(&state.db).await;
        let invoices = assert_books(&state.db, &format!("crash {what}"), &settled).await;
        let (done,): (i64,) =
            sqlx::query_as("SELECT CAST(COUNT(*) AS BIGINT) FROM orders WHERE status = 'done'")
                .fetch_one(&state.db.pool)
                .await
                .unwrap();
        assert!(
            done as usize >= orders,
            "{what}: {orders} confirmed to customers, {done} recorded"
        );
        println!(
            "crash {what}: {kills} kills, {orders} orders confirmed ({} after a resubmission), {} requests cut by a kill, {} orders walked away from, {done} orders and {invoices} invoices in the books, 0 lost, 0 charged twice; billing run: {}",
            t.resubmitted.load(Ordering::Relaxed),
            t.cut.load(Ordering::Relaxed),
            t.walked_away.load(Ordering::Relaxed),
            bill_out.trim(),
        );
    }
}
