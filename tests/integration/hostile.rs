//! A generated corpus of hostile input against every server function (and
//! the pages that take parameters): wrong types, missing fields, huge and
//! out-of-range numbers, SQL and script injection, control characters.
//! Every answer must be a clear 4xx (or a success that changed nothing it
//! should not): never a 5xx, a panic, a stack trace or a database message.

use billing_center::api::billing::{BILLING_ENDPOINTS, PUBLIC_ENDPOINTS};
use serde_json::json;

use crate::helpers::{Session, TestApp, backends};

pub(crate) const VALUES: &[&str] = &[
    "",
    " ",
    "-1",
    "0",
    "99999999999999999999999",
    "1e309",
    "NaN",
    "abc",
    "' OR 1=1 --",
    "1; DROP TABLE invoices; --",
    "\") UNION SELECT password_hash FROM users --",
    "<script>alert('x')</script>",
    "\"><img src=x onerror=alert(1)>",
    "\u{0}\u{1b}[31m",
    "é漢字🙂",
    "=HYPERLINK(\"http://evil.test\")",
];

const FIELDS: &[&str] = &[
    "id",
    "version",
    "before",
    "key",
    "expected_total",
    "cart_digest",
    "number",
    "expiry",
    "cvc",
    "iban",
    "subject",
    "message",
    "email",
    "password",
    "user_id",
    "confirm",
    "product",
    "item",
    "replace",
    "token",
    "name",
];

pub(crate) fn leaks(body: &str) -> Option<&'static str> {
    let lower = body.to_lowercase();
    [
        "panicked",
        "stack backtrace",
        "sqlx",
        "syntax error",
        "no such table",
        "sqlite",
        "postgres",
        "constraint",
        "password_hash",
    ]
    .into_iter()
    .find(|l| lower.contains(l))
}

async fn check(r: reqwest::Response, what: &str) {
    let status = r.status();
    let body = r.text().await.unwrap_or_default();
    assert!(
        status.as_u16() < 500,
        "{what}: {status} {}",
        &body[..body.len().min(300)]
    );
    if let Some(l) = leaks(&body) {
        panic!(
            "{what}: \"{l}\" in the answer: {}",
            &body[..body.len().min(300)]
        );
    }
}

/// `thorough`: also each field alone (the others missing) and every JSON shape.
async fn corpus(s: &Session, who: &str, thorough: bool) -> usize {
    let mut tried = 0;
    let endpoints: Vec<&str> = BILLING_ENDPOINTS
        .iter()
        .chain(PUBLIC_ENDPOINTS)
        .copied()
        .filter(|e| *e != "sign_out")
        .collect();
    for endpoint in &endpoints {
        for value in VALUES {
            // Every field at once, then each field alone (the others missing).
            let all: Vec<(&str, &str)> = FIELDS.iter().map(|f| (*f, *value)).collect();
            check(
                s.form(endpoint, &all).await,
                &format!("{who} {endpoint} all={value:?}"),
            )
            .await;
            tried += 1;
            if !thorough {
                continue;
            }
            for field in FIELDS {
                check(
                    s.form(endpoint, &[(field, value)]).await,
                    &format!("{who} {endpoint} {field}={value:?}"),
                )
                .await;
                tried += 1;
            }
            // JSON bodies of the wrong shape.
            for body in [
                json!({"item": value, "replace": value}),
                json!({"item": {"type": value}}),
                json!({"item": {"type": "subscribe", "subscription_id": value, "product": value,
                    "plan": {"level": value, "seats": value, "frequency": value}}, "replace": true}),
                json!([value]),
            ] {
                check(
                    s.json(endpoint, body).await,
                    &format!("{who} {endpoint} json {value:?}"),
                )
                .await;
                tried += 1;
            }
        }
        // Seats out of range in a well-formed cart item.
        for seats in [
            json!(-5),
            json!(0),
            json!(1_000_000_000_000i64),
            json!(1.5),
            json!("3"),
        ] {
            let body = json!({"item": {"type": "subscribe", "subscription_id": null, "product": "webinar",
                "plan": {"level": "standard", "seats": seats, "frequency": "monthly"}}, "replace": true});
            check(
                s.json(endpoint, body).await,
                &format!("{who} {endpoint} seats"),
            )
            .await;
            tried += 1;
        }
    }
    // Pages with hostile parameters: escaped, never reflected raw.
    for path in [
        "/billing/invoices?before=<script>alert('x')</script>",
        "/billing/invoices/<script>alert('x')</script>",
        "/billing/plan/'%20OR%201=1",
        "/billing/invoices/1;DROP%20TABLE%20invoices/pdf",
        "/billing/invoices.csv?lang=<script>",
        // The one-time links: unknown, malformed, injected, huge.
        "/portal/<script>alert('x')</script>",
        "/portal/'%20OR%201=1%20--",
        "/portal/%00%1b",
        "/portal/0000000000000000000000000000000000000000000000000000000000000000",
        "/password/reset/<script>alert('x')</script>",
        "/password/reset/'%20OR%201=1%20--",
        "/invitation/<script>alert('x')</script>",
        "/invitation/%E9%F0%9F",
        "/lang/en?back=/%09/evil.example",
        "/lang/<script>alert('x')</script>",
    ] {
        let r = s
            .client
            .get(format!("{}{path}", s.base))
            .send()
            .await
            .unwrap();
        let status = r.status();
        let body = r.text().await.unwrap();
        assert!(status.as_u16() < 500, "{path}: {status}");
        assert!(
            !body.contains("<script>alert('x')</script>"),
            "{path} reflected raw"
        );
        assert!(leaks(&body).is_none(), "{path}");
        tried += 1;
    }
    let huge = format!("{}/portal/{}", s.base, "a".repeat(20_000));
    let r = s.client.get(huge).send().await.unwrap();
    assert!(
        r.status().is_client_error() || r.status().is_redirection(),
        "huge portal token: {}",
        r.status()
    );
    tried
}

#[tokio::test]
async fn a_hostile_corpus_gets_clear_refusals_and_changes_nothing() {
    for backend in backends() {
        let app = TestApp::spawn_seeded(backend).await;
        let count = |t: &'static str| app.count(t);
        let before = (
            count("invoices").await,
            count("payments").await,
            count("orders").await,
            count("users").await,
        );
        let mut tried = 0;
        // Sign in first: the corpus's own sign-in attempts hit the per-IP limit.
        let mut sessions = Vec::new();
        for who in [
            "active@demo.test",
            "corporate@demo.test",
            "member@demo.test",
        ] {
            sessions.push((who, app.sign_in(who).await));
        }
        // The billing contact of an online account gets every variant; the
        // others (refused before their input is read) the main ones.
        for (who, s) in &sessions {
            tried += corpus(s, who, *who == "active@demo.test").await;
        }
        tried += corpus(&app.anonymous(), "anonymous", false).await;
        let after = (
            count("invoices").await,
            count("payments").await,
            count("orders").await,
            count("users").await,
        );
        assert_eq!(
            before, after,
            "{backend:?}: hostile input wrote billing data"
        );
        println!("hostile corpus on {backend:?}: {tried} requests, 0 server errors");
    }
}
