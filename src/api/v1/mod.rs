//! The operator API under `/api/v1`: JSON over HTTP for the seller's
//! application and scripts, authenticated by bearer API keys, no cookies
//! (so no cross-site request can use it). Separate from the server
//! functions the pages call.
//!
//! Every write may carry an `Idempotency-Key`: the same key and body get
//! the first answer again, the same key with another body a 422.

mod accounts;
mod error;
mod idempotency;
mod portal_sessions;
mod subscriptions;
mod users;

use axum::Router;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::routing::{get, post};

use crate::db::api::ApiKeyRecord;
use crate::server::state::AppState;
pub use error::ApiError;

/// The routes, mounted by the crate root under `/api/v1`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/accounts", post(accounts::create).get(accounts::list))
        .route(
            "/accounts/{id}",
            get(accounts::read).patch(accounts::update),
        )
        .route("/accounts/{id}/users", post(users::create).get(users::list))
        .route(
            "/accounts/{id}/subscriptions",
            post(subscriptions::start_trial).get(subscriptions::list),
        )
        .route("/subscriptions/{id}", get(subscriptions::read))
        .route("/portal_sessions", post(portal_sessions::create))
        .fallback(|| async { ApiError::not_found("No such API route.") })
}

/// The API key a request is made with; every route takes one.
pub struct Operator {
    pub key: ApiKeyRecord,
    pub state: AppState,
}

impl FromRequestParts<AppState> for Operator {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        // Missing, malformed, unknown and revoked keys get the same answer.
        let bearer = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .ok_or_else(ApiError::unauthorized)?;
        let now = state.clock.now();
        match crate::server::api_keys::authenticate(&state.db, bearer, now).await? {
            Some(key) => Ok(Operator {
                key,
                state: state.clone(),
            }),
            None => Err(ApiError::unauthorized()),
        }
    }
}

/// A JSON body read as `T`: a body that is not JSON or not `T` is a 400
/// naming what is wrong.
fn parse<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|e| {
        let what = match e.classify() {
            serde_json::error::Category::Syntax | serde_json::error::Category::Eof => {
                "The body is not valid JSON"
            }
            _ => "The body does not fit this route",
        };
        ApiError::bad_request("invalid_body", format!("{what}: {e}."))
    })
}

/// For `Option<Option<T>>` fields: absent is `None`, `null` is
/// `Some(None)` (cleared), a value is `Some(Some(v))`.
fn present<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    serde::Deserialize::deserialize(d).map(Some)
}
