//! The brand's files: `/brand.css` (the configured colour) and
//! `/brand/logo`, from the configuration read at start.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::state::AppState;

/// An hour: a new colour or logo shows within that after a restart.
const CACHE: &str = "public, max-age=3600";

pub async fn stylesheet(State(state): State<AppState>) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, CACHE),
        ],
        state.identity.stylesheet(),
    )
        .into_response()
}

pub async fn logo(State(state): State<AppState>) -> Response {
    match &state.identity.logo {
        Some(logo) => (
            [
                (header::CONTENT_TYPE, logo.content_type),
                (header::CACHE_CONTROL, CACHE),
            ],
            logo.bytes.clone(),
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}
