//! A small closed-loop load generator: `connections` workers, each sending
//! its next request when the previous one answered, until a deadline or a
//! request budget. Runs in the bench process, a separate process from the
//! server under test.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

#[derive(Clone, Debug, Default)]
pub struct LoadResult {
    pub requests: usize,
    pub errors: usize,
    pub elapsed_ms: u128,
    /// Latencies in microseconds, sorted.
    pub latencies_us: Vec<u128>,
}

impl LoadResult {
    pub fn per_second(&self) -> u128 {
        (self.requests as u128 * 1000) / self.elapsed_ms.max(1)
    }

    /// Adds another stretch of the same load (its requests, errors, time
    /// and latencies).
    pub fn merge(&mut self, other: LoadResult) {
        self.requests += other.requests;
        self.errors += other.errors;
        self.elapsed_ms += other.elapsed_ms;
        self.latencies_us.extend(other.latencies_us);
        self.latencies_us.sort_unstable();
    }

    pub fn percentile_us(&self, p: usize) -> u128 {
        if self.latencies_us.is_empty() {
            return 0;
        }
        let i = (self.latencies_us.len() * p / 100).min(self.latencies_us.len() - 1);
        self.latencies_us[i]
    }
}

/// Runs `request(worker, seq)` (`seq`: this request's number across all
/// workers, from 0) from `connections` workers for `duration` or
/// until `max_requests` were sent; a request returning `false` counts as an
/// error.
pub async fn run<F, Fut>(
    connections: usize,
    duration: Duration,
    max_requests: usize,
    request: F,
) -> LoadResult
where
    F: Fn(usize, usize) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = bool> + Send,
{
    let request = Arc::new(request);
    let sent = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let deadline = start + duration;
    let mut tasks = Vec::new();
    for worker in 0..connections {
        let request = request.clone();
        let sent = sent.clone();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut errors = 0;
            while Instant::now() < deadline {
                let seq = sent.fetch_add(1, Ordering::SeqCst);
                if seq >= max_requests {
                    break;
                }
                let t0 = Instant::now();
                if !request(worker, seq).await {
                    errors += 1;
                }
                latencies.push(t0.elapsed().as_micros());
            }
            (latencies, errors)
        }));
    }
    let mut result = LoadResult::default();
    for t in tasks {
        let (l, e) = t.await.unwrap();
        result.requests += l.len();
        result.errors += e;
        result.latencies_us.extend(l);
    }
    result.elapsed_ms = start.elapsed().as_millis();
    result.latencies_us.sort_unstable();
    result
}
