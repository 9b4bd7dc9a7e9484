//! Server-only code: configuration, shared state, the HTTP app and the
//! command line. Nothing here is compiled into the WASM client.

pub mod accounts;
pub mod api_keys;
pub mod auth;
pub mod backup;
pub mod billing;
pub mod billing_run;
pub mod brand;
pub mod charges;
pub mod cli;
pub mod client_address;
pub mod clock;
pub mod config;
pub mod csrf;
pub mod documents;
pub mod email;
pub mod error;
pub mod headers;
pub mod help;
pub mod identity;
pub mod import;
pub mod invoice_pdf;
pub mod lang;
pub mod mailer;
pub mod metrics;
pub mod outgoing_webhooks;
pub mod passwords;
pub mod payment_setup;
pub mod payments;
pub mod pdf;
pub mod portal;
pub mod purge;
pub mod request_log;
pub mod seed;
pub mod shutdown;
pub mod site_files;
pub mod startup;
pub mod state;
/// Incoming: Stripe's webhooks (`/webhooks/stripe`).
pub mod webhooks;
