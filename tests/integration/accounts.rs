//! Sign-in, sessions, roles, corporate accounts and authorization.

use billing_center::api::billing::BILLING_ENDPOINTS;
use serde_json::json;

use crate::helpers::{Session, TestApp, backends};

#[tokio::test]
async fn session_cookie_flags_and_same_message_for_unknown_email_and_wrong_password() {
    for backend in backends() {
        let app = TestApp::spawn_seeded(backend).await;
        let s = app.anonymous();
        let res = s
            .form(
                "sign_in",
                &[("email", "trial@demo.test"), ("password", "billing-demo")],
            )
            .await;
        let cookie = res
            .headers()
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().to_string())
            .find(|c| c.starts_with("bc_session="))
            .expect("session cookie");
        assert!(
            cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
            "{cookie}"
        );
        assert!(!cookie.contains("Secure"), "plain HTTP: no Secure flag");

        let wrong = s
            .form(
                "sign_in",
                &[("email", "trial@demo.test"), ("password", "nope")],
            )
            .await;
        let unknown = s
            .form(
                "sign_in",
                &[("email", "nobody@demo.test"), ("password", "nope")],
            )
            .await;
        assert_eq!(wrong.status(), unknown.status());
        assert_eq!(wrong.text().await.unwrap(), unknown.text().await.unwrap());
    }
}

#[tokio::test]
async fn a_new_session_id_at_each_sign_in_and_sign_out_ends_it() {
    for backend in backends() {
        let app = TestApp::spawn_seeded(backend).await;
        let s = app.sign_in("trial@demo.test").await;
        let first: Option<serde_json::Value> = s.ok("me", &[]).await;
        assert_eq!(first.unwrap()["email"], "trial@demo.test");
        let sessions_before = app.count("sessions").await;
        // Signing in again replaces the session rather than adding one.
        s.form(
            "sign_in",
            &[("email", "trial@demo.test"), ("password", "billing-demo")],
        )
        .await;
        assert_eq!(app.count("sessions").await, sessions_before);
        s.form("sign_out", &[]).await;
        let after: Option<serde_json::Value> = s.ok("me", &[]).await;
        assert!(after.is_none());
        assert_eq!(app.count("sessions").await, sessions_before - 1);
    }
}

#[tokio::test]
async fn sign_in_is_rate_limited_per_account() {
    for backend in backends() {
        let app = TestApp::spawn_seeded(backend).await;
        let s = app.anonymous();
        for _ in 0..5 {
            let r = s
                .form(
                    "sign_in",
                    &[("email", "pending@demo.test"), ("password", "wrong")],
                )
                .await;
            assert_eq!(r.status(), 422);
        }
        let r = s
            .form(
                "sign_in",
                &[("email", "pending@demo.test"), ("password", "billing-demo")],
            )
            .await;
        assert_eq!(r.status(), 429);
        let body = r.text().await.unwrap();
        assert!(body.contains("TooManyAttempts"), "{body}");
        // Other accounts are not locked out by it.
        let r = s
            .form(
                "sign_in",
                &[("email", "trial@demo.test"), ("password", "billing-demo")],
            )
            .await;
        assert!(r.status().is_success() || r.status().is_redirection());
    }
}

#[tokio::test]
async fn bad_sign_in_input_gets_a_clear_message() {
    for backend in backends() {
        let app = TestApp::spawn_seeded(backend).await;
        let s = app.anonymous();
        let long_email = format!("{}@demo.test", "a".repeat(260));
        let long_password = "p".repeat(1025);
        for (email, password) in [
            ("", "x"),
            ("not-an-email", "x"),
            (long_email.as_str(), "x"),
            ("trial@demo.test", long_password.as_str()),
            ("trial@demo.test", ""),
        ] {
            let r = s
                .form("sign_in", &[("email", email), ("password", password)])
                .await;
            assert_eq!(r.status(), 422, "{email}");
            assert!(r.text().await.unwrap().contains("Invalid"));
        }
        // A tampered cookie is simply not signed in.
        let r = s
            .client
            .post(format!("{}/api/overview", s.base))
            .header("Cookie", "bc_session=zzzz")
            .header("Accept", "application/json")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401);
    }
}

