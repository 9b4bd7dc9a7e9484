//! Cross-site request protection for state-changing requests: browsers say
//! where a request comes from (`Sec-Fetch-Site`, `Origin`); a POST from
//! another site is refused before it reaches a server function. Requests
//! without these headers (non-browser clients) carry no ambient cookies from
//! another site's page, so they pass.

use axum::extract::Request;
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

pub async fn reject_cross_site(request: Request, next: Next) -> Response {
    if request.method() != Method::GET
        && request.method() != Method::HEAD
        && is_cross_site(&request)
    {
        tracing::warn!(path = %request.uri().path(), "cross-site request refused");
        return (StatusCode::FORBIDDEN, "Cross-site request refused.").into_response();
    }
    next.run(request).await
}

fn is_cross_site(request: &Request) -> bool {
    let headers = request.headers();
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        // A sibling subdomain is "same-site": it must not post here either.
        return site == "cross-site" || site == "same-site";
    }
    let (Some(origin), Some(host)) = (
        headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()),
        headers.get(header::HOST).and_then(|v| v.to_str().ok()),
    ) else {
        return false;
    };
    // "null" origins (sandboxed frames, some redirects) are treated as foreign.
    let origin_host = origin.split_once("://").map(|(_, h)| h).unwrap_or("null");
    origin_host != host
}
