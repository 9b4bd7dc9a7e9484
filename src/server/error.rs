//! The one place where internal errors become user-safe ones: the cause goes
//! to the log, the user gets a clear sentence and a fitting HTTP status.

use axum::http::StatusCode;
use leptos::prelude::{use_context, with_context};

use crate::db::DbError;
use crate::error::AppError;

impl From<DbError> for AppError {
    fn from(e: DbError) -> Self {
        if e.is_transient() {
            tracing::warn!(error = %e, "database unavailable");
            return AppError::Unavailable;
        }
        tracing::error!(error = %e, "database error");
        AppError::Internal
    }
}

pub fn status_of(e: &AppError) -> StatusCode {
    match e {
        AppError::Billing(_) | AppError::Invalid(_) | AppError::QuoteChanged => {
            StatusCode::UNPROCESSABLE_ENTITY
        }
        AppError::Payment(_) | AppError::ActionRequired { .. } => StatusCode::PAYMENT_REQUIRED,
        AppError::Stale => StatusCode::CONFLICT,
        AppError::NotFound => StatusCode::NOT_FOUND,
        AppError::Unauthorized => StatusCode::UNAUTHORIZED,
        AppError::NotBillingContact { .. } => StatusCode::FORBIDDEN,
        AppError::TooManyAttempts { .. } => StatusCode::TOO_MANY_REQUESTS,
        AppError::Internal | AppError::Network(_) => StatusCode::INTERNAL_SERVER_ERROR,
        AppError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
    }
}

/// Wraps a server function's result: sets the HTTP status from the error
/// kind, so that a refused request is a 4xx, not a 500.
pub fn respond<T>(result: Result<T, AppError>) -> Result<T, AppError> {
    if let Err(e) = &result
        && let Some(resp) = use_context::<leptos_axum::ResponseOptions>()
    {
        resp.set_status(status_of(e));
    }
    // Messages in the language of the request (the page's).
    let result = result.map_err(|e| crate::i18n::errors::localize(super::lang::current(), e));
    if let Err(e) = &result {
        flash_for_plain_form(e);
    }
    result
}

/// The cookie carrying a refused plain form post's message to the page
/// that shows it (`/form-error`). Set by the server only, read once.
pub const FLASH_COOKIE: &str = "bc_flash";

/// A server function posted by a plain HTML form (JavaScript off): a POST
/// that asks for HTML. Not a page being rendered, whose server functions
/// run inside the page's own GET.
fn is_plain_form() -> bool {
    with_context::<axum::http::request::Parts, _>(|p| {
        p.method == axum::http::Method::POST
            && p.headers
                .get(axum::http::header::ACCEPT)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.contains("text/html"))
    })
    .unwrap_or(false)
}

/// After a plain form post (JavaScript off, the browser asks for HTML),
/// goes on to `path` instead of back to the form's page. Requests from the
/// app itself get their result as usual.
pub fn plain_form_redirect(path: &str) {
    if is_plain_form() {
        leptos_axum::redirect(path);
    }
}

/// A refused plain form post would otherwise go back to its page without a
/// word: its message goes to `/form-error` in a short-lived cookie (never
/// in the address, where a link could put words in our mouth).
fn flash_for_plain_form(e: &AppError) {
    let Some(resp) = use_context::<leptos_axum::ResponseOptions>() else {
        return;
    };
    if !is_plain_form() {
        return;
    }
    let message = crate::i18n::errors::message(super::lang::current(), e);
    let encoded: String = url::form_urlencoded::byte_serialize(message.as_bytes()).collect();
    if let Ok(cookie) = axum::http::HeaderValue::from_str(&format!(
        "{FLASH_COOKIE}={encoded}; Path=/; Max-Age=120; HttpOnly; SameSite=Lax"
    )) {
        resp.append_header(axum::http::header::SET_COOKIE, cookie);
        leptos_axum::redirect("/form-error");
    }
}

/// The message of the refused plain form post this request follows, if
/// any, and the header that forgets it (`/form-error`, server only).
pub fn take_flash() -> Option<String> {
    let raw = with_context::<axum::http::request::Parts, _>(|p| {
        super::auth::cookie_value(&p.headers, FLASH_COOKIE)
    })??;
    if let Some(resp) = use_context::<leptos_axum::ResponseOptions>() {
        resp.append_header(
            axum::http::header::SET_COOKIE,
            axum::http::HeaderValue::from_static(
                "bc_flash=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax",
            ),
        );
    }
    let text = url::form_urlencoded::parse(format!("m={raw}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())?;
    (!text.is_empty()).then_some(text)
}

/// Where the browser came from, as a path on this site (the form's page).
pub fn referer_path() -> Option<String> {
    with_context::<axum::http::request::Parts, _>(|p| super::headers::referer_path(&p.headers))?
}

/// Server-function framework errors (a missing or malformed argument) are
/// answered 500 by `server_fn` before our code runs. This maps them, by the
/// `AppError` in the body, to the status our own errors get.
pub async fn fix_server_fn_status(response: axum::response::Response) -> axum::response::Response {
    if response.status() != StatusCode::INTERNAL_SERVER_ERROR {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, 64 * 1024)
        .await
        .unwrap_or_default();
    if let Ok(err) = serde_json::from_slice::<AppError>(&bytes) {
        parts.status = status_of(&err);
    }
    axum::response::Response::from_parts(parts, axum::body::Body::from(bytes))
}
