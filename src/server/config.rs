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
