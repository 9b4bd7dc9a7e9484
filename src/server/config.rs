//! Configuration from the environment, with defaults that run the demo.

use std::path::PathBuf;

pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/billing-center.db";

#[derive(Clone, Debug)]
pub struct Config {
    pub database_url: String,
    pub catalog_path: PathBuf,
}

impl Config {
    /// `BC_FAKE_NOW=2026-11-26T10:00:00Z` freezes the clock (demos, tests).
    pub fn clock(&self) -> std::sync::Arc<dyn super::clock::Clock> {
        match std::env::var("BC_FAKE_NOW")
            .ok()
            .and_then(|t| t.parse().ok())
        {
            Some(t) => std::sync::Arc::new(super::clock::FixedClock(t)),
            None => std::sync::Arc::new(super::clock::SystemClock),
        }
    }

    /// The built-in test gateway; `BC_TEST_GATEWAY_LEDGER=FILE` keeps its
    /// charges in FILE so that they outlive a killed server (crash tests).
    pub fn gateway(&self) -> Result<std::sync::Arc<dyn super::payments::PaymentGateway>, String> {
        use super::payments::TestGateway;
        match std::env::var("BC_TEST_GATEWAY_LEDGER")
            .ok()
            .filter(|p| !p.is_empty())
        {
            Some(path) => TestGateway::persistent(std::path::Path::new(&path))
                .map(|g| std::sync::Arc::new(g) as _)
                .map_err(|e| format!("cannot open BC_TEST_GATEWAY_LEDGER {path}: {e}")),
            None => Ok(std::sync::Arc::new(TestGateway::default())),
        }
    }

    /// How long an order's claim on its key lasts before another request
    /// (or the billing run) may take it over: longer than any charge and
    /// commit. `BC_ORDER_LEASE_SECONDS` shortens it for the crash tests.
    pub fn order_lease(&self) -> chrono::Duration {
        let seconds = std::env::var("BC_ORDER_LEASE_SECONDS")
            .ok()
            .and_then(|s| s.parse().ok())
            .filter(|s| *s > 0)
            .unwrap_or(120);
        chrono::Duration::seconds(seconds)
    }

    pub fn from_env() -> Self {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
        Config {
            database_url: var("DATABASE_URL").unwrap_or_else(|| DEFAULT_DATABASE_URL.into()),
            catalog_path: var("CATALOG_PATH")
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from("catalog.toml")),
        }
    }
}
