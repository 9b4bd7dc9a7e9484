//! The billing rules: pure functions, no I/O, no clock reads. Compiled into
//! both the server and the WASM client so that the live preview and the
//! charge are the same computation.

pub mod catalog;
pub mod document;
pub mod error;
pub mod money;
pub mod period;
pub mod quote;
pub mod renewal;
pub mod state;
pub mod tax;

#[cfg(all(test, feature = "ssr"))]
mod tests;

pub use catalog::{Catalog, Product, Seats};
pub use document::{InvoiceFigures, InvoiceStatus};
pub use error::BillingError;
pub use money::{Currency, Money};
pub use period::{BillingPeriod, Frequency};
pub use quote::{AccountTerms, CartItem, PlanChoice, Quote, SubscriptionSnapshot, quote};
pub use state::{AccountKind, Action, SubscriptionStatus, available_actions};