#[tokio::test]
async fn only_the_billing_contact_reaches_billing_functions() {
    for backend in backends() {
        let app = TestApp::spawn_seeded(backend).await;
        let member = app.sign_in("member@demo.test").await;
        let anonymous = app.anonymous();
        for endpoint in BILLING_ENDPOINTS {
            let r = call(&member, endpoint).await;
            assert_eq!(r.status(), 403, "{endpoint}");
            let body = r.text().await.unwrap();
            assert!(
                body.contains("trial@demo.test") && body.contains("NotBillingContact"),
                "{endpoint}: {body}"
            );
            let r = call(&anonymous, endpoint).await;
            assert_eq!(r.status(), 401, "{endpoint} without a session");
        }
    }
}

/// Calls a billing endpoint with well-formed arguments, so that only the
/// session and role checks can refuse it.
async fn call(s: &Session, endpoint: &str) -> reqwest::Response {
    match endpoint {
        "put_cart_item" => {
            s.json(endpoint, json!({"item": {"type": "remove_pending_cancellation", "subscription_id": 1}, "replace": false}))
                .await
        }
        "remove_cart_item" => s.form(endpoint, &[("product", "webinar")]).await,
        "put_plan" => {
            s.form(endpoint, &[("target", "change"), ("subscription_id", "1"), ("product", "webinar"), ("level", "lite"), ("seats", "1"), ("frequency", "monthly"), ("replace", "true")])
                .await
        }
        "order_confirmation" => s.form(endpoint, &[("key", "abcdefghijklmnopqrstuvwxyz123456")]).await,
        "start_payment_setup" => s.form(endpoint, &[("kind", "card")]).await,
        "payment_to_confirm" | "payment_confirmed" => s.form(endpoint, &[("intent", "pi_x")]).await,
        "finish_payment_setup" => s.form(endpoint, &[("setup_id", "demo:ok:Visa:4242:12:2030")]).await,
        "place_order" => {
            s.form(endpoint, &[("key", "abcdefghijklmnopqrstuvwxyz123456"), ("expected_total", "0.00"), ("cart_digest", "x")])
                .await
        }
        "remove_pending_cancellation" => s.form(endpoint, &[("id", "1"), ("version", "1")]).await,
        "cancel_subscription" => s.form(endpoint, &[("id", "1"), ("version", "1"), ("reason", "")]).await,
        "invoice" => s.form(endpoint, &[("id", "1")]).await,
        "contact_support" => s.form(endpoint, &[("subject", "other"), ("message", "hello")]).await,
        "transfer_billing_contact" => s.form(endpoint, &[("user_id", "1"), ("confirm", "yes")]).await,
        "invite_user" => s.form(endpoint, &[("name", "N"), ("email", "n@new.example")]).await,
        "pay_invoice" => {
            s.form(endpoint, &[("id", "1"), ("setup_id", "demo:ok:Visa:4242:12:2030")])
                .await
        }
        _ => s.form(endpoint, &[]).await,
    }
}

#[tokio::test]
async fn another_accounts_ids_are_not_found() {
    for backend in backends() {
        let app = TestApp::spawn_seeded(backend).await;
        let expired = app.sign_in("expired@demo.test").await;
        let page: serde_json::Value = expired.ok("invoices", &[]).await;
        let their_invoice = page["rows"][0]["id"].as_i64().unwrap();
        let active = app.sign_in("active@demo.test").await;
        let r = active
            .form("invoice", &[("id", &their_invoice.to_string())])
            .await;
        assert_eq!(r.status(), 404);
        // Someone else's subscription in a cart item or a state change.
        let r = active
            .json("put_cart_item", json!({"item": {"type": "reactivate", "subscription_id": 1, "plan": {"level": "lite", "seats": 1, "frequency": "monthly"}}, "replace": true}))
            .await;
        assert_eq!(r.status(), 422, "unknown to this account");
        let r = active
            .form(
                "remove_pending_cancellation",
                &[("id", "2"), ("version", "1")],
            )
            .await;
        assert_eq!(r.status(), 404);
    }
}

