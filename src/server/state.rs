use std::sync::Arc;

use axum::extract::FromRef;
use leptos::prelude::*;

use crate::billing::Catalog;
use crate::db::Db;
use crate::error::AppError;

/// Everything a request handler needs; built once at start and handed to
/// server functions through Leptos context (no global pools). Shared: a
/// request clones it several times (its context, each server function), and
/// copying the services field by field was 2-3 % of a page's CPU.
#[derive(Clone, Debug)]
pub struct AppState(Arc<Services>);

impl AppState {
    pub fn new(services: Services) -> AppState {
        AppState(Arc::new(services))
    }
}

impl std::ops::Deref for AppState {
    type Target = Services;
    fn deref(&self) -> &Services {
        &self.0
    }
}

/// Leptos's handlers take their options from the state.
impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> LeptosOptions {
        state.leptos_options.clone()
    }
}

/// Clone: a test or benchmark makes a variant (another gateway) with
/// `Services { gateway, ..(*state).clone() }`.
#[derive(Clone, Debug)]
pub struct Services {
    pub leptos_options: LeptosOptions,
    pub db: Db,
    pub catalog: Arc<Catalog>,
    pub clock: Arc<dyn super::clock::Clock>,
    pub gateway: Arc<dyn super::payments::PaymentGateway>,
    /// See `Config::order_lease`; the billing run's claims on the
    /// subscriptions it charges last as long.
    pub order_lease: chrono::Duration,
    /// How many charges the billing run has in flight at once
    /// (`Config::gateway_concurrency`).
    pub gateway_concurrency: usize,
    /// Stripe's settings when it is the gateway (the pages load Stripe.js,
    /// the webhook checks signatures); `None`: the built-in test gateway.
    pub stripe: Option<super::payments::StripeConfig>,
    /// This installation's id (`db::gateway::installation_id`), part of
    /// every payment reference.
    pub installation: String,
    /// The origins a portal link's `return_url` may lead to
    /// (`Config::return_origins`).
    pub return_origins: Vec<String>,
    /// The proxies whose forwarding headers name the client
    /// (`Config::trusted_proxies`).
    pub trusted_proxies: super::client_address::TrustedProxies,
    /// Set once the process is asked to stop: the billing run ends after
    /// its current batch (`shutdown`).
    pub stopping: super::shutdown::Stopping,
    /// The seller, the brand and the public URL (`Config::identity`).
    pub identity: Arc<super::identity::Identity>,
    /// The help articles (`Config::help`).
    pub help: Arc<super::help::Library>,
    /// The client's files, embedded or read at start.
    pub site_files: Arc<super::site_files::SiteFiles>,
}

impl Services {
    /// A new lease on an order claim: its expiry as stored text (text order
    /// is time order) and a random suffix, which makes the value the
    /// holder's token; only the holder's commit or release matches it.
    pub fn order_lease_token(&self) -> String {
        use rand::RngCore;
        let until = crate::db::instant_text(chrono::Utc::now() + self.order_lease);
        format!("{until}#{:016x}", rand::rngs::OsRng.next_u64())
    }

    /// A billing runner's lease on the subscriptions it charges: its expiry
    /// and this process's id ([`runner_id`]).
    pub fn run_lease_token(&self) -> String {
        let until = crate::db::instant_text(chrono::Utc::now() + self.order_lease);
        format!("{until}#{}", runner_id())
    }
}

/// This process's id as a billing runner, random at start: its own claims
/// left by a run it abandoned (a timeout, a dropped future) are its to take
/// again at once; another process's wait for their lease to run out.
pub fn runner_id() -> &'static str {
    static ID: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    ID.get_or_init(|| {
        use rand::RngCore;
        format!("run{:016x}", rand::rngs::OsRng.next_u64())
    })
}

/// The state inside a server function.
pub fn current() -> Result<AppState, AppError> {
    use_context::<AppState>().ok_or_else(|| {
        tracing::error!("AppState missing from the Leptos context");
        AppError::Internal
    })
}
