//! `/api/v1/webhook_endpoints`: where the seller's application receives
//! events, and each endpoint's delivery log.

use axum::body::Bytes;
use axum::extract::{Path, Query};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Value, json};

use super::idempotency::write;
use super::{ApiError, Operator, error, parse};
use crate::db::webhooks::{self, DeliveryRecord, EndpointRecord};
use crate::domain::event::EventFilter;
use crate::domain::{DeliveryId, WebhookEndpointId};
use crate::server::outgoing_webhooks::{checked_url, signature};

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateEndpoint {
    pub url: String,
    /// Event types (`subscription.created`, …); absent or `["*"]`: all.
    #[serde(default)]
    pub events: Option<Vec<String>>,
}

/// An endpoint; its secret only when it is made (`with_secret`).
pub fn view(e: &EndpointRecord, with_secret: bool) -> Value {
    let events: Value = match &e.events {
        EventFilter::All => json!(["*"]),
        EventFilter::Only(types) => types.iter().map(|t| t.code()).collect(),
    };
    let mut v = json!({
        "object": "webhook_endpoint",
        "id": e.id,
        "url": e.url,
        "events": events,
        "created_at": e.created_at,
        "disabled_at": e.disabled_at,
    });
    if with_secret {
        v["secret"] = json!(e.secret);
    }
    v
}

fn delivery_view(d: &DeliveryRecord) -> Value {
    json!({
        "object": "webhook_delivery",
        "id": d.id,
        "event": d.event_id,
        "type": d.event_type.code(),
        "account": d.account_id,
        "state": d.state,
        "attempts": d.attempts,
        "last_status": d.last_status,
        "last_error": d.last_error,
        "last_attempt_at": d.last_attempt_at,
        "next_attempt_at": d.next_attempt_at,
        "delivered_at": d.delivered_at,
        "created_at": d.created_at,
    })
}

/// Registers an endpoint; the answer carries its signing secret, shown
/// this once (`whsec_…`, Standard Webhooks).
#[utoipa::path(post, path = "/webhook_endpoints", tag = "webhooks", request_body = CreateEndpoint,
    params(("Idempotency-Key" = Option<String>, Header, description = "Sent again with the same body: the first answer; with another body: 422")),
    responses((status = 201, description = "The endpoint, with its secret"),
        (status = 422, description = "A bad URL or an unknown event type", body = error::ErrorBody)))]
pub async fn create(op: Operator, headers: HeaderMap, body: Bytes) -> Response {
    write(
        &op,
        &headers,
        ("POST", "/webhook_endpoints", &body),
        |mut tx| async {
            let input: CreateEndpoint = parse(&body)?;
            let url = checked_url(&input.url).map_err(|e| ApiError::invalid("url", e))?;
            let events = EventFilter::parse(&input.events.unwrap_or_default().join(","))
                .map_err(|e| ApiError::invalid("events", e))?;
            let secret = signature::new_secret();
            let id = webhooks::insert_endpoint_in(&mut tx, &url, &secret, &events).await?;
            let made = EndpointRecord {
                id,
                url,
                secret,
                events,
                created_at: crate::db::now_text(),
                disabled_at: None,
            };
            Ok((tx, StatusCode::CREATED, view(&made, true)))
        },
    )
    .await
}

#[utoipa::path(get, path = "/webhook_endpoints", tag = "webhooks",
    responses((status = 200, description = "Every endpoint, disabled ones too")))]
pub async fn list(op: Operator) -> Result<axum::Json<Value>, ApiError> {
    let all = webhooks::endpoints(&op.state.db).await?;
    let data: Vec<_> = all.iter().map(|e| view(e, false)).collect();
    Ok(axum::Json(
        json!({"object": "list", "data": data, "next": null}),
    ))
}

async fn found(op: &Operator, id: &str) -> Result<EndpointRecord, ApiError> {
    let missing = || ApiError::not_found(format!("No webhook endpoint with id {id:?}."));
    let id: i64 = id.parse().map_err(|_| missing())?;
    webhooks::find_endpoint(&op.state.db, WebhookEndpointId::new(id))
        .await?
        .ok_or_else(missing)
}

#[utoipa::path(get, path = "/webhook_endpoints/{id}", tag = "webhooks", params(("id" = i64, Path)),
    responses((status = 200, description = "The endpoint"),
        (status = 404, description = "No such endpoint", body = error::ErrorBody)))]
pub async fn read(op: Operator, Path(id): Path<String>) -> Result<axum::Json<Value>, ApiError> {
    Ok(axum::Json(view(&found(&op, &id).await?, false)))
}

/// Stops deliveries to the endpoint; what is queued for it is dropped, its
/// delivery log stays readable.
#[utoipa::path(delete, path = "/webhook_endpoints/{id}", tag = "webhooks", params(("id" = i64, Path)),
    responses((status = 200, description = "The endpoint, disabled"),
        (status = 404, description = "No such enabled endpoint", body = error::ErrorBody)))]
pub async fn disable(op: Operator, Path(id): Path<String>, headers: HeaderMap) -> Response {
    let path = format!("/webhook_endpoints/{id}");
    write(&op, &headers, ("DELETE", &path, &[]), |mut tx| async {
        let endpoint = found(&op, &id).await?;
        if !webhooks::disable_endpoint_in(&mut tx, endpoint.id).await? {
            return Err(ApiError::not_found(format!(
                "No enabled webhook endpoint with id {id:?}."
            )));
        }
        let disabled = EndpointRecord {
            disabled_at: Some(crate::db::now_text()),
            ..endpoint
        };
        Ok((tx, StatusCode::OK, view(&disabled, false)))
    })
    .await
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeliveryQuery {
    /// 1 to 100 (default 20).
    limit: Option<String>,
    /// The previous page's `next`.
    starting_after: Option<String>,
}

/// The endpoint's deliveries, newest first: each event's state
/// (`pending`, `delivered`, `failed`), attempts and last answer.
#[utoipa::path(get, path = "/webhook_endpoints/{id}/deliveries", tag = "webhooks",
    params(("id" = i64, Path), DeliveryQuery),
    responses((status = 200, description = "A page of the delivery log"),
        (status = 404, description = "No such endpoint", body = error::ErrorBody)))]
pub async fn deliveries(
    op: Operator,
    Path(id): Path<String>,
    Query(q): Query<DeliveryQuery>,
) -> Result<axum::Json<Value>, ApiError> {
    let endpoint = found(&op, &id).await?;
    let limit = super::accounts::limit(q.limit.as_deref())?;
    let before = q
        .starting_after
        .as_deref()
        .map(|c| {
            c.parse::<i64>()
                .map(DeliveryId::new)
                .map_err(|_| ApiError::invalid("starting_after", "must be a delivery id"))
        })
        .transpose()?;
    let rows =
        webhooks::deliveries(&op.state.db, endpoint.id, before, i64::from(limit) + 1).await?;
    Ok(super::page(rows, limit, |d| d.id, delivery_view))
}
