//! `make bench`: system benchmarks on this machine, each figure next to a
//! baseline measured in the same run, written to `bench/RESULTS.md`.
//!
//! Environment (set by `scripts/bench.sh`): `BENCH_POSTGRES_URL` (admin URL
//! of a throwaway server), `BENCH_SERVER_BIN` and `BENCH_SITE_ROOT` (the
//! release build), `BENCH_SIZES` (billing-run sizes, default 10000,100000),
//! `BENCH_PG_SIZES` (the same for PostgreSQL, default `BENCH_SIZES`),
//! `BENCH_QUICK=1` (tiny sizes: the smoke run of the test suite),
//! `BENCH_OUT` (default bench/RESULTS.md), `BENCH_ONLY` (comma-separated parts
//! among `billing,history,ssr,orders,size`, for profiling one of them),
//! `BENCH_ORDERS` (orders placed, default 3,000: more for a longer profile).

mod baseline;
mod durability;
mod fixtures;
mod gateway;
mod http;
mod load;
mod report;

use std::time::{Duration, Instant};

use billing_center::db::Backend;
use billing_center::server::billing_run::{AsOf, run_timed};

use report::{Report, percent};

// The billing run runs in this process: measure it with the allocator of the
// shipped binary (`src/main.rs`), not glibc's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

pub struct Settings {
    pub pg: Option<String>,
    pub sizes: Vec<usize>,
    pub pg_sizes: Vec<usize>,
    pub history: (usize, usize),
    pub quick: bool,
    pub server_bin: Option<std::path::PathBuf>,
    pub site_root: std::path::PathBuf,
    pub load_time: Duration,
    pub orders: usize,
    only: Option<Vec<String>>,
}

impl Settings {
    fn from_env() -> Settings {
        let quick = std::env::var("BENCH_QUICK").as_deref() == Ok("1");
        let sizes = std::env::var("BENCH_SIZES")
            .ok()
            .map(|s| s.split(',').filter_map(|n| n.trim().parse().ok()).collect())
            .unwrap_or_else(|| {
                if quick {
                    vec![300]
                } else {
                    vec![10_000, 100_000]
                }
            });
        let pg_sizes = std::env::var("BENCH_PG_SIZES")
            .ok()
            .map(|s| s.split(',').filter_map(|n| n.trim().parse().ok()).collect())
            .unwrap_or_else(|| sizes.clone());
        Settings {
            pg_sizes,
            pg: std::env::var("BENCH_POSTGRES_URL")
                .ok()
                .filter(|u| !u.is_empty()),
            sizes,
            history: if quick {
                (1_000, 5_000)
            } else {
                (1_000, 1_000_000)
            },
            quick,
            server_bin: std::env::var("BENCH_SERVER_BIN").ok().map(Into::into),
            site_root: std::env::var("BENCH_SITE_ROOT")
                .unwrap_or_else(|_| "target/site".into())
                .into(),
            load_time: Duration::from_secs(if quick { 1 } else { 20 }),
            orders: std::env::var("BENCH_ORDERS")
                .ok()
                .and_then(|n| n.parse().ok())
                .unwrap_or(if quick { 40 } else { 3_000 }),
            only: std::env::var("BENCH_ONLY")
                .ok()
                .map(|s| s.split(',').map(|p| p.trim().to_string()).collect()),
        }
    }

    /// Whether this part of the benchmark runs (all unless `BENCH_ONLY`).
    pub fn runs(&self, part: &str) -> bool {
        self.only
            .as_ref()
            .is_none_or(|parts| parts.iter().any(|p| p == part))
    }

    pub fn backends(&self) -> Vec<Backend> {
        let mut b = vec![Backend::Sqlite];
        if self.pg.is_some() {
            b.push(Backend::Postgres);
        }
        b
    }
}

pub fn name(b: Backend) -> &'static str {
    match b {
        Backend::Sqlite => "SQLite",
        Backend::Postgres => "PostgreSQL",
    }
}

/// Rows per second, in integers.
pub fn rate(count: usize, elapsed: Duration) -> u128 {
    count as u128 * 1_000_000 / elapsed.as_micros().max(1)
}

