//! Prometheus metrics on a listener of their own (`metrics.listen`,
//! `BC_METRICS_ADDR`; off by default), never on the public port: request
//! counts and latencies per route, the billing run's renewals, failures
//! and duration, the outboxes' depths, payment and sign-in failures.
//! Without the listener the recording calls do nothing.
#![allow(
    clippy::disallowed_types,
    reason = "Prometheus samples are floats; no money is recorded here"
)]

use std::time::Duration;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use super::state::AppState;

/// Seconds: from a fast page to a slow gateway.
const LATENCY_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];
const RUN_BUCKETS: &[f64] = &[0.1, 1.0, 10.0, 60.0, 300.0, 900.0, 3600.0];

/// Set once the recorder is installed: without it the per-request labels
/// are not even built.
static ON: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

pub fn install() -> Result<PrometheusHandle, String> {
    ON.store(true, std::sync::atomic::Ordering::Relaxed);
    PrometheusBuilder::new()
        .set_buckets_for_metric(
            Matcher::Full("http_request_duration_seconds".into()),
            LATENCY_BUCKETS,
        )
        .and_then(|b| {
            b.set_buckets_for_metric(
                Matcher::Full("billing_run_duration_seconds".into()),
                RUN_BUCKETS,
            )
        })
        .map_err(|e| e.to_string())?
        .install_recorder()
        .map_err(|e| format!("metrics: {e}"))
}

pub fn request(method: &str, route: &str, status: u16, elapsed: Duration) {
    if !ON.load(std::sync::atomic::Ordering::Relaxed) {
        return;
    }
    let labels = [
        ("method", method.to_string()),
        ("route", route.to_string()),
        ("status", status.to_string()),
    ];
    metrics::counter!("http_requests_total", &labels).increment(1);
    metrics::histogram!(
        "http_request_duration_seconds",
        "method" => method.to_string(),
        "route" => route.to_string()
    )
    .record(elapsed.as_secs_f64());
}

pub fn billing_run(report: &super::billing_run::RunReport, elapsed: Duration) {
    metrics::counter!("billing_run_renewals_total").increment(u64::from(report.renewed));
    metrics::counter!("billing_run_failed_payments_total")
        .increment(u64::from(report.failed_payments));
    metrics::counter!("billing_run_skipped_total").increment(report.skipped_invalid.len() as u64);
    metrics::counter!("billing_runs_total").increment(1);
    metrics::histogram!("billing_run_duration_seconds").record(elapsed.as_secs_f64());
}

pub fn billing_run_failed() {
    metrics::counter!("billing_run_errors_total").increment(1);
}

/// A declined or failed charge of an order or an invoice paid in the
/// portal (the billing run's are counted by [`billing_run`]).
pub fn payment_failed(purpose: &'static str) {
    metrics::counter!("payment_failures_total", "purpose" => purpose).increment(1);
}

pub fn sign_in_failed() {
    metrics::counter!("sign_in_failures_total").increment(1);
}

/// `GET /metrics` on the metrics listener: the recorded series, and the
/// outboxes' depths read now.
async fn scrape(state: AppState, handle: PrometheusHandle) -> String {
    match crate::db::outbox::pending_count(&state.db).await {
        Ok(n) => metrics::gauge!("email_outbox_pending").set(n as f64),
        Err(e) => tracing::warn!(error = %e, "metrics: outbox depth unavailable"),
    }
    match crate::db::webhooks::pending_count(&state.db).await {
        Ok(n) => metrics::gauge!("webhook_deliveries_pending").set(n as f64),
        Err(e) => tracing::warn!(error = %e, "metrics: webhook queue depth unavailable"),
    }
    handle.run_upkeep();
    handle.render()
}

/// Serves `/metrics` on `listener` until the stop.
pub fn spawn(
    listener: tokio::net::TcpListener,
    state: AppState,
    handle: PrometheusHandle,
) -> tokio::task::JoinHandle<()> {
    let stopping = state.stopping.clone();
    let app = axum::Router::new().route(
        "/metrics",
        axum::routing::get(move || scrape(state.clone(), handle.clone())),
    );
    tokio::spawn(async move {
        let served = axum::serve(listener, app)
            .with_graceful_shutdown(async move { stopping.wait().await })
            .await;
        if let Err(e) = served {
            tracing::error!(error = %e, "metrics listener failed");
        }
    })
}
