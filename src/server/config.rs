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
    /// charges in FILE so that they outlive a killed server (crash tests),
    /// `BC_TEST_GATEWAY_LATENCY_MS` makes each call take that long. Paced to
    /// `BC_GATEWAY_RATE_LIMIT` calls a second (default: 100, Stripe's live
    /// limit, with Stripe; none with the built-in gateway; 0: none).
    pub fn gateway(&self) -> Result<std::sync::Arc<dyn super::payments::PaymentGateway>, String> {
        use super::payments::{Paced, StripeGateway, TestGateway};
        // Stripe's documented live limit by default; the built-in gateway
        // has none unless asked (it would cap the benchmark's orders).
        let rate = |default| {
            u32::try_from(number("BC_GATEWAY_RATE_LIMIT", default)?)
                .map_err(|_| "BC_GATEWAY_RATE_LIMIT is too large".to_string())
        };
        if let Some(stripe) = self.stripe()? {
            let gateway = StripeGateway::new(stripe)?;
            let paced = Paced::new(std::sync::Arc::new(gateway), rate(100)?);
            return Ok(std::sync::Arc::new(paced));
        }
        let gateway = match std::env::var("BC_TEST_GATEWAY_LEDGER")
            .ok()
            .filter(|p| !p.is_empty())
        {
            Some(path) => TestGateway::persistent(std::path::Path::new(&path))
                .map_err(|e| format!("cannot open BC_TEST_GATEWAY_LEDGER {path}: {e}"))?,
            None => TestGateway::default(),
        };
        let latency = number("BC_TEST_GATEWAY_LATENCY_MS", 0)?;
        let gateway = gateway.with_latency(std::time::Duration::from_millis(latency));
        let paced = Paced::new(std::sync::Arc::new(gateway), rate(0)?);
        Ok(std::sync::Arc::new(paced))
    }

    /// Stripe, when `STRIPE_SECRET_KEY` is set: then the publishable key
    /// and the webhook secret are required too; `STRIPE_API_BASE` and
    /// `STRIPE_JS_URL` point elsewhere than Stripe (the tests' localstripe).
    pub fn stripe(&self) -> Result<Option<super::payments::StripeConfig>, String> {
        use super::payments::stripe::{STRIPE_API_BASE, STRIPE_JS_URL};
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
        let Some(secret_key) = var("STRIPE_SECRET_KEY") else {
            return Ok(None);
        };
        let required = |k: &str| var(k).ok_or(format!("{k} is required with STRIPE_SECRET_KEY"));
        let url = |k: &str, default: &str| {
            let v = var(k).unwrap_or_else(|| default.to_string());
            url::Url::parse(&v)
                .map(|_| v.trim_end_matches('/').to_string())
                .map_err(|e| format!("{k} is not a URL ({e})"))
        };
        Ok(Some(super::payments::StripeConfig {
            secret_key,
            publishable_key: required("STRIPE_PUBLISHABLE_KEY")?,
            webhook_secret: required("STRIPE_WEBHOOK_SECRET")?,
            api_base: url("STRIPE_API_BASE", STRIPE_API_BASE)?,
            // Stripe.js's address ends with a slash; kept as given.
            js_url: var("STRIPE_JS_URL").unwrap_or_else(|| STRIPE_JS_URL.to_string()),
        }))
    }

    /// How many charges the billing run has in flight at once
    /// (`BC_GATEWAY_CONCURRENCY`, default 8, at least 1).
    pub fn gateway_concurrency(&self) -> Result<usize, String> {
        match number("BC_GATEWAY_CONCURRENCY", 8)? {
            0 => Err("BC_GATEWAY_CONCURRENCY must be at least 1".into()),
            n => usize::try_from(n).map_err(|_| "BC_GATEWAY_CONCURRENCY is too large".into()),
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

    /// The origins a portal link's `return_url` may lead to
    /// (`BC_RETURN_ORIGINS`, comma separated, e.g.
    /// `https://app.example.com`): nowhere else, or a link would send
    /// users to any site.
    pub fn return_origins(&self) -> Vec<String> {
        std::env::var("BC_RETURN_ORIGINS")
            .unwrap_or_default()
            .split(',')
            .filter_map(|o| url::Url::parse(o.trim()).ok())
            .map(|u| u.origin().ascii_serialization())
            .collect()
    }

    /// Outgoing webhook delivery: `BC_WEBHOOK_TIMEOUT_MS` per call
    /// (default 10,000), `BC_WEBHOOK_RETRY_BASE_MS` before the first retry
    /// (default 10,000, doubling), and a round every `BC_WEBHOOK_POLL_MS`
    /// (default 1,000).
    pub fn webhooks(
        &self,
    ) -> Result<(super::outgoing_webhooks::Settings, std::time::Duration), String> {
        let ms = |key, default| {
            number(key, default).and_then(|n| match n {
                0 => Err(format!("{key} must be at least 1")),
                n => Ok(std::time::Duration::from_millis(n)),
            })
        };
        let settings = super::outgoing_webhooks::Settings {
            timeout: ms("BC_WEBHOOK_TIMEOUT_MS", 10_000)?,
            retry_base: chrono::Duration::from_std(ms("BC_WEBHOOK_RETRY_BASE_MS", 10_000)?)
                .map_err(|_| "BC_WEBHOOK_RETRY_BASE_MS is too large".to_string())?,
        };
        Ok((settings, ms("BC_WEBHOOK_POLL_MS", 1_000)?))
    }

    /// `BC_TRUSTED_PROXIES`: the reverse proxies (CIDRs, comma separated)
    /// whose `Forwarded` / `X-Forwarded-For` name the client; none by default.
    pub fn trusted_proxies(&self) -> Result<super::client_address::TrustedProxies, String> {
        super::client_address::TrustedProxies::parse(
            &std::env::var("BC_TRUSTED_PROXIES").unwrap_or_default(),
        )
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

/// A whole number from the environment variable `key`, `default` when it
/// is unset; an error naming the variable when it is not a number.
fn number(key: &str, default: u64) -> Result<u64, String> {
    match std::env::var(key).ok().filter(|v| !v.trim().is_empty()) {
        None => Ok(default),
        Some(v) => v
            .trim()
            .parse()
            .map_err(|_| format!("{key} must be a whole number, not {v:?}")),
    }
}