/// The billing run over `n` due subscriptions, then (with a server binary)
/// place order on the database it leaves: (renewals/s, orders/s).
async fn billing_run(
    s: &Settings,
    r: &mut Report,
    backend: Backend,
    n: usize,
) -> (u128, Option<u128>) {
    let dir = tempfile::tempdir().unwrap();
    // Due today: the server started on this database afterwards (place
    // order at scale) then finds nothing left to renew in its own run.
    let due = billing_center::server::clock::local_date(chrono::Utc::now(), "Europe/Paris");
    let (url, db) = fixtures::fresh(backend, dir.path(), s.pg.as_deref()).await;
    fixtures::due_subscriptions(&db, n, due).await;
    let state = billing_center::server::startup::offline_state(
        &billing_center::server::config::Config::with_database(&url),
    )
    .await
    .unwrap();
    let t0 = Instant::now();
    let (report, times) = run_timed(&state, AsOf::Date(due)).await.unwrap();
    let elapsed = t0.elapsed();
    assert_eq!(report.renewed as usize, n, "{report:?}");
    let renewals = rate(n, elapsed);
    let orders = match (&s.server_bin, s.runs("orders")) {
        (Some(bin), true) => Some(http::orders_at_scale(s, bin, &url, &db).await),
        _ => None,
    };

    // Baseline: the same number of invoice rows, bulk-inserted.
    let (_, base_db) = fixtures::fresh(backend, dir.path(), s.pg.as_deref()).await;
    let (account, _) = fixtures::accounts(&base_db, 1, "x").await[0];
    let t0 = Instant::now();
    fixtures::insert_rows(
        &base_db,
        "invoices",
        fixtures::INVOICE_COLUMNS,
        fixtures::invoice_rows(account, 1, n),
    )
    .await;
    let bulk = rate(n, t0.elapsed());
    let (tenths, ratio) = percent(renewals, bulk);
    let what = format!("billing run, {n} due subscriptions, {}", name(backend));
    let figure = format!("{renewals} renewals/s ({} ms)", elapsed.as_millis());
    let baseline = format!("bulk insert of {n} invoice rows: {bulk} rows/s");
    // The floor under the run: its writing alone (six rows per renewal in
    // one transaction per page), without the reads and the planning.
    let writes = rate(n, times.writing);
    let (_, floor_ratio) = percent(writes, bulk);
    let ms = |d: Duration| d.as_millis();
    match backend {
        Backend::Sqlite => {
            r.row(
                &what,
                &figure,
                "",
                "",
                "≥ 2,000 renewals/s",
                Some(renewals >= 2_000),
            );
            r.row(
                what,
                figure,
                baseline,
                ratio,
                "≥ 30 % of the bulk insert",
                Some(tenths >= 300),
            );
        }
        Backend::Postgres => r.row(what, figure, baseline, ratio, "report", None),
    }
    r.row(
        format!(
            "floor under the billing run: its writing alone (subscription, invoice, line, payment, email, audit per renewal), {n}, {}",
            name(backend)
        ),
        format!(
            "{writes} renewals/s (writing {} ms of {} ms; reading {} ms, planning {} ms)",
            ms(times.writing),
            ms(elapsed),
            ms(times.reading),
            ms(times.planning)
        ),
        "bulk insert (above)",
        floor_ratio,
        "report",
        None,
    );
    (renewals, orders)
}

