//! "Forgot your password?" and invitations on each backend: one-time links
//! by email, hashed, expiring, used once, rate limited, and the same
//! answer for a known and an unknown email.

use billing_center::server::clock::ManualClock;
use std::sync::Arc;

use crate::helpers::{TestApp, backends};

/// The last email to `to`: (subject, text).
async fn last_email(app: &TestApp, to: &str) -> Option<(String, String)> {
    sqlx::query_as(
        "SELECT subject, body_text FROM email_outbox WHERE to_addr = $1 ORDER BY id DESC LIMIT 1",
    )
    .bind(to)
    .fetch_optional(&app.db.pool)
    .await
    .unwrap()
}

/// The token of the link in `text` after `path` (`/password/reset/`).
fn token_in(text: &str, path: &str) -> String {
    let at = text
        .find(path)
        .unwrap_or_else(|| panic!("no {path} link in {text}"));
    text[at + path.len()..]
        .chars()
        .take_while(char::is_ascii_hexdigit)
        .collect()
}

async fn spawn(backend: billing_center::db::Backend) -> (TestApp, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(chrono::Utc::now()));
    let app = TestApp::spawn_with_clock(backend, clock.clone()).await;
    app.seed().await;
    (app, clock)
}

#[tokio::test]
async fn a_reset_link_sets_a_new_password_once_within_the_hour() {
    for backend in backends() {
        let (app, clock) = spawn(backend).await;
        let old = app.sign_in("active@demo.test").await;
        let anon = app.anonymous();
        let before = app.count("email_outbox").await;
        let known = anon
            .form("request_password_reset", &[("email", "Active@demo.test")])
            .await;
        let (known_status, known_body) = (known.status(), known.text().await.unwrap());
        let unknown = anon
            .form("request_password_reset", &[("email", "nobody@demo.test")])
            .await;
        let (unknown_status, unknown_body) = (unknown.status(), unknown.text().await.unwrap());
        assert_eq!(
            (known_status, &known_body),
            (unknown_status, &unknown_body),
            "no enumeration"
        );
        assert!(
            known_status.is_success() || known_status.is_redirection(),
            "{known_status}"
        );
        assert_eq!(
            app.count("email_outbox").await,
            before + 1,
            "only the known email gets one"
        );
        let (subject, text) = last_email(&app, "active@demo.test").await.unwrap();
        assert!(subject.contains("new password"), "{subject}");
        let token = token_in(&text, "/password/reset/");
        assert_eq!(token.len(), 64);
        let (stored,): (String,) = sqlx::query_as("SELECT token_hash FROM user_tokens")
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
        assert_ne!(stored, token, "only the hash is kept");

        let page = app
            .get(&format!("/password/reset/{token}"))
            .await
            .text()
            .await
            .unwrap();
        assert!(page.contains("name=\"password\"") && page.contains(&token));
        // Refused: too short, differing, a made-up token; nothing changes.
        for (t, p, c) in [
            (token.as_str(), "short", "short"),
            (token.as_str(), "a long new password", "another long one"),
            (
                &"0".repeat(64),
                "a long new password",
                "a long new password",
            ),
            ("x", "a long new password", "a long new password"),
        ] {
            let r = anon
                .form(
                    "reset_password",
                    &[("token", t), ("password", p), ("confirm", c)],
                )
                .await;
            assert_eq!(r.status(), 422, "{t} {p}");
        }
        let browser = app.anonymous();
        let r = browser
            .form(
                "reset_password",
                &[
                    ("token", &token),
                    ("password", "a long new password"),
                    ("confirm", "a long new password"),
                ],
            )
            .await;
        assert!(
            r.status().is_success() || r.status().is_redirection(),
            "{}",
            r.status()
        );
        let me: Option<serde_json::Value> = browser.ok("me", &[]).await;
        assert_eq!(
            me.unwrap()["email"],
            "active@demo.test",
            "signed in by the reset"
        );
        let me: Option<serde_json::Value> = old.ok("me", &[]).await;
        assert!(me.is_none(), "the sessions from before the reset are over");
        let r = app
            .anonymous()
            .form(
                "sign_in",
                &[
                    ("email", "active@demo.test"),
                    ("password", "a long new password"),
                ],
            )
            .await;
        assert!(r.status().is_success() || r.status().is_redirection());
        let r = app
            .anonymous()
            .form(
                "sign_in",
                &[("email", "active@demo.test"), ("password", "billing-demo")],
            )
            .await;
        assert_eq!(r.status(), 422, "the old password no longer works");
        // Used once.
        let r = anon
            .form(
                "reset_password",
                &[
                    ("token", &token),
                    ("password", "yet another password"),
                    ("confirm", "yet another password"),
                ],
            )
            .await;
        assert_eq!(r.status(), 422);

        // Late: an hour and a minute after it was sent.
        anon.form("request_password_reset", &[("email", "pending@demo.test")])
            .await;
        let (_, text) = last_email(&app, "pending@demo.test").await.unwrap();
        let late = token_in(&text, "/password/reset/");
        clock.advance(chrono::Duration::minutes(61));
        let r = anon
            .form(
                "reset_password",
                &[
                    ("token", &late),
                    ("password", "a long new password"),
                    ("confirm", "a long new password"),
                ],
            )
            .await;
        assert_eq!(r.status(), 422);
        // A reset token is not an invitation.
        anon.form("request_password_reset", &[("email", "pending@demo.test")])
            .await;
        let (_, text) = last_email(&app, "pending@demo.test").await.unwrap();
        let other = token_in(&text, "/password/reset/");
        let r = anon
            .form(
                "accept_invitation",
                &[
                    ("token", &other),
                    ("password", "a long new password"),
                    ("confirm", "a long new password"),
                ],
            )
            .await;
        assert_eq!(r.status(), 422);
    }
}

