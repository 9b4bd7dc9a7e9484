//! Database faults under load: a PostgreSQL server stopped and started
//! again while customers order (requests fail cleanly with 503 and a clear
//! sentence, nothing is half-written, and the same server process recovers
//! by itself); SQLite under concurrent writers from two processes and a
//! lock held by a third (busy timeout: they queue, nobody sees "database is
//! locked").

use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use billing_center::db::subscriptions;
use billing_center::server::payments::PaymentGateway;
use chrono::Utc;
use serde_json::{Value, json};
use sqlx::{Connection, Executor};

use crate::helpers::{
    TestApp, active_monthly, assert_books, backends, customer_mid_period, online_account_with_card,
    session_cookie,
};

/// A PostgreSQL server of a test's own, durable (`fsync = on`, unlike the
/// suite's shared server): the shared one cannot be restarted under the
/// other tests, and the crash tests run on durable commits. Stopped when
/// dropped.
pub(crate) struct OwnPostgres {
    dir: tempfile::TempDir,
    bin: PathBuf,
    port: u16,
}

impl OwnPostgres {
    pub(crate) fn start() -> Option<OwnPostgres> {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .ok()?
            .filter_map(|e| Some(e.ok()?.path().join("bin")))
            .filter(|b| b.join("initdb").exists())
            .max()?;
        let dir = tempfile::tempdir().unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let pg = OwnPostgres { dir, bin, port };
        if is_root() {
            // PostgreSQL refuses to run as root.
            assert!(
                Command::new("chown")
                    .args(["postgres"])
                    .arg(pg.dir.path())
                    .status()
                    .unwrap()
                    .success()
            );
        }
        pg.run(&format!(
            "{}/initdb -D {}/data -A trust -U postgres >/dev/null",
            pg.bin.display(),
            pg.dir.path().display()
        ));
        pg.start_again();
        Some(pg)
    }

    fn run(&self, cmd: &str) {
        let status = if is_root() {
            Command::new("su").args(["postgres", "-c", cmd]).status()
        } else {
            Command::new("sh").args(["-c", cmd]).status()
        };
        assert!(status.unwrap().success(), "{cmd}");
    }

    fn pg_ctl(&self, args: &str) {
        self.run(&format!(
            "{}/pg_ctl -D {}/data {args} >/dev/null",
            self.bin.display(),
            self.dir.path().display()
        ));
    }

    fn start_again(&self) {
        self.pg_ctl(&format!(
            "-o \"-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=on\" -l {}/log -w start",
            self.port,
            self.dir.path().display(),
            self.dir.path().display()
        ));
    }

    fn stop(&self) {
        self.pg_ctl("-m fast -w stop");
    }