#[tokio::test]
async fn corporate_accounts_cannot_change_anything_online() {
    for backend in backends() {
        let app = TestApp::spawn_seeded(backend).await;
        let corp = app.sign_in("corporate@demo.test").await;
        let overview: serde_json::Value = corp.ok("overview", &[]).await;
        assert_eq!(overview["corporate"], true);
        assert_eq!(overview["representative"]["name"], "Camille Martin");
        for card in overview["cards"].as_array().unwrap() {
            assert!(card["actions"].as_array().unwrap().is_empty());
        }
        let r = corp
            .json("put_cart_item", json!({"item": {"type": "subscribe", "subscription_id": null, "product": "meeting", "plan": {"level": "business", "seats": 1, "frequency": "monthly"}}, "replace": true}))
            .await;
        assert_eq!(r.status(), 422);
        assert!(r.text().await.unwrap().contains("CorporateAccount"));
        for (endpoint, form) in [
            ("checkout", vec![]),
            (
                "place_order",
                vec![
                    ("key", "abcdefghijklmnopqrstuvwxyz123456"),
                    ("expected_total", "0.00"),
                    ("cart_digest", "x"),
                ],
            ),
            (
                "finish_payment_setup",
                vec![("setup_id", "demo:ok:Visa:4242:12:2030")],
            ),
        ] {
            let r = corp.form(endpoint, &form).await;
            assert_eq!(r.status(), 422, "{endpoint}");
        }
    }
}

#[tokio::test]
async fn demo_seeding_is_idempotent() {
    for backend in backends() {
        let app = TestApp::spawn_seeded(backend).await;
        let users = app.count("users").await;
        let subs = app.count("subscriptions").await;
        let today = billing_center::server::clock::local_date(chrono::Utc::now(), "Europe/Paris");
        assert!(
            !billing_center::server::seed::seed_demo(&app.db, today)
                .await
                .unwrap()
        );
        assert_eq!(
            (app.count("users").await, app.count("subscriptions").await),
            (users, subs)
        );
        assert_eq!(users, 7);
    }
}

