//! Configuration from the environment, with defaults that run the demo.

use std::path::PathBuf;

pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/billing-center.db";

#[derive(Clone, Debug)]
pub struct Config {
    pub database_url: String,
    pub catalog_path: PathBuf,
}

impl Config {
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
