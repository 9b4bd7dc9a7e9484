//! One-time portal links: the seller's application asks the operator API
//! for one and sends its user there; the link signs that user in, once,
//! within five minutes.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};

use super::state::AppState;
use crate::db::{instant_text, portal_links};
use crate::domain::UserId;
use crate::error::AppError;

pub const LINK_LIFETIME: chrono::Duration = chrono::Duration::minutes(5);

/// `return_url` when it is an http(s) URL on an allowed origin.
pub fn checked_return_url(state: &AppState, return_url: &str) -> Result<String, String> {
    let url = url::Url::parse(return_url.trim())
        .map_err(|_| "return_url is not an absolute URL.".to_string())?;
    if !matches!(url.scheme(), "https" | "http") {
        return Err("return_url must be an http or https URL.".into());
    }
    let origin = url.origin().ascii_serialization();
    if !state.return_origins.contains(&origin) {
        return Err(format!(
            "return_url's origin {origin} is not allowed (BC_RETURN_ORIGINS)."
        ));
    }
    Ok(url.to_string())
}

/// A new link for `user` (checked by the caller to be the account's): the
/// URL to send the user to and when it expires.
pub async fn create_link(
    state: &AppState,
    user: UserId,
    return_url: Option<&str>,
) -> Result<(String, chrono::DateTime<chrono::Utc>), AppError> {
    let now = state.clock.now();
    let expires = now + LINK_LIFETIME;
    let token = super::auth::random_token();
    let times = (instant_text(now), instant_text(expires));
    portal_links::insert_link(
        &state.db,
        &super::auth::stored_hash(&token),
        user,
        return_url,
        (&times.0, &times.1),
    )
    .await?;
    Ok((state.identity.link(&format!("/portal/{token}")), expires))
}

/// `GET /portal/{token}`: signs the link's user in and opens the billing
/// center; a used, expired or unknown link goes to the sign-in page with
/// a notice (the same for each, so a link says nothing of others).
pub async fn open(
    State(state): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
) -> Response {
    let refused = || Redirect::to("/login?link=expired").into_response();
    if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return refused();
    }
    let now = instant_text(state.clock.now());
    let used = portal_links::use_link(&state.db, &super::auth::stored_hash(&token), &now).await;
    let opened = match used {
        Ok(Some((user, return_url))) => {
            if let Err(e) = super::auth::close_session_of(&state, &headers).await {
                tracing::warn!(error = %e, "portal link: the previous session stays");
            }
            super::auth::open_session(&state, user, return_url.as_deref()).await
        }
        Ok(None) => return refused(),
        Err(e) => Err(e.into()),
    };
    match opened {
        Ok(session) => {
            let cookie = super::auth::session_cookie(&session, super::auth::over_https(&headers));
            let mut response = Redirect::to("/billing").into_response();
            if let Ok(v) = HeaderValue::from_str(&cookie) {
                response.headers_mut().insert(header::SET_COOKIE, v);
            }
            // The token is in this URL: no page should send it on.
            response.headers_mut().insert(
                header::REFERRER_POLICY,
                HeaderValue::from_static("no-referrer"),
            );
            response
        }
        Err(e) => {
            tracing::error!(error = %e, "portal link could not open a session");
            (
                axum::http::StatusCode::SERVICE_UNAVAILABLE,
                "The billing center is briefly unavailable. Please try again in a moment.",
            )
                .into_response()
        }
    }
}