#[tokio::test]
async fn cross_site_posts_are_refused() {
    let app = TestApp::spawn_seeded(billing_center::db::Backend::Sqlite).await;
    let s = app.sign_in("pending@demo.test").await;
    let post = |headers: Vec<(&'static str, &'static str)>| {
        let mut r = s
            .client
            .post(format!("{}/api/remove_pending_cancellation", s.base))
            .header("Accept", "application/json")
            .form(&[("id", "2"), ("version", "1")]);
        for (k, v) in headers {
            r = r.header(k, v);
        }
        r.send()
    };
    let r = post(vec![("Origin", "https://evil.example")])
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let r = post(vec![("Sec-Fetch-Site", "cross-site")]).await.unwrap();
    assert_eq!(r.status(), 403);
    // A sibling subdomain (shop.example.com posting to billing.example.com).
    let r = post(vec![("Sec-Fetch-Site", "same-site")]).await.unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(app.count("audit_log").await, 0, "nothing changed");
    // The same request from the site itself goes through.
    let origin: &'static str = Box::leak(app.base.clone().into_boxed_str());
    let r = post(vec![("Origin", origin), ("Sec-Fetch-Site", "same-origin")])
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn every_server_function_is_classified() {
    // A new server function must be added to one of the lists, and the
    // billing ones are all walked by the role test above.
    use billing_center::api::billing::PUBLIC_ENDPOINTS;
    let mut unknown = Vec::new();
    for (path, _) in leptos::server_fn::axum::server_fn_paths() {
        let name = path.trim_start_matches("/api/");
        if !BILLING_ENDPOINTS.contains(&name) && !PUBLIC_ENDPOINTS.contains(&name) {
            unknown.push(name.to_string());
        }
    }
    assert!(
        unknown.is_empty(),
        "unclassified server functions: {unknown:?}"
    );
    assert!(
        leptos::server_fn::axum::server_fn_paths().count()
            >= BILLING_ENDPOINTS.len() + PUBLIC_ENDPOINTS.len()
    );
}

#[tokio::test]
async fn idle_and_absolute_session_expiry() {
    for backend in backends() {
        let app = TestApp::spawn_seeded(backend).await;
        for column in ["last_seen_at", "created_at"] {
            let s = app.sign_in("trial@demo.test").await;
            let me: Option<serde_json::Value> = s.ok("me", &[]).await;
            assert!(me.is_some());
            // 13 hours ago: past the idle (2 h) and the absolute (12 h) limits.
            let past = (chrono::Utc::now() - chrono::Duration::hours(13))
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
            sqlx::query(&format!("UPDATE sessions SET {column} = $1"))
                .bind(&past)
                .execute(&app.db.pool)
                .await
                .unwrap();
            if column == "created_at" {
                // Keep the session recently used: only the absolute limit applies.
                let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
                sqlx::query("UPDATE sessions SET last_seen_at = $1")
                    .bind(&now)
                    .execute(&app.db.pool)
                    .await
                    .unwrap();
            }
            // A billing page reads the session with its data (one
            // connection): the expiry holds there too, and the session goes.
            assert_eq!(s.form("overview", &[]).await.status(), 401);
            let (left,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM sessions")
                .fetch_one(&app.db.pool)
                .await
                .unwrap();
            assert_eq!(left, 0, "{column}: the expired session was kept");
            let me: Option<serde_json::Value> = s.ok("me", &[]).await;
            assert!(me.is_none(), "{column}: expired session still valid");
        }
    }
}

#[tokio::test]
async fn the_billing_contact_hands_over_the_role_after_confirming() {
    for backend in backends() {
        let app = TestApp::spawn_seeded(backend).await;
        let trial = app.sign_in("trial@demo.test").await;
        let users: Vec<serde_json::Value> = trial.ok("account_users", &[]).await;
        assert_eq!(users.len(), 1);
        let member_id = users[0]["id"].as_i64().unwrap().to_string();
        let r = trial
            .form(
                "transfer_billing_contact",
                &[("user_id", &member_id), ("confirm", "no")],
            )
            .await;
        assert_eq!(r.status(), 422);
        // A user of another account cannot be given the role.
        let r = trial
            .form(
                "transfer_billing_contact",
                &[("user_id", "3"), ("confirm", "yes")],
            )
            .await;
        assert_eq!(r.status(), 404);
        let mails = app.count("email_outbox").await;
        let r = trial
            .form(
                "transfer_billing_contact",
                &[("user_id", &member_id), ("confirm", "yes")],
            )
            .await;
        assert_eq!(r.status(), 200);
        assert_eq!(
            app.count("email_outbox").await,
            mails + 2,
            "both are emailed"
        );
        let r = trial.form("overview", &[]).await;
        assert_eq!(r.status(), 403);
        assert!(r.text().await.unwrap().contains("member@demo.test"));
        let member = app.sign_in("member@demo.test").await;
        assert_eq!(member.form("overview", &[]).await.status(), 200);
    }
}

#[tokio::test]
async fn sign_in_is_rate_limited_per_ip_across_emails() {
    let app = TestApp::spawn_seeded(billing_center::db::Backend::Sqlite).await;
    let s = app.anonymous();
    // 30 failures from one address, each on a different email (so the
    // per-account limit never triggers).
    for i in 0..30 {
        let email = format!("nobody{i}@demo.test");
        let r = s
            .form(
                "sign_in",
                &[("email", email.as_str()), ("password", "wrong")],
            )
            .await;
        assert_eq!(r.status(), 422, "attempt {i}");
    }
    let r = s
        .form(
            "sign_in",
            &[("email", "active@demo.test"), ("password", "billing-demo")],
        )
        .await;
    assert_eq!(r.status(), 429);
    assert!(r.text().await.unwrap().contains("TooManyAttempts"));
}

#[tokio::test]
async fn last_seen_is_refreshed_once_a_minute_not_on_every_request() {
    for backend in backends() {
        let app = TestApp::spawn_seeded(backend).await;
        let s = app.sign_in("trial@demo.test").await;
        let last_seen = || async {
            let (t,): (String,) = sqlx::query_as("SELECT last_seen_at FROM sessions")
                .fetch_one(&app.db.pool)
                .await
                .unwrap();
            t
        };
        let first = last_seen().await;
        let _: Option<serde_json::Value> = s.ok("me", &[]).await;
        assert_eq!(
            last_seen().await,
            first,
            "no write for a request within the minute"
        );
        // Used 90 minutes ago: still alive (idle limit 2 h), and refreshed.
        let old = (chrono::Utc::now() - chrono::Duration::minutes(90))
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        sqlx::query("UPDATE sessions SET last_seen_at = $1")
            .bind(&old)
            .execute(&app.db.pool)
            .await
            .unwrap();
        let me: Option<serde_json::Value> = s.ok("me", &[]).await;
        assert!(me.is_some());
        assert!(last_seen().await > old, "{backend:?}: not refreshed");
    }
}

/// A billing page reads the session, the subscriptions and the cart in one
/// statement (the rows aggregated as JSON): it returns exactly what the
/// separate reads return, every column of every subscription included
/// (NULLs, scheduled changes, dunning), and no page rows for a user who is
/// not the billing contact. On both backends.
#[tokio::test]
async fn one_statement_page_read_matches_the_separate_reads() {
    use billing_center::db::{accounts, carts, sessions, subscriptions};
    use sha2::{Digest, Sha256};
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let db = &app.db;
        let (account, contact) =
            crate::helpers::online_account_with_card(db, "Page GmbH", "page@x.test").await;
        let member = accounts::insert_user(db, account, "member@x.test", "Member", "x", false)
            .await
            .unwrap();
        let start = chrono::NaiveDate::from_ymd_opt(2026, 1, 31).unwrap();
        let mut changed =
            crate::helpers::active_monthly(account, "meeting", "business", start, 1900);
        changed.scheduled = Some(billing_center::billing::quote::ScheduledChange {
            level: "starter".into(),
            seats: 3,
            frequency: billing_center::billing::Frequency::Annual,
        });
        let mut retrying = crate::helpers::active_monthly(account, "webinar", "lite", start, 4900);
        retrying.status = billing_center::billing::SubscriptionStatus::PastDue;
        retrying.dunning_step = 2;
        retrying.next_retry_on = chrono::NaiveDate::from_ymd_opt(2026, 3, 3);
        retrying.anchor_on = None;
        let mut trial = crate::helpers::active_monthly(account, "training", "starter", start, 0);
        (trial.status, trial.trial_ends_on) = (
            billing_center::billing::SubscriptionStatus::Trial,
            chrono::NaiveDate::from_ymd_opt(2026, 2, 14),
        );
        (trial.period, trial.paid) = (None, None);
        for s in [&changed, &retrying, &trial] {
            subscriptions::insert_subscription(db, s).await.unwrap();
        }
        carts::put_cart_item(db, account, "webinar", r#"{"level":"pro","seats":"2"}"#)
            .await
            .unwrap();
        carts::put_cart_item(db, account, "meeting", "{}")
            .await
            .unwrap();

        let hash_of = |cookie: String| -> String {
            let token = cookie.trim_start_matches("bc_session=").to_string();
            Sha256::digest(token.as_bytes())
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect()
        };
        let as_contact = hash_of(crate::helpers::session_cookie(db, contact, 1).await);
        let (found, page) = sessions::session_with_page(db, &as_contact)
            .await
            .unwrap()
            .expect("the session is found");
        assert_eq!(found.user.id, contact);
        assert_eq!(found.account.id, account);
        let (subscriptions, cart) = page.expect("the billing contact gets the page's rows");
        assert_eq!(subscriptions.len(), 3, "{backend:?}");
        assert_eq!(
            subscriptions,
            subscriptions::subscriptions(db, account).await.unwrap()
        );
        assert_eq!(cart, carts::cart(db, account).await.unwrap());
        assert_eq!(cart.len(), 2);

        let as_member = hash_of(crate::helpers::session_cookie(db, member, 2).await);
        let (found, page) = sessions::session_with_page(db, &as_member)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(found.user.id, member);
        assert!(page.is_none(), "not the billing contact: no page rows");
        assert!(
            sessions::session_with_page(db, "no-such-hash")
                .await
                .unwrap()
                .is_none()
        );

        // The next read sees what was committed since (no stale snapshot).
        carts::remove_cart_item(db, account, "meeting")
            .await
            .unwrap();
        let trial_row = subscriptions
            .iter()
            .find(|s| s.product == "training")
            .unwrap();
        assert!(
            subscriptions::set_status(
                db,
                account,
                trial_row.id,
                trial_row.version,
                "trial_expired"
            )
            .await
            .unwrap()
        );
        let (_, page) = sessions::session_with_page(db, &as_contact)
            .await
            .unwrap()
            .unwrap();
        let (subscriptions, cart) = page.unwrap();
        let now = subscriptions.iter().find(|s| s.id == trial_row.id).unwrap();
        assert_eq!(now.status.code(), "trial_expired", "{backend:?}");
        assert_eq!(now.version, trial_row.version + 1);
        assert_eq!(cart.len(), 1, "{backend:?}");
        assert_eq!(cart, carts::cart(db, account).await.unwrap());
        sessions::delete_session(db, &as_contact).await.unwrap();
        assert!(
            sessions::session_with_page(db, &as_contact)
                .await
                .unwrap()
                .is_none(),
            "a deleted session is gone at once"
        );
        assert!(
            sessions::find_session_caller(db, &as_member)
                .await
                .unwrap()
                .is_some()
        );
    }
}

/// A corrupt stored value is an error naming its table, column and row,
/// never a default (a currency read as euros would charge wrong amounts).
#[tokio::test]
async fn a_corrupt_stored_value_is_an_error_naming_where_it_is() {
    use billing_center::db::{DbError, accounts};
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let (account, _) =
            crate::helpers::online_account_with_card(&app.db, "Corrupt", "corrupt@demo.test").await;
        let found = accounts::find_account(&app.db, account).await.unwrap();
        assert_eq!(
            found.unwrap().currency,
            billing_center::billing::Currency::Eur
        );
        sqlx::query("UPDATE accounts SET currency = 'EURO' WHERE id = $1")
            .bind(account)
            .execute(&app.db.pool)
            .await
            .unwrap();
        match accounts::find_account(&app.db, account).await {
            Err(DbError::BadValue {
                table,
                column,
                row,
                value,
                ..
            }) => {
                assert_eq!(
                    (table, column, row),
                    ("accounts", "currency", account.get())
                );
                assert_eq!(value, "EURO");
            }
            other => panic!("{backend:?}: {other:?}"),
        }
        let sub = crate::helpers::active_monthly(
            account,
            "webinar",
            "lite",
            chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
            4900,
        );
        let id = billing_center::db::subscriptions::insert_subscription(&app.db, &sub)
            .await
            .unwrap();
        sqlx::query("UPDATE subscriptions SET status = 'paused' WHERE id = $1")
            .bind(id)
            .execute(&app.db.pool)
            .await
            .unwrap();
        match billing_center::db::subscriptions::subscriptions(&app.db, account).await {
            Err(DbError::BadValue {
                table, column, row, ..
            }) => assert_eq!((table, column, row), ("subscriptions", "status", id.get())),
            other => panic!("{backend:?}: {other:?}"),
        }
        // Each of these, alone, on an otherwise sound row: half a period,
        // a date that does not exist, half a paid term.
        let corruptions = [
            (
                "UPDATE subscriptions SET status = 'active', period_end = NULL WHERE id = $1",
                ("subscriptions", "period_end", id.get()),
            ),
            (
                "UPDATE subscriptions SET period_end = '2026-02-01', trial_ends_on = '2026-02-30' WHERE id = $1",
                ("subscriptions", "trial_ends_on", id.get()),
            ),
            (
                "UPDATE subscriptions SET trial_ends_on = NULL, paid_seats = NULL WHERE id = $1",
                ("subscriptions", "paid_unit_minor", id.get()),
            ),
        ];
        sqlx::query("UPDATE accounts SET currency = 'EUR' WHERE id = $1")
            .bind(account)
            .execute(&app.db.pool)
            .await
            .unwrap();
        for (sql, expected) in corruptions {
            sqlx::query(sql)
                .bind(id)
                .execute(&app.db.pool)
                .await
                .unwrap();
            match billing_center::db::subscriptions::subscriptions(&app.db, account).await {
                Err(DbError::BadValue {
                    table, column, row, ..
                }) => assert_eq!((table, column, row), expected, "{backend:?}: {sql}"),
                other => panic!("{backend:?}: {sql}: {other:?}"),
            }
        }
    }
}

/// Sixty wrong passwords for one email sent at once: the limit (5) holds,
/// because each attempt is counted before its password is checked.
#[tokio::test]
async fn parallel_wrong_passwords_are_limited_like_sequential_ones() {
    for backend in backends() {
        let app = TestApp::spawn_seeded(backend).await;
        let s = app.anonymous();
        let form = [("email", "pending@demo.test"), ("password", "wrong")];
        let answers = futures::future::join_all((0..60).map(|_| s.form("sign_in", &form))).await;
        let checked = answers.iter().filter(|r| r.status() == 422).count();
        let limited = answers.iter().filter(|r| r.status() == 429).count();
        assert_eq!(checked + limited, 60);
        assert!(
            checked <= 5,
            "{checked} passwords checked against a limit of 5"
        );
    }
}

/// Wrong passwords from some addresses do not lock the owner out from
/// another: the refusal is per email and address; past the email's own
/// limit, each check only waits, and the right password still gets in.
#[tokio::test]
async fn guesses_from_elsewhere_do_not_lock_the_owner_out() {
    for backend in backends() {
        let app = TestApp::spawn_seeded(backend).await;
        // Loopback has the whole 127/8: each client its own address.
        let from = |last: u8| {
            reqwest::Client::builder()
                .local_address(std::net::IpAddr::from([127, 0, 0, last]))
                .build()
                .unwrap()
        };
        let sign_in = |client: reqwest::Client, password: &'static str| {
            let url = format!("{}/api/sign_in", app.base);
            async move {
                client
                    .post(url)
                    .header("Accept", "application/json")
                    .form(&[("email", "pending@demo.test"), ("password", password)])
                    .send()
                    .await
                    .unwrap()
                    .status()
                    .as_u16()
            }
        };
        for _ in 0..5 {
            assert_eq!(sign_in(from(2), "wrong").await, 422);
        }
        assert_eq!(
            sign_in(from(2), "billing-demo").await,
            429,
            "this pair is refused"
        );
        assert_eq!(
            sign_in(from(3), "billing-demo").await,
            200,
            "the owner elsewhere is not"
        );
        // Past the email's limit (20) from many addresses: slowed, not refused.
        for last in 10..14 {
            for _ in 0..5 {
                sign_in(from(last), "wrong").await;
            }
        }
        assert_eq!(
            sign_in(from(4), "wrong").await,
            429,
            "guessing gets nothing more"
        );
        assert_eq!(
            sign_in(from(5), "billing-demo").await,
            200,
            "the owner still gets in"
        );
    }
}

