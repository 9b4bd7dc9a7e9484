//! Subscriptions through the operator API: start a trial, read each
//! subscription with the **entitlement** the seller's application grants
//! (product, level, seats, active until).

use axum::body::Bytes;
use axum::extract::Path;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chrono::NaiveDate;
use serde::Deserialize;
use serde_json::{Value, json};

use super::idempotency::write;
use super::{ApiError, Operator, error, parse};
use crate::billing::Frequency;
use crate::db::subscriptions::{self, SubscriptionRecord};
use crate::domain::SubscriptionId;

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StartTrial {
    pub product: String,
    pub level: String,
    /// Default: the product's least.
    #[serde(default)]
    pub seats: Option<u32>,
    /// `monthly` (default) or `annual`: what the trial becomes when paid.
    #[serde(default)]
    pub frequency: Option<String>,
}

/// `s` as of `today` (the account's date): its state and entitlement are
/// the engine's for that day, whether or not the billing run has written
/// them yet (an ended trial grants nothing).
pub fn view(s: &SubscriptionRecord, today: NaiveDate) -> Value {
    let state = crate::server::billing::snapshot(s).as_of(today).status;
    s.object(state)
}

/// Starts a trial of the catalog's length; each subscription comes with the
/// entitlement to grant.
#[utoipa::path(post, path = "/accounts/{id}/subscriptions", tag = "subscriptions", request_body = StartTrial,
    params(("id" = i64, Path), ("Idempotency-Key" = Option<String>, Header, description = "Sent again with the same body: the first answer; with another body: 422")),
    responses((status = 201, description = "The subscription, with its entitlement"),
        (status = 409, description = "The account has this product", body = error::ErrorBody),
        (status = 422, description = "A field breaks a rule", body = error::ErrorBody)))]
pub async fn start_trial(
    op: Operator,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = format!("/accounts/{id}/subscriptions");
    write(&op, &headers, ("POST", &path, &body), |mut tx| async {
        let account = super::accounts::found(&op, &id).await?;
        let input: StartTrial = parse(&body)?;
        let catalog = &op.state.catalog;
        let product = catalog
            .product(&input.product)
            .map_err(|e| ApiError::invalid("product", e))?;
        product
            .level(&input.level)
            .map_err(|e| ApiError::invalid("level", e))?;
        let seats = input.seats.unwrap_or(product.min_seats);
        if !(product.min_seats..=product.max_seats).contains(&seats) {
            return Err(ApiError::invalid(
                "seats",
                format!(
                    "must be from {} to {} for {}",
                    product.min_seats, product.max_seats, product.name
                ),
            ));
        }
        let frequency = match input.frequency.as_deref() {
            None => Frequency::Monthly,
            Some(f) => Frequency::parse(f).map_err(|e| ApiError::invalid("frequency", e))?,
        };
        let existing = subscriptions::subscriptions(&op.state.db, account.id).await?;
        if existing.iter().any(|s| s.product == product.code) {
            return Err(subscription_exists());
        }
        let today = today_of(&op, &account.time_zone);
        let ends = today + chrono::Duration::days(i64::from(catalog.trial_days));
        let trial = SubscriptionRecord::trial(
            account.id,
            (&product.code, &input.level, seats),
            frequency,
            ends,
        );
        let id = subscriptions::insert_subscription_in(&mut tx, &trial)
            .await
            .map_err(|e| {
                if e.is_unique_violation() {
                    subscription_exists()
                } else {
                    e.into()
                }
            })?;
        let made = subscriptions::subscription_in(&mut tx, id)
            .await?
            .ok_or_else(|| ApiError::from(crate::error::AppError::Internal))?;
        Ok((tx, StatusCode::CREATED, view(&made, today)))
    })
    .await
}

fn subscription_exists() -> ApiError {
    ApiError::conflict(
        "subscription_exists",
        "This account already has a subscription to this product.",
    )
}

#[utoipa::path(get, path = "/accounts/{id}/subscriptions", tag = "subscriptions", params(("id" = i64, Path)),
    responses((status = 200, description = "The account's subscriptions, each with its entitlement"),
        (status = 404, description = "No such account", body = error::ErrorBody)))]
pub async fn list(op: Operator, Path(id): Path<String>) -> Result<axum::Json<Value>, ApiError> {
    let account = super::accounts::found(&op, &id).await?;
    let subs = subscriptions::subscriptions(&op.state.db, account.id).await?;
    let today = today_of(&op, &account.time_zone);
    let data: Vec<_> = subs.iter().map(|s| view(s, today)).collect();
    Ok(axum::Json(
        json!({"object": "list", "data": data, "next": null}),
    ))
}

#[utoipa::path(get, path = "/subscriptions/{id}", tag = "subscriptions", params(("id" = i64, Path)),
    responses((status = 200, description = "The subscription, with its entitlement"),
        (status = 404, description = "No such subscription", body = error::ErrorBody)))]
pub async fn read(op: Operator, Path(id): Path<String>) -> Result<axum::Json<Value>, ApiError> {
    let missing = || ApiError::not_found(format!("No subscription with id {id:?}."));
    let id: i64 = id.parse().map_err(|_| missing())?;
    let s = subscriptions::find_subscription(&op.state.db, SubscriptionId::new(id))
        .await?
        .ok_or_else(missing)?;
    let account = crate::db::accounts::find_account(&op.state.db, s.account_id)
        .await?
        .ok_or_else(missing)?;
    Ok(axum::Json(view(&s, today_of(&op, &account.time_zone))))
}

/// Today in the account's time zone.
fn today_of(op: &Operator, time_zone: &str) -> NaiveDate {
    crate::server::clock::local_date(op.state.clock.now(), time_zone)
}