    pub(crate) fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for OwnPostgres {
    fn drop(&mut self) {
        let _ = Command::new("sh")
            .args([
                "-c",
                &format!(
                    "{} {}/pg_ctl -D {}/data -m immediate stop >/dev/null 2>&1",
                    if is_root() { "su postgres -c" } else { "" },
                    self.bin.display(),
                    self.dir.path().display()
                ),
            ])
            .status();
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.trim_ascii() == b"0")
}

/// Customers on accounts with one active subscription: their cookies.
async fn customers(app: &TestApp, n: usize) -> Vec<String> {
    let mut cookies = Vec::new();
    for i in 0..n {
        let (_, user) = customer_mid_period(
            &app.db,
            &format!("Fault {i}"),
            &format!("fault{i}@demo.test"),
        )
        .await;
        cookies.push(session_cookie(&app.db, user, 70_000 + i).await);
    }
    cookies
}

#[derive(Default)]
struct Outcomes {
    ok: AtomicUsize,
    orders: AtomicUsize,
    /// Orders placed after `mark` was set.
    orders_after_mark: AtomicUsize,
    mark: AtomicBool,
    refused: AtomicUsize,
    unavailable: AtomicUsize,
    /// 503s whose body was not `AppError::Unavailable` (the clear sentence).
    unclear: AtomicUsize,
    server_errors: AtomicUsize,
    transport: AtomicUsize,
    slowest_ms: AtomicU64,
}

/// Customers ordering seat changes in a loop until `stop`.
fn order_load(
    app: &TestApp,
    cookies: Vec<String>,
    stop: Arc<AtomicBool>,
    out: Arc<Outcomes>,
) -> Vec<tokio::task::JoinHandle<()>> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap();
    cookies
        .into_iter()
        .map(|cookie| {
            let (client, base, stop, out) =
                (client.clone(), app.base.clone(), stop.clone(), out.clone());
            tokio::spawn(async move {
                let call = |endpoint: &'static str, body: Result<Value, Vec<(&'static str, String)>>| {
                    let req = client
                        .post(format!("{base}/api/{endpoint}"))
                        .header("Accept", "application/json")
                        .header("Cookie", &cookie);
                    let req = match body {
                        Ok(j) => req.json(&j),
                        Err(f) => req.form(&f),
                    };
                    let out = out.clone();
                    async move {
                        let started = Instant::now();
                        let r = match req.send().await {
                            Ok(r) => r,
                            Err(_) => {
                                out.transport.fetch_add(1, Ordering::Relaxed);
                                return None;
                            }
                        };
                        out.slowest_ms
                            .fetch_max(started.elapsed().as_millis() as u64, Ordering::Relaxed);
                        let status = r.status().as_u16();
                        let text = r.text().await.unwrap_or_default();
                        match status {
                            200 => {
                                out.ok.fetch_add(1, Ordering::Relaxed);
                                return serde_json::from_str::<Value>(&text).ok();
                            }
                            503 => {
                                out.unavailable.fetch_add(1, Ordering::Relaxed);
                                // The browser shows this variant's sentence.
                                if serde_json::from_str::<billing_center::error::AppError>(&text).ok()
                                    != Some(billing_center::error::AppError::Unavailable)
                                {
                                    eprintln!("503 {endpoint}: {text}");
                                    out.unclear.fetch_add(1, Ordering::Relaxed);
                                }
                            }
                            s if s >= 500 => {
                                out.server_errors.fetch_add(1, Ordering::Relaxed);
                                eprintln!("{endpoint}: {s} {text}");
                            }
                            _ => {
                                out.refused.fetch_add(1, Ordering::Relaxed);
                            }
                        }
                        None
                    }
                };
                while !stop.load(Ordering::Relaxed) {
                    let Some(overview) = call("overview", Ok(json!({}))).await else {
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    };
                    let card = &overview["cards"][0];
                    let (Some(id), Some(seats)) = (card["id"].as_i64(), card["seats"].as_i64())
                    else {
                        continue;
                    };
                    let item = json!({"item": {"type": "change", "subscription_id": id,
                        "plan": {"level": "business", "seats": (seats % 50) + 1, "frequency": "monthly"}}, "replace": true});
                    if call("put_cart_item", Ok(item)).await.is_none() {
                        continue;
                    }
                    let Some(checkout) = call("checkout", Ok(json!({}))).await else {
                        continue;
                    };
                    let form = vec![
                        ("key", checkout["idempotency_key"].as_str().unwrap_or("").to_string()),
                        (
                            "expected_total",
                            checkout["quote"]["totals"]["total_due"]["amount"].as_str().unwrap_or("").to_string(),
                        ),
                        ("cart_digest", checkout["cart_digest"].as_str().unwrap_or("").to_string()),
                    ];
                    if call("place_order", Err(form)).await.is_some() {
                        out.orders.fetch_add(1, Ordering::Relaxed);
                        if out.mark.load(Ordering::Relaxed) {
                            out.orders_after_mark.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
            })
        })
        .collect()
}

/// Pending orders left by a failure are released by the billing run once
/// their lease has run out; this moves their leases into the past instead
/// of waiting two minutes.
async fn expire_leases_and_run(app: &TestApp) {
    sqlx::query(
        "UPDATE orders SET lease_until = '2000-01-01T00:00:00.000Z' WHERE status = 'pending'",
    )
    .execute(&app.db.pool)
    .await
    .unwrap();
    billing_center::server::billing_run::run(
        &app.state(),
        billing_center::server::billing_run::AsOf::Now,
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn postgres_restarted_under_load_fails_cleanly_and_recovers_by_itself() {
    if !backends().contains(&billing_center::db::Backend::Postgres) {
        return; // no PostgreSQL on this machine (make test requires it)
    }
    let pg = OwnPostgres::start().expect("PostgreSQL binaries in /usr/lib/postgresql");
    let app = TestApp::spawn_on(&pg.url(), tempfile::tempdir().unwrap()).await;
    let cookies = customers(&app, 8).await;
    let stop = Arc::new(AtomicBool::new(false));
    let out = Arc::new(Outcomes::default());
    let load = order_load(&app, cookies, stop.clone(), out.clone());

    tokio::time::sleep(Duration::from_millis(1500)).await;
    let before = out.orders.load(Ordering::Relaxed);
    pg.stop();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let during = out.orders.load(Ordering::Relaxed) - before;
    pg.start_again();
    out.mark.store(true, Ordering::Relaxed);
    // The same server process, not restarted: orders go through again.
    let deadline = Instant::now() + Duration::from_secs(30);
    while out.orders_after_mark.load(Ordering::Relaxed) < 20 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    stop.store(true, Ordering::Relaxed);
    for l in load {
        l.await.unwrap();
    }
    let o = &out;
    let after = o.orders_after_mark.load(Ordering::Relaxed);
    println!(
        "postgres restart: {before} orders before, {during} while down, {after} after (same server process); {} answered 503 with the clear sentence, {} other 5xx, {} refused (4xx), {} connection errors, slowest answer {} ms",
        o.unavailable.load(Ordering::Relaxed),
        o.server_errors.load(Ordering::Relaxed),
        o.refused.load(Ordering::Relaxed),
        o.transport.load(Ordering::Relaxed),
        o.slowest_ms.load(Ordering::Relaxed),
    );
    assert!(before > 0, "no order before the restart");
    assert!(
        o.unavailable.load(Ordering::Relaxed) > 0,
        "nothing failed while PostgreSQL was down?"
    );
    assert_eq!(
        o.unclear.load(Ordering::Relaxed),
        0,
        "a 503 without the clear sentence"
    );
    assert_eq!(
        o.server_errors.load(Ordering::Relaxed),
        0,
        "a 500 while PostgreSQL restarted"
    );
    assert_eq!(
        o.transport.load(Ordering::Relaxed),
        0,
        "the server stopped answering"
    );
    assert!(
        after >= 20,
        "only {after} orders after PostgreSQL came back"
    );
    // Nothing half-written: every charge kept is a payment of a paid invoice.
    expire_leases_and_run(&app).await;
    let settled = app.state().gateway.settled().await.unwrap();
    assert_books(&app.db, "postgres restart", &settled).await;
}

#[tokio::test]
async fn sqlite_writers_in_three_processes_queue_instead_of_failing() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/contended.db", dir.path().display());
    let app = TestApp::spawn_on(&url, dir).await;
    let cookies = customers(&app, 8).await;
    // A month-end run in another process on the same file: 20 accounts × 3
    // subscriptions a year behind.
    let start = billing_center::server::clock::local_date(Utc::now(), "Europe/Paris")
        - chrono::Duration::days(365);
    for i in 0..20 {
        let (a, _) =
            online_account_with_card(&app.db, &format!("Run {i}"), &format!("run{i}@demo.test"))
                .await;
        for product in ["webinar", "meeting", "training"] {
            let level = if product == "meeting" {
                "business"
            } else {
                "starter"
            };
            let level = if product == "webinar" { "lite" } else { level };
            subscriptions::insert_subscription(
                &app.db,
                &active_monthly(a, product, level, start, 100),
            )
            .await
            .unwrap();
        }
    }
    let stop = Arc::new(AtomicBool::new(false));
    let out = Arc::new(Outcomes::default());
    let load = order_load(&app, cookies, stop.clone(), out.clone());
    let ledger = tempfile::NamedTempFile::new().unwrap();
    let bill = Command::new(env!("CARGO_BIN_EXE_billing-center"))
        .args(["bill"])
        .env("DATABASE_URL", &app.url)
        .env(
            "CATALOG_PATH",
            concat!(env!("CARGO_MANIFEST_DIR"), "/catalog.toml"),
        )
        .env("BC_TEST_GATEWAY_LEDGER", ledger.path())
        .env("RUST_LOG", "off")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // And a third writer holding the write lock for 1.5 s, twice.
    let mut holder = sqlx::AnyConnection::connect(&app.url).await.unwrap();
    for _ in 0..2 {
        tokio::time::sleep(Duration::from_millis(500)).await;
        holder.execute("BEGIN IMMEDIATE").await.unwrap();
        tokio::time::sleep(Duration::from_millis(1500)).await;
        holder.execute("COMMIT").await.unwrap();
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.store(true, Ordering::Relaxed);
    for l in load {
        l.await.unwrap();
    }
    let bill = bill.wait_with_output().unwrap();
    assert!(bill.status.success());
    let o = &out;
    let orders = o.orders.load(Ordering::Relaxed);
    println!(
        "sqlite contention: {orders} orders and {} answers in 4.5 s beside a billing run in another process ({}) and a third connection holding the write lock 2 × 1.5 s; {} 503, {} other 5xx; slowest answer {} ms",
        o.ok.load(Ordering::Relaxed),
        String::from_utf8_lossy(&bill.stdout).trim(),
        o.unavailable.load(Ordering::Relaxed),
        o.server_errors.load(Ordering::Relaxed),
        o.slowest_ms.load(Ordering::Relaxed),
    );
    assert!(orders > 10, "only {orders} orders");
    assert_eq!(o.unavailable.load(Ordering::Relaxed), 0, "a writer gave up");
    assert_eq!(o.server_errors.load(Ordering::Relaxed), 0);
    assert!(
        o.slowest_ms.load(Ordering::Relaxed) >= 1000,
        "no request waited for the held lock: the test held nothing"
    );
    // Both processes' charges against the books.
    let mut settled = app.state().gateway.settled().await.unwrap();
    settled.extend(
        billing_center::server::payments::TestGateway::persistent(ledger.path())
            .unwrap()
            .settled()
            .await
            .unwrap(),
    );
    assert_books(&app.db, "sqlite contention", &settled).await;
}

/// Past the busy timeout, SQLite's "database is locked" is a 503 with the
/// clear sentence, never the database's words. A real lock, a real error.
#[tokio::test]
async fn a_lock_held_past_the_busy_timeout_is_a_clear_unavailable() {
    sqlx::any::install_default_drivers();
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/locked.db?mode=rwc", dir.path().display());
    let mut holder = sqlx::AnyConnection::connect(&url).await.unwrap();
    holder.execute("CREATE TABLE t (x INTEGER)").await.unwrap();
    holder.execute("BEGIN IMMEDIATE").await.unwrap();
    let mut other = sqlx::AnyConnection::connect(&url).await.unwrap();
    other.execute("PRAGMA busy_timeout = 0").await.unwrap();
    let e = other.execute("INSERT INTO t VALUES (1)").await.unwrap_err();
    let db_error = billing_center::db::DbError::from(e);
    assert!(db_error.is_transient(), "{db_error}");
    let app_error = billing_center::error::AppError::from(db_error);
    assert_eq!(app_error, billing_center::error::AppError::Unavailable);
    let shown = app_error.to_string();
    assert!(!shown.to_lowercase().contains("lock") && !shown.contains("database"));
    assert_eq!(
        billing_center::server::error::status_of(&app_error),
        axum::http::StatusCode::SERVICE_UNAVAILABLE
    );
    holder.execute("ROLLBACK").await.unwrap();
}
