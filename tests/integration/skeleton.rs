//! The app through HTTP: the server-rendered home page, clear answers to
//! bad input, security headers, durability.

use crate::helpers::{TestApp, backends};

#[tokio::test]
async fn the_home_page_offers_the_sign_in_form_and_the_help() {
    for backend in backends() {
        let app = TestApp::spawn_seeded(backend).await;
        let res = app.get("/").await;
        assert_eq!(res.status(), 200, "{backend:?}");
        let html = res.text().await.unwrap();
        for part in [
            "name=\"email\"",
            "name=\"password\"",
            "action=\"/api/sign_in\"",
            "href=\"/password/forgot\"",
            "href=\"/help\"",
        ] {
            assert!(
                html.contains(part),
                "{backend:?}: {part} missing from the first HTML"
            );
        }
        // By its name in the site files (hashed when cargo-leptos built them).
        let js = app.state().site_files.assets().js;
        assert!(
            html.contains(&format!("<link rel=\"modulepreload\" href=\"{js}\"")),
            "hydration script linked"
        );
        // The old open trial counter is gone.
        let res = app
            .post_form("/api/start_trial", &[("product", "meeting")])
            .await;
        assert_eq!(res.status(), 404);
        // Signed in, the page points to the billing instead.
        let s = app.sign_in("active@demo.test").await;
        let html = s
            .client
            .get(format!("{}/", app.base))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            html.contains("data-testid=\"signed-in\"") && html.contains("Active GmbH"),
            "{backend:?}"
        );
    }
}

#[tokio::test]
async fn bad_input_gets_a_clear_answer_not_a_500() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let long = "x".repeat(5000);
        let res = app
            .post_form(
                "/api/sign_in",
                &[("email", long.as_str()), ("password", "x")],
            )
            .await;
        assert_eq!(res.status(), 422, "{backend:?}");
        let res = app.post_form("/api/sign_in", &[("nothing", "")]).await;
        assert!(
            res.status().is_client_error(),
            "missing argument: {}",
            res.status()
        );
        // A JSON-argument function given a form body.
        let res = app.post_form("/api/put_cart_item", &[("x", "1")]).await;
        assert!(
            res.status().is_client_error(),
            "missing argument: {}",
            res.status()
        );
        let res = app.get("/no/such/page").await;
        assert_eq!(res.status(), 404);
        assert!(res.text().await.unwrap().contains("Page not found"));
    }
}

#[tokio::test]
async fn a_database_failure_shows_the_error_page_not_the_database_error() {
    for backend in crate::helpers::backends() {
        let app = crate::helpers::TestApp::spawn_seeded(backend).await;
        let s = app.sign_in("pending@demo.test").await;
        let page = |path: &'static str| {
            let s = s.clone();
            async move {
                let r = s
                    .client
                    .get(format!("{}{path}", s.base))
                    .send()
                    .await
                    .unwrap();
                (r.status().as_u16(), r.text().await.unwrap())
            }
        };
        let (status, body) = page("/billing/invoices/999999").await;
        assert_eq!(status, 404);
        assert!(body.contains("Not found"), "{body}");

        sqlx::query("ALTER TABLE invoices RENAME TO invoices_gone")
            .execute(&app.db.pool)
            .await
            .unwrap();
        let (status, body) = page("/billing/invoices").await;
        assert_eq!(status, 503, "{backend:?}");
        assert!(body.contains("Something went wrong"), "{body}");
        let lower = body.to_lowercase();
        for leak in [
            "no such table",
            "relation",
            "sqlx",
            "invoices_gone",
            "panicked",
        ] {
            assert!(!lower.contains(leak), "{leak} leaked: {body}");
        }
        // The rest of the product still works.
        let (status, body) = page("/billing").await;
        assert_eq!(status, 200);
        assert!(body.contains("Pending cancellation"));
    }
}

#[tokio::test]
async fn security_headers_on_pages_and_files_and_a_body_limit() {
    let app = crate::helpers::TestApp::spawn_seeded(billing_center::db::Backend::Sqlite).await;
    let r = app.get("/").await;
    let h = r.headers().clone();
    let csp = h["content-security-policy"].to_str().unwrap().to_string();
    assert!(csp.contains("'wasm-unsafe-eval'"), "{csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["referrer-policy"], "strict-origin-when-cross-origin");
    assert!(
        h.get("strict-transport-security").is_none(),
        "no HSTS over plain HTTP"
    );
    // The nonce in the policy is the one on the page's inline scripts.
    let nonce = csp
        .split("'nonce-")
        .nth(1)
        .and_then(|s| s.split('\'').next())
        .expect("a nonce in the page's policy");
    let body = r.text().await.unwrap();
    assert!(body.contains(&format!("nonce=\"{nonce}\"")), "{body}");
    // Another response gets another nonce.
    let again = app.get("/").await.headers()["content-security-policy"].clone();
    assert_ne!(again.to_str().unwrap(), csp);

    let https = app
        .client
        .get(format!("{}/", app.base))
        .header("X-Forwarded-Proto", "https")
        .send()
        .await
        .unwrap();
    assert!(
        https.headers()["strict-transport-security"]
            .to_str()
            .unwrap()
            .contains("max-age=")
    );
    let fun = app.post_form("/api/list_products", &[]).await;
    assert!(
        fun.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("frame-ancestors 'none'")
    );
    assert_eq!(fun.headers()["x-frame-options"], "DENY");

    // 64 KB at most in a request body.
    let s = app.sign_in("corporate@demo.test").await;
    let huge = "m".repeat(100 * 1024);
    let r = s
        .form(
            "contact_support",
            &[("subject", "other"), ("message", &huge)],
        )
        .await;
    assert_eq!(r.status(), 413);
    assert_eq!(app.count("support_tickets").await, 0);
}

/// A committed order survives a power cut: SQLite syncs its WAL at every
/// commit (`synchronous = FULL`, 2) unless durability is traded away by
/// name.
#[tokio::test]
async fn sqlite_commits_are_durable_by_default() {
    let app = TestApp::spawn(billing_center::db::Backend::Sqlite).await;
    assert!(std::env::var(billing_center::db::SQLITE_TRADE_DURABILITY).is_err());
    let (level,): (i64,) = sqlx::query_as("PRAGMA synchronous")
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(level, 2, "synchronous = FULL");
}
