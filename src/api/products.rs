//! The product list (walking-skeleton slice): products read from the
//! database, and a button that records a free-trial start.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductSummary {
    pub code: String,
    pub name: String,
    /// Lowest monthly per-seat price, formatted ("€59.00").
    pub monthly_from: String,
    pub trials_started: i64,
}

#[server(endpoint = "list_products")]
pub async fn list_products() -> Result<Vec<ProductSummary>, AppError> {
    crate::server::error::respond(ssr::list_products().await)
}

#[server(endpoint = "start_trial")]
pub async fn start_trial(product: String) -> Result<i64, AppError> {
    crate::server::error::respond(ssr::start_trial(product).await)
}

#[cfg(feature = "ssr")]
mod ssr {
    use super::*;
    use crate::billing::{Currency, Money};

    pub async fn list_products() -> Result<Vec<ProductSummary>, AppError> {
        let state = crate::server::state::current()?;
        let records = crate::db::products::list(&state.db).await?;
        Ok(records
            .into_iter()
            .map(|r| {
                let currency = Currency::parse(&r.currency).unwrap_or(state.catalog.currency);
                ProductSummary {
                    code: r.code,
                    name: r.name,
                    monthly_from: crate::server::lang::current()
                        .money(Money::from_minor(r.monthly_from_minor, currency)),
                    trials_started: r.trials_started,
                }
            })
            .collect())
    }

    pub async fn start_trial(product: String) -> Result<i64, AppError> {
        let state = crate::server::state::current()?;
        if product.len() > 32 {
            return Err(AppError::NotFound);
        }
        crate::db::products::start_trial(&state.db, &product)
            .await?
            .ok_or(AppError::NotFound)
    }
}