/// Behind a trusted reverse proxy the sign-in limits count the client the
/// proxy forwarded, not the proxy; without the trust a forged
/// `X-Forwarded-For` changes nothing.
#[tokio::test]
async fn behind_a_trusted_proxy_the_limits_count_the_forwarded_client() {
    for backend in backends() {
        let sign_in = |app: &TestApp, forwarded: &'static str, email: &'static str| {
            let url = format!("{}/api/sign_in", app.base);
            let client = app.client.clone();
            async move {
                client
                    .post(url)
                    .header("Accept", "application/json")
                    .header("X-Forwarded-For", forwarded)
                    .form(&[("email", email), ("password", "wrong")])
                    .send()
                    .await
                    .unwrap()
                    .status()
                    .as_u16()
            }
        };
        let proxied = TestApp::spawn_seeded_behind_proxies(backend, "127.0.0.0/8").await;
        for _ in 0..5 {
            assert_eq!(
                sign_in(&proxied, "203.0.113.7", "pending@demo.test").await,
                422
            );
        }
        assert_eq!(
            sign_in(&proxied, "203.0.113.7", "pending@demo.test").await,
            429
        );
        // Another client behind the same proxy is its own pair.
        assert_eq!(
            sign_in(&proxied, "198.51.100.2", "pending@demo.test").await,
            422
        );
        // A client's own forged entry to the left is skipped.
        assert_eq!(
            sign_in(&proxied, "198.51.100.9, 203.0.113.7", "pending@demo.test").await,
            429
        );

        let direct = TestApp::spawn_seeded(backend).await;
        for _ in 0..5 {
            assert_eq!(
                sign_in(&direct, "203.0.113.7", "pending@demo.test").await,
                422
            );
        }
        // Not trusted: a new forged address is still the same client.
        assert_eq!(
            sign_in(&direct, "198.51.100.2", "pending@demo.test").await,
            429
        );
    }
}