async fn history(s: &Settings, r: &mut Report, backend: Backend) {
    use billing_center::db::invoices::invoices;
    let dir = tempfile::tempdir().unwrap();
    let (_, db) = fixtures::fresh(backend, dir.path(), s.pg.as_deref()).await;
    let (account, _) = fixtures::accounts(&db, 1, "x").await[0];
    let (small, big) = s.history;
    let p50 = |db: billing_center::db::Db| async move {
        // The first page and a page deep in the history, alternately.
        let (mid,): (i64,) = sqlx::query_as("SELECT CAST(MAX(id) / 2 AS BIGINT) FROM invoices")
            .fetch_one(&db.pool)
            .await
            .unwrap();
        let mut times = Vec::new();
        for i in 0..400 {
            let before = if i % 2 == 0 {
                None
            } else {
                Some(billing_center::domain::InvoiceId::new(mid))
            };
            let t0 = Instant::now();
            let page = invoices(
                &db,
                billing_center::domain::AccountId::new(account),
                before,
                21,
            )
            .await
            .unwrap();
            times.push(t0.elapsed().as_micros());
            assert_eq!(page.len(), 21);
        }
        times.sort_unstable();
        times[times.len() / 2]
    };
    fixtures::insert_rows(
        &db,
        "invoices",
        fixtures::INVOICE_COLUMNS,
        fixtures::invoice_rows(account, 1, small),
    )
    .await;
    let at_small = p50(db.clone()).await;
    fixtures::insert_rows(
        &db,
        "invoices",
        fixtures::INVOICE_COLUMNS,
        fixtures::invoice_rows(account, small as i64 + 1, big - small),
    )
    .await;
    let at_big = p50(db.clone()).await;
    let (tenths, _) = percent(at_big, at_small);
    r.row(
        format!("invoice history page at {big} invoices, {}", name(backend)),
        format!("p50 {at_big} µs"),
        format!("itself at {small} invoices: p50 {at_small} µs"),
        format!("{}.{}×", tenths / 1000, (tenths % 1000) / 100),
        "≤ 2×",
        Some(tenths <= 2000),
    );
}

#[tokio::main]
async fn main() {
    // `cargo test --all-targets` runs bench binaries too, without `--bench`:
    // the system benchmark runs only when asked (`cargo bench`, make bench).
    if !std::env::args().any(|a| a == "--bench") {
        eprintln!("system benchmark: skipped (run it with `make bench`)");
        return;
    }
    let s = Settings::from_env();
    let mut r = Report::default();
    let started = Instant::now();
    let grounds = durability::header(&s).await;

    let mut scaling = String::from(
        "| subscriptions | backend | billing run: renewals/s | place order on that database: orders/s (8 connections, 1,000 orders, 20 in the quick run) |\n|---|---|---|---|\n",
    );
    for backend in s.backends() {
        let sizes = match backend {
            Backend::Sqlite => &s.sizes,
            Backend::Postgres => &s.pg_sizes,
        };
        for &n in sizes.iter().filter(|_| s.runs("billing")) {
            let (renewals, orders) = billing_run(&s, &mut r, backend, n).await;
            let orders = orders
                .map(|o| o.to_string())
                .unwrap_or_else(|| "not run".into());
            scaling.push_str(&format!(
                "| {n} | {} | {renewals} | {orders} |\n",
                name(backend)
            ));
        }
        if s.runs("history") {
            history(&s, &mut r, backend).await;
        }
        if s.runs("gateway") {
            gateway::billing_run(&s, &mut r, backend).await;
        }
    }
    r.section(
        "Scaling with the number of subscriptions",
        format!(
            "The cost per renewal and per order must not grow with the total: each row's \
             database holds that many subscriptions (renewed once, so as many invoices).\n\n{scaling}"
        ),
    );

    if let Some(bin) = &s.server_bin {
        http::all(&s, &mut r, bin).await;
    } else {
        eprintln!("bench: BENCH_SERVER_BIN not set: HTTP benchmarks skipped");
    }
    if s.runs("size") {
        http::client_size(&s, &mut r);
    }

    let commit = std::process::Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    let cpus = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    let header = format!(
        "# Benchmark results\n\nGenerated by `make bench` on {} (commit {commit}); machine: {cpus} CPUs, {}; \
         took {} s{}.\n\nEach figure comes with a baseline measured in the same run on the same machine: \
         compare ratios, not absolute times (the machine is shared).\n",
        chrono::Utc::now().format("%Y-%m-%d %H:%M UTC"),
        std::env::consts::OS,
        started.elapsed().as_secs(),
        if s.quick {
            " (QUICK smoke run: tiny sizes, figures meaningless)"
        } else {
            ""
        }
    ) + "\n"
        + &grounds;
    let out = std::env::var("BENCH_OUT").unwrap_or_else(|_| "bench/RESULTS.md".into());
    if let Some(parent) = std::path::Path::new(&out).parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(&out, r.markdown(&header)).unwrap();
    eprintln!("bench: wrote {out}");
}
