//! One log line per request (method, route, status, latency, request id;
//! JSON with `BC_LOG_FORMAT=json`) and its metrics. The route is the
//! pattern (`/portal/{token}`), never the path, so that no token reaches
//! the logs; the request id comes from a proxy's `X-Request-Id` when it
//! looks like one, and is sent back.

use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;

const REQUEST_ID: &str = "x-request-id";

pub async fn log_requests(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().as_str().to_string();
    let route = match request.extensions().get::<MatchedPath>() {
        Some(p) => p.as_str().to_string(),
        // The fallback: a site file or a page that does not exist.
        None if request.uri().path().starts_with("/pkg/") => "/pkg/{file}".to_string(),
        None => "(unmatched)".to_string(),
    };
    let id = request
        .headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            (1..=64).contains(&v.len())
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
        })
        .map(str::to_string)
        .unwrap_or_else(new_id);
    let span = tracing::info_span!("request", request_id = %id);
    let mut response = next.run(request).instrument(span).await;
    let elapsed = started.elapsed();
    let status = response.status().as_u16();
    tracing::info!(
        target: "billing_center::request",
        method = %method,
        route = %route,
        status,
        latency_ms = elapsed.as_millis() as u64,
        request_id = %id,
        "request"
    );
    super::metrics::request(&method, &route, status, elapsed);
    if let Ok(v) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID, v);
    }
    response
}

/// This process's random prefix and a counter: unique without a system
/// call per request.
fn new_id() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static PREFIX: std::sync::OnceLock<u32> = std::sync::OnceLock::new();
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let prefix = PREFIX.get_or_init(|| {
        use rand::RngCore;
        rand::rngs::OsRng.next_u32()
    });
    format!(
        "req_{prefix:08x}{:08x}",
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}
