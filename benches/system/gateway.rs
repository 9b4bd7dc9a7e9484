//! The billing run against a gateway with a provider's latency: its time
//! against what bounds it, the charges in flight (`renewals / concurrency
//! × latency`) or the provider's rate limit (`renewals / limit`),
//! whichever is longer.

use std::sync::Arc;
use std::time::{Duration, Instant};

use billing_center::db::Backend;
use billing_center::server::billing_run::{AsOf, run};
use billing_center::server::payments::{Paced, TestGateway};
use billing_center::server::state::{AppState, Services};

use crate::report::Report;
use crate::{Settings, fixtures, name};

pub async fn billing_run(s: &Settings, r: &mut Report, backend: Backend) {
    let n: usize = std::env::var("BENCH_GATEWAY_RENEWALS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if s.quick { 48 } else { 10_000 });
    let latency = Duration::from_millis(
        std::env::var("BENCH_GATEWAY_LATENCY_MS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(150),
    );
    let (concurrency, limit) = (8usize, 100u32);
    let dir = tempfile::tempdir().unwrap();
    let due = billing_center::server::clock::local_date(chrono::Utc::now(), "Europe/Paris");
    let (url, db) = fixtures::fresh(backend, dir.path(), s.pg.as_deref()).await;
    fixtures::due_subscriptions(&db, n, due).await;
    let offline = billing_center::server::startup::offline_state(
        &billing_center::server::config::Config::with_database(&url),
    )
    .await
    .unwrap();
    let gateway = TestGateway::default().with_latency(latency);
    let state = AppState::new(Services {
        gateway: Arc::new(Paced::new(Arc::new(gateway), limit)),
        gateway_concurrency: concurrency,
        stripe: None,
        ..(*offline).clone()
    });
    let t0 = Instant::now();
    let report = run(&state, AsOf::Date(due)).await.unwrap();
    let elapsed = t0.elapsed();
    assert_eq!(report.renewed as usize, n, "{report:?}");
    // Milliseconds, in integers (no floats in this crate).
    let n_ms = n as u128;
    let in_flight = n_ms * latency.as_millis() / concurrency as u128;
    let paced = n_ms * 1000 / u128::from(limit);
    let bound = in_flight.max(paced);
    let took = elapsed.as_millis();
    let hundredths = took * 100 / bound.max(1);
    let s = |ms: u128| format!("{}.{} s", ms / 1000, ms % 1000 / 100);
    r.row(
        format!(
            "billing run, {n} renewals, gateway answering in {} ms, {concurrency} charges in flight, limit {limit}/s, {}",
            latency.as_millis(),
            name(backend)
        ),
        s(took),
        format!(
            "bound: {} (in flight {}, rate limit {}); one charge at a time: {}",
            s(bound),
            s(in_flight),
            s(paced),
            s(n_ms * latency.as_millis())
        ),
        format!("{}.{:02} × the bound", hundredths / 100, hundredths % 100),
        "≤ 1.25 × the bound",
        Some(hundredths <= 125),
    );
}
