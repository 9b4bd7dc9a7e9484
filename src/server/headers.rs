//! Security headers on every response, and the request-body limit.
//!
//! Pages get a Content-Security-Policy with the per-response nonce that
//! Leptos puts on its inline hydration scripts (set in the shell); every
//! other response gets a strict default.

use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;

/// Largest request body accepted (server functions, forms).
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// The policy of an HTML page whose inline scripts carry `nonce`. With
/// Stripe, its script's origin is added (its Elements are frames from
/// there, and it talks to its API): nothing else, no `unsafe-inline`.
pub fn page_policy(nonce: &str, stripe: Option<&super::payments::StripeConfig>) -> String {
    let (js, api) = match stripe {
        Some(s) => (
            format!(" {}", s.js_origin()),
            format!(" {}", s.api_origin()),
        ),
        None => (String::new(), String::new()),
    };
    let frames = match stripe {
        Some(_) => format!("frame-src{js}; "),
        None => String::new(),
    };
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'{js}; \
         style-src 'self'; img-src 'self' data:{js}; connect-src 'self'{api}{js}; {frames}object-src 'none'; \
         base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
    )
}

const DEFAULT_POLICY: &str =
    "default-src 'self'; object-src 'none'; base-uri 'self'; frame-ancestors 'none'";

pub async fn security_headers(request: Request, next: Next) -> Response {
    // Behind a TLS-terminating proxy (the only way this server speaks HTTPS).
    let https = request
        .headers()
        .get("x-forwarded-proto")
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"https"));
    let mut response = next.run(request).await;
    let h = response.headers_mut();
    h.entry(header::CONTENT_SECURITY_POLICY)
        .or_insert(HeaderValue::from_static(DEFAULT_POLICY));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("strict-origin-when-cross-origin"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    if https {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        );
    }
    response
}

/// Refuses any request carrying a NUL character (raw, `%00` or JSON
/// `\u0000`): no text field has a use for it, and PostgreSQL would refuse
/// it deep inside a transaction. One clear 400 at the edge instead.
pub async fn reject_nul(request: Request, next: Next) -> Response {
    use axum::http::StatusCode;
    use axum::response::IntoResponse;
    // JSON clients (the operator API's) get the API's error shape.
    let json = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let answer = move |status: StatusCode, message: &str| {
        if json {
            let body = serde_json::json!({"error": {"code": "invalid_body", "message": message}});
            (status, axum::Json(body)).into_response()
        } else {
            let text = [(header::CONTENT_TYPE, "text/plain; charset=utf-8")];
            (status, text, message.to_string()).into_response()
        }
    };
    let refuse = || {
        answer(
            StatusCode::BAD_REQUEST,
            "Text may not contain control characters such as NUL.",
        )
    };
    let has_nul = |bytes: &[u8]| {
        bytes.contains(&0)
            || bytes
                .windows(3)
                .any(|w| w[0] == b'%' && w[1] == b'0' && w[2] == b'0')
            || bytes.windows(6).any(|w| w.eq_ignore_ascii_case(b"\\u0000"))
    };
    if has_nul(request.uri().to_string().as_bytes()) {
        return refuse();
    }
    let (parts, body) = request.into_parts();
    let bytes = match axum::body::to_bytes(body, MAX_BODY_BYTES).await {
        Ok(b) => b,
        Err(_) => {
            let limit = format!("The body is larger than {} KiB.", MAX_BODY_BYTES / 1024);
            return answer(StatusCode::PAYLOAD_TOO_LARGE, &limit);
        }
    };
    if has_nul(&bytes) {
        return refuse();
    }
    next.run(Request::from_parts(parts, axum::body::Body::from(bytes)))
        .await
}

/// A path on this site: what a redirect or a link built from request data
/// may point to (`//host` and `/\\host` are other sites to a browser).
/// Browsers drop tabs and newlines from a URL (`/\t/host` is `//host`),
/// so a path with any control character or space is refused too.
pub fn is_local_path(p: &str) -> bool {
    p.starts_with('/')
        && !p.starts_with("//")
        && !p.contains('\\')
        && !p.chars().any(|c| c.is_control() || c.is_whitespace())
}

/// The `Referer`'s path and query, if it is a local path: where "back" goes.
pub fn referer_path(headers: &HeaderMap) -> Option<String> {
    let url = url::Url::parse(headers.get(header::REFERER)?.to_str().ok()?).ok()?;
    let path = match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_string(),
    };
    is_local_path(&path).then_some(path)
}