#[tokio::test]
async fn reset_requests_are_limited_per_email_and_per_address_alike_for_unknown_emails() {
    for backend in backends() {
        let (app, _) = spawn(backend).await;
        let anon = app.anonymous();
        for email in ["trial@demo.test", "ghost@demo.test"] {
            let form = [("email", email)];
            let statuses: Vec<u16> = futures::future::join_all(
                (0..4).map(|_| anon.form("request_password_reset", &form)),
            )
            .await
            .iter()
            .map(|r| r.status().as_u16())
            .collect();
            assert_eq!(
                statuses.iter().filter(|s| **s == 429).count(),
                1,
                "{email}: {statuses:?}"
            );
        }
        let (sent,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM email_outbox WHERE to_addr = 'trial@demo.test'")
                .fetch_one(&app.db.pool)
                .await
                .unwrap();
        assert_eq!(sent, 3);
        // Ten per address and hour, whatever the emails.
        let mut refused = 0;
        for i in 0..6 {
            let r = anon
                .form(
                    "request_password_reset",
                    &[("email", &format!("n{i}@demo.test"))],
                )
                .await;
            refused += usize::from(r.status() == 429);
        }
        assert_eq!(refused, 4, "8 counted before, 2 more allowed");
    }
}

#[tokio::test]
async fn an_invited_user_sets_a_password_and_lands_signed_in() {
    for backend in backends() {
        let (app, clock) = spawn(backend).await;
        let contact = app.sign_in("trial@demo.test").await;
        let r = contact
            .form(
                "invite_user",
                &[("name", "Nina New"), ("email", "nina@new.example")],
            )
            .await;
        assert!(
            r.status().is_success() || r.status().is_redirection(),
            "{}",
            r.status()
        );
        let (role,): (i64,) =
            sqlx::query_as("SELECT is_billing_contact FROM users WHERE email = 'nina@new.example'")
                .fetch_one(&app.db.pool)
                .await
                .unwrap();
        assert_eq!(role, 0, "a member");
        let (subject, text) = last_email(&app, "nina@new.example").await.unwrap();
        assert!(subject.contains("Trial SARL"), "{subject}");
        let token = token_in(&text, "/invitation/");
        // No password yet: signing in is refused.
        let r = app
            .anonymous()
            .form(
                "sign_in",
                &[("email", "nina@new.example"), ("password", "!")],
            )
            .await;
        assert_eq!(r.status(), 422);
        for (who, email) in [
            (&contact, "trial@demo.test"),
            (&contact, "active@demo.test"),
        ] {
            let r = who
                .form("invite_user", &[("name", "X"), ("email", email)])
                .await;
            assert_eq!(r.status(), 422, "{email} already signs in");
        }
        let member = app.sign_in("member@demo.test").await;
        let r = member
            .form("invite_user", &[("name", "Y"), ("email", "y@new.example")])
            .await;
        assert_eq!(r.status(), 403, "only the billing contact invites");
        let r = app
            .anonymous()
            .form("invite_user", &[("name", "Y"), ("email", "y@new.example")])
            .await;
        assert_eq!(r.status(), 401);

        let nina = app.anonymous();
        let r = nina
            .form(
                "accept_invitation",
                &[
                    ("token", &token),
                    ("password", "nina's password"),
                    ("confirm", "nina's password"),
                ],
            )
            .await;
        assert!(
            r.status().is_success() || r.status().is_redirection(),
            "{}",
            r.status()
        );
        let me: Option<serde_json::Value> = nina.ok("me", &[]).await;
        assert_eq!(me.unwrap()["email"], "nina@new.example");
        let r = app
            .anonymous()
            .form(
                "accept_invitation",
                &[
                    ("token", &token),
                    ("password", "nina's password"),
                    ("confirm", "nina's password"),
                ],
            )
            .await;
        assert_eq!(r.status(), 422, "used once");

        // An invitation lasts a day.
        contact
            .form(
                "invite_user",
                &[("name", "Late"), ("email", "late@new.example")],
            )
            .await;
        let (_, text) = last_email(&app, "late@new.example").await.unwrap();
        let late = token_in(&text, "/invitation/");
        clock.advance(chrono::Duration::hours(24) + chrono::Duration::minutes(1));
        let r = app
            .anonymous()
            .form(
                "accept_invitation",
                &[
                    ("token", &late),
                    ("password", "a long password"),
                    ("confirm", "a long password"),
                ],
            )
            .await;
        assert_eq!(r.status(), 422);
    }
}

#[tokio::test]
async fn the_billing_job_purges_expired_sessions_links_tokens_and_limits() {
    for backend in backends() {
        let (app, clock) = spawn(backend).await;
        let _old = app.sign_in("trial@demo.test").await;
        app.anonymous()
            .form("request_password_reset", &[("email", "trial@demo.test")])
            .await;
        let state = app.state();
        let (user,): (i64,) =
            sqlx::query_as("SELECT id FROM users WHERE email = 'trial@demo.test'")
                .fetch_one(&app.db.pool)
                .await
                .unwrap();
        billing_center::server::portal::create_link(
            &state,
            billing_center::domain::UserId::new(user),
            None,
        )
        .await
        .unwrap();
        let counts = |app: &TestApp| {
            let db = app.db.clone();
            async move {
                let mut out = Vec::new();
                for t in ["sessions", "portal_links", "user_tokens", "rate_limits"] {
                    out.push(billing_center::db::count(&db, t).await.unwrap());
                }
                out
            }
        };
        assert!(
            counts(&app).await.iter().all(|n| *n > 0),
            "{:?}",
            counts(&app).await
        );
        assert_eq!(
            billing_center::server::purge::run(&state).await.unwrap(),
            0,
            "nothing expired yet"
        );
        clock.advance(chrono::Duration::hours(25));
        let _fresh = app.sign_in("pending@demo.test").await;
        assert!(billing_center::server::purge::run(&state).await.unwrap() >= 4);
        // Only what is still alive stays: the new session, and the windows of
        // its address and its email (the right password ended the pair's).
        assert_eq!(counts(&app).await, vec![1, 0, 0, 2]);
    }
}

/// The token pages and the portal link with hostile tokens: a page or a
/// redirect, never a 5xx nor a database message.
#[tokio::test]
async fn hostile_tokens_in_links_get_a_page_not_an_error() {
    use crate::hostile::{VALUES, leaks};
    for backend in backends() {
        let (app, _) = spawn(backend).await;
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let long = "a".repeat(5000);
        for v in VALUES
            .iter()
            .copied()
            .chain([long.as_str(), "..", "%2e%2e%2f"])
        {
            let enc: String = url::form_urlencoded::byte_serialize(v.as_bytes()).collect();
            for path in [
                format!("/portal/{enc}"),
                format!("/password/reset/{enc}"),
                format!("/invitation/{enc}"),
            ] {
                let r = client
                    .get(format!("{}{path}", app.base))
                    .send()
                    .await
                    .unwrap();
                let status = r.status();
                let body = r.text().await.unwrap();
                assert!(status.as_u16() < 500, "{path}: {status}");
                if let Some(l) = leaks(&body).filter(|l| !v.to_lowercase().contains(l)) {
                    panic!("{path}: {l} in the page");
                }
            }
            for endpoint in ["reset_password", "accept_invitation"] {
                let r = app
                    .anonymous()
                    .form(endpoint, &[("token", v), ("password", v), ("confirm", v)])
                    .await;
                assert!(
                    r.status().is_client_error(),
                    "{endpoint} {v:?}: {}",
                    r.status()
                );
            }
        }
    }
}
