//! Which language a request gets, and the language switch.
//!
//! Order: an explicit choice (`?lang=` on documents), then the `bc_lang`
//! cookie the switch sets, then `Accept-Language`, then English. Pages
//! write the result into `<html lang>`, where the browser reads it back
//! when it hydrates, so both render the same texts.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::auth::{caller_from, cookie_value};
use super::state::AppState;
use crate::i18n::{COOKIE, Lang};

pub fn request_lang(query: Option<&str>, headers: &HeaderMap) -> Lang {
    if let Some(l) = query.and_then(Lang::parse) {
        return l;
    }
    cookie_value(headers, COOKIE)
        .and_then(|v| Lang::parse(&v))
        .unwrap_or_else(|| {
            headers
                .get(header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok())
                .map(Lang::from_accept_language)
                .unwrap_or_default()
        })
}

/// The language of the request being rendered or served (pages and server
/// functions: leptos_axum puts the request's parts in the context).
pub fn current() -> Lang {
    // By reference: `use_context` would clone the whole request head, and
    // a page asks for its language many times.
    leptos::prelude::with_context::<axum::http::request::Parts, _>(|p| {
        request_lang(None, &p.headers)
    })
    .unwrap_or_default()
}

#[derive(Deserialize)]
pub struct Back {
    back: Option<String>,
}

/// `GET /lang/{code}`: remembers the choice for a year and goes back to the
/// page the link was on (`?back=/path`, else the `Referer`'s path), now in
/// that language. A plain link, so it works without JavaScript. The billing contact's choice also becomes the
/// account's language, which its emails and documents use.
pub async fn switch(
    State(state): State<AppState>,
    Path(code): Path<String>,
    Query(q): Query<Back>,
    headers: HeaderMap,
) -> Response {
    let lang = Lang::parse(&code).unwrap_or_default();
    // Only a path on this site: no open redirect.
    let back = q
        .back
        .filter(|b| super::headers::is_local_path(b))
        .or_else(|| super::headers::referer_path(&headers))
        .unwrap_or_else(|| "/".into());
    // Another site's link or image may switch this browser's language, never
    // the account's (its emails and documents).
    let from_this_site = headers
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        .is_none_or(|site| site == "same-origin" || site == "none");
    if from_this_site
        && let Ok(Some(caller)) = caller_from(&state, &headers).await
        && caller.user.is_billing_contact
        && caller.account.language != lang
        && let Err(e) =
            crate::db::accounts::set_language(&state.db, caller.account.id, lang.code()).await
    {
        tracing::warn!(error = %e, "could not store the account's language");
    }
    let mut response = Redirect::to(&back).into_response();
    if let Ok(cookie) = HeaderValue::from_str(&format!(
        "{COOKIE}={}; Path=/; Max-Age=31536000; SameSite=Lax",
        lang.code()
    )) {
        response.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    response
}
