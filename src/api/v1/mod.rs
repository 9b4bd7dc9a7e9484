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
mod invoices;
mod portal_sessions;
mod subscriptions;
mod users;
mod webhook_endpoints;

use axum::Router;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::routing::get;

use crate::db::api::ApiKeyRecord;
use crate::server::state::AppState;
pub use error::ApiError;

#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "billing-center operator API",
        version = "1",
        description = "Accounts, users, subscriptions, invoices, portal links and webhook endpoints, for the seller's application. \
            Authenticate with `Authorization: Bearer bc_key_…` (`billing-center api-key create NAME`). \
            Writes take an optional `Idempotency-Key`."
    ),
    servers((url = "/api/v1")),
    modifiers(&BearerKey),
    security(("api_key" = [])),
    components(schemas(error::ErrorBody))
)]
struct ApiDoc;

/// Declares the bearer key every route needs.
struct BearerKey;

impl utoipa::Modify for BearerKey {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
        doc.components
            .get_or_insert_with(Default::default)
            .add_security_scheme(
                "api_key",
                SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
            );
    }
}

/// The routes, mounted by the crate root under `/api/v1`, and the OpenAPI
/// document made from the same handlers (`/api/v1/openapi.json`), so the
/// two cannot disagree.
pub fn router() -> Router<AppState> {
    let (router, doc) = routes().split_for_parts();
    let doc = std::sync::Arc::new(doc);
    router
        .route(
            "/openapi.json",
            get(move || async move { axum::Json(doc.as_ref().clone()) }),
        )
        .fallback(|| async { ApiError::not_found("No such API route.") })
}

/// The handlers with their documentation.
pub fn routes() -> utoipa_axum::router::OpenApiRouter<AppState> {
    use utoipa::OpenApi;
    use utoipa_axum::routes;
    utoipa_axum::router::OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(accounts::create, accounts::list))
        .routes(routes!(accounts::read, accounts::update))
        .routes(routes!(users::create, users::list))
        .routes(routes!(users::invite))
        .routes(routes!(users::remove))
        .routes(routes!(subscriptions::start_trial, subscriptions::list))
        .routes(routes!(subscriptions::read))
        .routes(routes!(invoices::list))
        .routes(routes!(invoices::read))
        .routes(routes!(invoices::pdf))
        .routes(routes!(invoices::payments))
        .routes(routes!(portal_sessions::create))
        .routes(routes!(webhook_endpoints::create, webhook_endpoints::list))
        .routes(routes!(webhook_endpoints::read, webhook_endpoints::disable))
        .routes(routes!(webhook_endpoints::deliveries))
}

/// The OpenAPI document as served.
pub fn openapi() -> utoipa::openapi::OpenApi {
    routes().split_for_parts().1
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

/// A list page from `rows`, fetched with one more than `limit` to learn
/// whether another page follows: its `data` and `next`, the cursor of the
/// next page (the last row's id) or null.
fn page<T, Id: serde::Serialize>(
    mut rows: Vec<T>,
    limit: u32,
    id: impl Fn(&T) -> Id,
    view: impl Fn(&T) -> serde_json::Value,
) -> axum::Json<serde_json::Value> {
    let more = rows.len() > limit as usize;
    rows.truncate(limit as usize);
    let next = rows.last().filter(|_| more).map(id);
    let data: Vec<_> = rows.iter().map(view).collect();
    axum::Json(serde_json::json!({"object": "list", "data": data, "next": next}))
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
