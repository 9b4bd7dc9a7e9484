//! The operator API (`/api/v1`) on each backend: keys, accounts, users,
//! idempotency, pagination, portal links.

use billing_center::server::clock::ManualClock;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::sync::Arc;

use crate::helpers::{OperatorApi, TestApp, backends};

fn code(v: &Value) -> &str {
    v["error"]["code"].as_str().unwrap_or("")
}

#[tokio::test]
async fn missing_wrong_and_revoked_keys_are_refused_alike() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let api = OperatorApi::new(&app.db, &app.base).await;
        let url = format!("{}/accounts", api.base);
        let plain = reqwest::Client::new();
        let mut refusals = Vec::new();
        for auth in [
            None,
            Some("Bearer nonsense".to_string()),
            Some(format!("Bearer bc_key_{}", "0".repeat(64))),
            Some(format!("Basic {}", api.key)),
        ] {
            let mut r = plain.get(&url);
            if let Some(a) = auth {
                r = r.header("Authorization", a);
            }
            let res = r.send().await.unwrap();
            refusals.push((res.status(), res.text().await.unwrap()));
        }
        let (status, body) = api.get("/accounts").await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let keys = billing_center::db::api::keys(&app.db).await.unwrap();
        assert!(keys[0].last_used_at.is_some(), "a use is recorded");
        assert!(!keys[0].prefix.is_empty() && api.key.starts_with(&keys[0].prefix));
        // The key itself is not stored.
        let (stored,): (String,) = sqlx::query_as("SELECT key_hash FROM api_keys")
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
        assert!(!stored.contains(&api.key[7..]));

        assert!(
            billing_center::db::api::revoke_key(&app.db, keys[0].id, "2026-12-01T00:00:00.000Z")
                .await
                .unwrap()
        );
        let res = plain.get(&url).bearer_auth(&api.key).send().await.unwrap();
        refusals.push((res.status(), res.text().await.unwrap()));
        for (status, body) in &refusals {
            assert_eq!(*status, StatusCode::UNAUTHORIZED, "{backend:?}: {body}");
            assert_eq!(body, &refusals[0].1, "the same answer for every refusal");
        }
    }
}

#[tokio::test]
async fn accounts_are_created_read_updated_and_refused_with_the_field_named() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let api = OperatorApi::new(&app.db, &app.base).await;
        let (status, a) = api
            .post(
                "/accounts",
                json!({"name": "Acme SAS", "country": "fr", "vat_number": "FR 40 303 265 045",
                   "time_zone": "Europe/Paris", "language": "fr", "external_id": "org_1",
                   "address": {"line1": "1 rue de la Paix", "postcode": "75002", "city": "Paris"}}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{a}");
        assert_eq!(a["country"], "FR");
        assert_eq!(a["vat_number"], "FR40303265045");
        assert_eq!(a["kind"], "online");
        assert_eq!(a["currency"], "EUR");
        assert_eq!(a["address"]["city"], "Paris");
        let id = a["id"].as_i64().unwrap();
        let (status, read) = api.get(&format!("/accounts/{id}")).await;
        assert_eq!((status, &read), (StatusCode::OK, &a));

        // Update: kind to Corporate with a representative, VAT cleared.
        let (status, u) = api
            .patch(
                &format!("/accounts/{id}"),
                json!({"kind": "corporate", "vat_number": null,
                   "representative": {"name": "Camille", "email": "camille@example.com", "phone": "+33 1"}}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{u}");
        assert_eq!(u["kind"], "corporate");
        assert_eq!(u["vat_number"], Value::Null);
        assert_eq!(u["representative"]["email"], "camille@example.com");
        assert_eq!(u["name"], "Acme SAS", "fields not sent are kept");
        let stored = billing_center::db::accounts::find_account(
            &app.db,
            billing_center::domain::AccountId::new(id),
        )
        .await
        .unwrap()
        .unwrap();
        assert_eq!(stored.rep_name.as_deref(), Some("Camille"));
        assert_eq!(stored.vat_number, None);

        // Each bad field: a 4xx naming it, nothing stored.
        let before = app.count("accounts").await;
        for (body, field) in [
            (json!({"name": "", "country": "FR"}), "name"),
            (json!({"name": "X", "country": "ZZ"}), "country"),
            (
                json!({"name": "X", "country": "DE", "vat_number": "FR40303265045"}),
                "vat_number",
            ),
            (
                json!({"name": "X", "country": "FR", "time_zone": "Mars/Olympus"}),
                "time_zone",
            ),
            (
                json!({"name": "X", "country": "FR", "language": "de"}),
                "language",
            ),
            (
                json!({"name": "X", "country": "FR", "currency": "XXX"}),
                "currency",
            ),
            (
                json!({"name": "X", "country": "FR", "kind": "corporate"}),
                "representative",
            ),
            (json!({"name": "X\u{7}", "country": "FR"}), "name"),
            (
                json!({"name": "X", "country": "FR", "address": {"city": "a".repeat(300)}}),
                "address",
            ),
            (
                json!({"name": "X", "country": "FR", "representative": {"name": "R", "email": "nope"}}),
                "representative.email",
            ),
        ] {
            let (status, e) = api.post("/accounts", body.clone()).await;
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {e}");
            assert_eq!(code(&e), "invalid_field");
            assert!(
                e["error"]["message"].as_str().unwrap().starts_with(field),
                "{body}: {e}"
            );
        }
        for (body, expect) in [
            (r#"{"name": "X\u0000", "country": "FR"}"#, "invalid_body"),
            ("{not json", "invalid_body"),
            (
                r#"{"name": "X", "country": "FR", "colour": "red"}"#,
                "invalid_body",
            ),
            (r#"{"name": 5, "country": "FR"}"#, "invalid_body"),
            ("[]", "invalid_body"),
        ] {
            let (status, e) = api
                .send(reqwest::Method::POST, "/accounts", Some(body), None)
                .await;
            assert_eq!(
                (status, code(&e)),
                (StatusCode::BAD_REQUEST, expect),
                "{body}: {e}"
            );
        }
        let (status, e) = api
            .post(
                "/accounts",
                json!({"name": "Other", "country": "FR", "external_id": "org_1"}),
            )
            .await;
        assert_eq!(
            (status, code(&e)),
            (StatusCode::CONFLICT, "external_id_taken")
        );
        let (status, e) = api
            .patch(&format!("/accounts/{id}"), json!({"currency": "USD"}))
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
        let (status, e) = api
            .patch(&format!("/accounts/{id}"), json!({"representative": null}))
            .await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "a Corporate account keeps its representative: {e}"
        );
        assert_eq!(app.count("accounts").await, before);
        for path in [
            "/accounts/999999",
            "/accounts/abc",
            "/accounts/-1",
            "/nowhere",
        ] {
            let (status, e) = api.get(path).await;
            assert_eq!(
                (status, code(&e)),
                (StatusCode::NOT_FOUND, "not_found"),
                "{path}"
            );
        }
        let (status, found) = api.get("/accounts?external_id=org_1").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(found["data"][0]["id"], id);
    }
}

#[tokio::test]
async fn an_idempotency_key_replays_the_first_answer_and_refuses_another_body() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let api = OperatorApi::new(&app.db, &app.base).await;
        let body = json!({"name": "Once GmbH", "country": "DE"}).to_string();
        let first = api
            .send(reqwest::Method::POST, "/accounts", Some(&body), Some("k-1"))
            .await;
        let again = api
            .send(reqwest::Method::POST, "/accounts", Some(&body), Some("k-1"))
            .await;
        assert_eq!(first.0, StatusCode::CREATED);
        assert_eq!(first, again, "the first answer again");
        assert_eq!(app.count("accounts").await, 1);
        let other = json!({"name": "Twice GmbH", "country": "DE"}).to_string();
        let (status, e) = api
            .send(
                reqwest::Method::POST,
                "/accounts",
                Some(&other),
                Some("k-1"),
            )
            .await;
        assert_eq!(
            (status, code(&e)),
            (StatusCode::UNPROCESSABLE_ENTITY, "idempotency_key_reused")
        );
        // A refusal is an answer too: the same key gets it again.
        let bad = json!({"name": "", "country": "DE"}).to_string();
        let r1 = api
            .send(reqwest::Method::POST, "/accounts", Some(&bad), Some("k-2"))
            .await;
        let r2 = api
            .send(reqwest::Method::POST, "/accounts", Some(&bad), Some("k-2"))
            .await;
        assert_eq!(r1.0, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(r1, r2);
        // Without a key, two requests are two accounts.
        api.send(reqwest::Method::POST, "/accounts", Some(&body), None)
            .await;
        api.send(reqwest::Method::POST, "/accounts", Some(&body), None)
            .await;
        assert_eq!(app.count("accounts").await, 3);
        // Parallel requests with one key: one account.
        let body = json!({"name": "Race SA", "country": "BE"}).to_string();
        let runs = (0..8).map(|_| {
            api.send(
                reqwest::Method::POST,
                "/accounts",
                Some(&body),
                Some("k-race"),
            )
        });
        let answers = futures::future::join_all(runs).await;
        assert_eq!(app.count("accounts").await, 4, "{answers:?}");
        for (status, v) in &answers {
            assert!(
                *status == StatusCode::CREATED || code(v) == "request_in_progress",
                "{status} {v}"
            );
        }
        let (status, e) = api
            .send(
                reqwest::Method::POST,
                "/accounts",
                Some(&body),
                Some("bad key"),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{e}");
    }
}

#[tokio::test]
async fn a_thousand_accounts_page_by_cursor_and_search_by_name_or_email() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let api = OperatorApi::new(&app.db, &app.base).await;
        let mut made = Vec::new();
        for i in 0..1000 {
            let name = format!("Company {i:04}");
            let (id, _) = crate::helpers::online_account_in(
                &app.db,
                &name,
                &format!("billing{i}@example.com"),
                "Europe/Paris",
            )
            .await;
            made.push(id.get());
        }
        let mut seen = Vec::new();
        let mut cursor: Option<i64> = None;
        let mut pages = 0;
        loop {
            let path = match cursor {
                Some(c) => format!("/accounts?limit=100&starting_after={c}"),
                None => "/accounts?limit=100".into(),
            };
            let (status, page) = api.get(&path).await;
            assert_eq!(status, StatusCode::OK, "{page}");
            pages += 1;
            seen.extend(
                page["data"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|a| a["id"].as_i64().unwrap()),
            );
            match page["next"].as_i64() {
                Some(n) => cursor = Some(n),
                None => break,
            }
        }
        assert_eq!(pages, 10);
        assert_eq!(seen, made, "each account once, in order");
        let (_, hits) = api.get("/accounts?q=company%20012").await;
        let names: Vec<_> = hits["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["name"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(names.len(), 10, "{names:?}");
        assert!(names.iter().all(|n| n.starts_with("Company 012")));
        let (_, hits) = api.get("/accounts?q=BILLING999@").await;
        assert_eq!(hits["data"][0]["name"], "Company 0999");
        assert_eq!(hits["data"].as_array().unwrap().len(), 1);
        // LIKE's wildcards are plain characters in a search.
        let (_, hits) = api.get("/accounts?q=%25").await;
        assert_eq!(hits["data"].as_array().unwrap().len(), 0);
        for bad in ["limit=0", "limit=101", "limit=x", "starting_after=x"] {
            let (status, e) = api.get(&format!("/accounts?{bad}")).await;
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {e}");
        }
    }
}

/// Follows a portal link like a browser: (status, Location, session cookie).
async fn open_link(url: &str, base: &str) -> (StatusCode, String, Option<String>) {
    let path = url
        .rsplit_once("/portal/")
        .map(|(_, t)| format!("{base}/portal/{t}"))
        .unwrap();
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let res = client.get(path).send().await.unwrap();
    let location = res
        .headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let cookie = res
        .headers()
        .get("set-cookie")
        .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_string());
    (res.status(), location, cookie)
}

#[tokio::test]
async fn a_portal_link_signs_its_user_in_once_and_not_late() {
    for backend in backends() {
        let clock = Arc::new(ManualClock::new(chrono::Utc::now()));
        let app = TestApp::spawn_with_clock(backend, clock.clone()).await;
        let api = OperatorApi::new(&app.db, &app.base).await;
        let (_, a) = api
            .post("/accounts", json!({"name": "Portal Oy", "country": "FR"}))
            .await;
        let (_, b) = api
            .post("/accounts", json!({"name": "Other Ltd", "country": "FR"}))
            .await;
        let account = a["id"].as_i64().unwrap();
        let (status, user) = api
            .post(
                &format!("/accounts/{account}/users"),
                json!({"email": "pat@portal.example", "name": "Pat", "billing_contact": true}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{user}");
        assert_eq!(user["role"], "billing_contact");
        let (status, e) = api
            .post(
                &format!("/accounts/{account}/users"),
                json!({"email": "PAT@portal.example", "name": "Pat again"}),
            )
            .await;
        assert_eq!(
            (status, code(&e)),
            (StatusCode::CONFLICT, "email_taken"),
            "{e}"
        );
        let (status, e) = api
            .post(
                &format!("/accounts/{account}/users"),
                json!({"email": "two@portal.example", "name": "Two", "billing_contact": true}),
            )
            .await;
        assert_eq!(
            (status, code(&e)),
            (StatusCode::CONFLICT, "billing_contact_exists")
        );
        let (_, users) = api.get(&format!("/accounts/{account}/users")).await;
        assert_eq!(users["data"].as_array().unwrap().len(), 1);
        let user_id = user["id"].as_i64().unwrap();

        let (status, link) = api
            .post("/portal_sessions", json!({"account": account, "user": user_id, "return_url": "https://app.example.com/settings"}))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{link}");
        let url = link["url"].as_str().unwrap();
        let (status, location, cookie) = open_link(url, &app.base).await;
        assert_eq!(
            (status, location.as_str()),
            (StatusCode::SEE_OTHER, "/billing")
        );
        let cookie = cookie.expect("a session cookie");
        let session = crate::helpers::Session::with_cookie(&app.base, &cookie);
        let me: Option<Value> = session.ok("me", &[]).await;
        assert_eq!(me.unwrap()["email"], "pat@portal.example");
        let stored: Vec<(Option<String>,)> = sqlx::query_as("SELECT return_url FROM sessions")
            .fetch_all(&app.db.pool)
            .await
            .unwrap();
        assert_eq!(
            stored,
            vec![(Some("https://app.example.com/settings".to_string()),)]
        );

        let page = session
            .client
            .get(format!("{}/billing", app.base))
            .send()
            .await
            .unwrap();
        let page = page.text().await.unwrap();
        assert!(
            page.contains("href=\"https://app.example.com/settings\"")
                && page.contains("Back to app.example.com"),
            "the page leads back to the application"
        );

        // Used once.
        let (_, location, cookie) = open_link(url, &app.base).await;
        assert_eq!((location.as_str(), cookie), ("/login?link=expired", None));
        let login = app.get("/login?link=expired").await.text().await.unwrap();
        assert!(login.contains("data-testid=\"link-expired\""));
        // Late: five minutes and a second after it was made.
        let (_, late) = api
            .post(
                "/portal_sessions",
                json!({"account": account, "user": user_id}),
            )
            .await;
        clock.advance(chrono::Duration::seconds(301));
        let (_, location, cookie) = open_link(late["url"].as_str().unwrap(), &app.base).await;
        assert_eq!((location.as_str(), cookie), ("/login?link=expired", None));
        // A forged token, and a user of another account.
        let (_, location, _) = open_link(&format!("x/portal/{}", "ab".repeat(32)), &app.base).await;
        assert_eq!(location, "/login?link=expired");
        let (status, e) = api
            .post(
                "/portal_sessions",
                json!({"account": b["id"], "user": user_id}),
            )
            .await;
        assert_eq!((status, code(&e)), (StatusCode::NOT_FOUND, "not_found"));
        for bad in [
            "https://evil.example/",
            "javascript:alert(1)",
            "/relative",
            "https://app.example.com.evil.example/",
        ] {
            let (status, e) = api
                .post(
                    "/portal_sessions",
                    json!({"account": account, "user": user_id, "return_url": bad}),
                )
                .await;
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {e}");
        }
        assert_eq!(app.count("portal_links").await, 2);
    }
}

#[tokio::test]
async fn a_trial_started_through_the_api_grants_its_entitlement_until_it_ends() {
    for backend in backends() {
        let clock = Arc::new(ManualClock::new("2026-12-01T10:00:00Z".parse().unwrap()));
        let app = TestApp::spawn_with_clock(backend, clock.clone()).await;
        let api = OperatorApi::new(&app.db, &app.base).await;
        let (_, a) = api
            .post(
                "/accounts",
                json!({"name": "Trial AG", "country": "DE", "time_zone": "Europe/Berlin"}),
            )
            .await;
        assert_eq!(a["currency"], "EUR", "the catalog's currency");
        let id = a["id"].as_i64().unwrap();
        let path = format!("/accounts/{id}/subscriptions");
        let (status, s) = api
            .post(
                &path,
                json!({"product": "webinar", "level": "standard", "seats": 3}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{s}");
        assert_eq!(s["state"], "trial");
        assert_eq!(s["trial_ends_on"], "2026-12-15", "the catalog's 14 days");
        assert_eq!(
            s["entitlement"],
            json!({"product": "webinar", "level": "standard", "seats": 3, "active_until": "2026-12-14"})
        );
        let (_, list) = api.get(&path).await;
        assert_eq!(list["data"][0], s);
        let (status, read) = api.get(&format!("/subscriptions/{}", s["id"])).await;
        assert_eq!((status, &read), (StatusCode::OK, &s));

        for (body, field) in [
            (json!({"product": "nope", "level": "standard"}), "product"),
            (json!({"product": "meeting", "level": "nope"}), "level"),
            (
                json!({"product": "meeting", "level": "business", "seats": 100000}),
                "seats",
            ),
            (
                json!({"product": "meeting", "level": "business", "frequency": "weekly"}),
                "frequency",
            ),
        ] {
            let (status, e) = api.post(&path, body.clone()).await;
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {e}");
            assert!(
                e["error"]["message"].as_str().unwrap().starts_with(field),
                "{e}"
            );
        }
        let (status, e) = api
            .post(&path, json!({"product": "webinar", "level": "lite"}))
            .await;
        assert_eq!(
            (status, code(&e)),
            (StatusCode::CONFLICT, "subscription_exists")
        );
        let (status, _) = api
            .post(
                "/accounts/424242/subscriptions",
                json!({"product": "webinar", "level": "lite"}),
            )
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(app.count("subscriptions").await, 1);

        // The day the trial ends it grants nothing, before any billing run.
        clock.advance(chrono::Duration::days(14));
        let (_, after) = api.get(&format!("/subscriptions/{}", s["id"])).await;
        assert_eq!(after["state"], "trial_expired");
        assert_eq!(after["entitlement"], Value::Null);
    }
}

/// Every API route with hostile values in each field (strings from the
/// shared corpus, wrong JSON types, huge bodies) and in its path and query:
/// a 4xx or a success, never a 5xx nor a database message.
#[tokio::test]
async fn a_hostile_corpus_against_every_api_route_gets_clear_answers() {
    use crate::hostile::{VALUES, leaks};
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let api = OperatorApi::new(&app.db, &app.base).await;
        let (_, a) = api
            .post("/accounts", json!({"name": "Target", "country": "FR"}))
            .await;
        let account = a["id"].as_i64().unwrap();
        let (_, u) = api
            .post(
                &format!("/accounts/{account}/users"),
                json!({"email": "t@target.example", "name": "T"}),
            )
            .await;
        // Paths and queries first, while the database holds no hostile text.
        let mut tried = 0;
        for v in VALUES.iter().chain(["%", "..", "%2e%2e", "1/../2"].iter()) {
            let enc: String = url::form_urlencoded::byte_serialize(v.as_bytes()).collect();
            for path in [
                format!("/accounts/{enc}"),
                format!("/accounts/{enc}/users"),
                format!("/accounts/{enc}/subscriptions"),
                format!("/subscriptions/{enc}"),
                format!("/accounts?q={enc}&limit={enc}"),
                format!("/accounts?starting_after={enc}"),
                format!("/accounts?external_id={enc}"),
                format!("/webhook_endpoints/{enc}"),
                format!("/webhook_endpoints/{enc}/deliveries"),
                format!("/webhook_endpoints/1/deliveries?starting_after={enc}&limit={enc}"),
            ] {
                let res = api
                    .client
                    .get(format!("{}{path}", api.base))
                    .bearer_auth(&api.key)
                    .send()
                    .await
                    .unwrap();
                let status = res.status();
                let text = res.text().await.unwrap();
                assert!(status.as_u16() < 500, "GET {path}: {status} {text}");
                if let Some(l) = leaks(&text).filter(|l| !v.to_lowercase().contains(l)) {
                    panic!("GET {path}: \"{l}\" in {text}");
                }
                tried += 1;
            }
        }
        let routes: Vec<(reqwest::Method, String, Value)> = vec![
            (
                reqwest::Method::POST,
                "/accounts".into(),
                json!({"name": "A", "country": "FR", "kind": "online",
                "vat_number": "FR40303265045", "currency": "EUR", "time_zone": "UTC", "language": "en",
                "external_id": "x", "address": {"line1": "l", "city": "c"},
                "representative": {"name": "R", "email": "r@e.example", "phone": "1"}}),
            ),
            (
                reqwest::Method::PATCH,
                format!("/accounts/{account}"),
                json!({"name": "A", "country": "FR",
                "kind": "online", "vat_number": null, "time_zone": "UTC", "language": "fr", "external_id": "y",
                "address": {"line1": "l"}, "representative": null}),
            ),
            (
                reqwest::Method::POST,
                format!("/accounts/{account}/users"),
                json!({"email": "n@e.example", "name": "N", "billing_contact": false}),
            ),
            (
                reqwest::Method::POST,
                format!("/accounts/{account}/subscriptions"),
                json!({"product": "webinar", "level": "lite", "seats": 1, "frequency": "monthly"}),
            ),
            (
                reqwest::Method::POST,
                "/portal_sessions".into(),
                json!({"account": account, "user": u["id"], "return_url": "https://app.example.com/"}),
            ),
            (
                reqwest::Method::POST,
                "/webhook_endpoints".into(),
                json!({"url": "https://app.example.com/hooks", "events": ["invoice.paid"]}),
            ),
        ];
        let mut shapes: Vec<Value> = VALUES.iter().map(|v| json!(v)).collect();
        shapes.extend([
            json!(-1),
            json!(0),
            json!(i64::MAX),
            json!(1.5),
            json!(true),
            json!(null),
            json!([]),
            json!({}),
            json!({"a": [1]}),
            json!("x".repeat(10_000)),
        ]);
        for (method, path, base) in &routes {
            for field in base.as_object().unwrap().keys() {
                for shape in &shapes {
                    let mut body = base.clone();
                    body[field] = shape.clone();
                    let sent = body.to_string();
                    let (status, answer) = api.send(method.clone(), path, Some(&sent), None).await;
                    let text = answer.to_string();
                    assert!(
                        status.as_u16() < 500,
                        "{method} {path} {field}={shape}: {status} {text}"
                    );
                    if let Some(l) = leaks(&text).filter(|l| !sent.to_lowercase().contains(l)) {
                        panic!("{method} {path} {field}={shape}: \"{l}\" in {text}");
                    }
                    tried += 1;
                }
            }
            for raw in [
                "",
                "null",
                "\"text\"",
                "{",
                &format!("{{\"name\": \"{}\"}}", "y".repeat(70_000)),
            ] {
                let (status, answer) = api.send(method.clone(), path, Some(raw), None).await;
                assert!(
                    status.is_client_error(),
                    "{method} {path} {}: {status} {answer}",
                    &raw[..raw.len().min(20)]
                );
                tried += 1;
            }
        }
        assert!(tried > 800, "{tried} requests");
    }
}

#[tokio::test]
async fn invoices_and_payments_of_an_account_are_listed_read_and_printed() {
    for backend in backends() {
        let app = TestApp::spawn_seeded(backend).await;
        let api = OperatorApi::new(&app.db, &app.base).await;
        let (_, found) = api.get("/accounts?q=pending%20sas").await;
        let account = found["data"][0]["id"].as_i64().unwrap();
        let (_, other) = api.get("/accounts?q=trial%20sarl").await;
        let other = other["data"][0]["id"].as_i64().unwrap();
        let (status, list) = api.get(&format!("/accounts/{account}/invoices")).await;
        assert_eq!(status, StatusCode::OK, "{list}");
        let first = &list["data"][0];
        let stored: Vec<(i64, String, i64)> = sqlx::query_as(
            "SELECT id, number, total_minor FROM invoices WHERE account_id = $1 ORDER BY id DESC",
        )
        .bind(account)
        .fetch_all(&app.db.pool)
        .await
        .unwrap();
        assert!(!stored.is_empty());
        assert_eq!(list["data"].as_array().unwrap().len(), stored.len());
        assert_eq!(first["id"], stored[0].0);
        assert_eq!(first["number"], stored[0].1.as_str());
        let total: rust_decimal::Decimal = first["total"].as_str().unwrap().parse().unwrap();
        assert_eq!(
            total * rust_decimal::Decimal::from(100),
            rust_decimal::Decimal::from(stored[0].2)
        );

        let (status, one) = api
            .get(&format!("/accounts/{account}/invoices/{}", first["id"]))
            .await;
        assert_eq!(status, StatusCode::OK);
        assert!(!one["lines"].as_array().unwrap().is_empty(), "{one}");
        let pdf = api
            .client
            .get(format!(
                "{}/accounts/{account}/invoices/{}/pdf",
                api.base, first["id"]
            ))
            .bearer_auth(&api.key)
            .send()
            .await
            .unwrap();
        assert_eq!(pdf.headers()["content-type"], "application/pdf");
        assert!(pdf.bytes().await.unwrap().starts_with(b"%PDF"));
        // Another account's invoice, and the PDF without a key.
        let (status, _) = api
            .get(&format!("/accounts/{other}/invoices/{}", first["id"]))
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let anonymous = reqwest::get(format!(
            "{}/accounts/{account}/invoices/{}/pdf",
            api.base, first["id"]
        ))
        .await
        .unwrap();
        assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);

        let (status, pays) = api.get(&format!("/accounts/{account}/payments")).await;
        assert_eq!(status, StatusCode::OK, "{pays}");
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM payments WHERE account_id = $1")
            .bind(account)
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
        assert_eq!(pays["data"].as_array().unwrap().len() as i64, n);
        if n > 0 {
            assert_eq!(pays["data"][0]["status"], "succeeded");
        }
        // Pages of one: each invoice once, newest first.
        let mut seen = Vec::new();
        let mut path = format!("/accounts/{account}/invoices?limit=1");
        loop {
            let (_, page) = api.get(&path).await;
            seen.extend(
                page["data"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|i| i["id"].as_i64().unwrap()),
            );
            match page["next"].as_i64() {
                Some(n) => {
                    path = format!("/accounts/{account}/invoices?limit=1&starting_after={n}")
                }
                None => break,
            }
        }
        assert_eq!(seen, stored.iter().map(|s| s.0).collect::<Vec<_>>());
    }
}

/// The OpenAPI document is made from the handlers: each operation it lists
/// is a route that answers (401 without a key, where an unknown route is a
/// 404), and the bodies it names have schemas.
#[tokio::test]
async fn the_openapi_document_lists_exactly_the_routes_that_answer() {
    let app = TestApp::spawn(billing_center::db::Backend::Sqlite).await;
    let res = app.get("/api/v1/openapi.json").await;
    assert_eq!(res.status(), StatusCode::OK);
    let doc: Value = res.json().await.unwrap();
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        doc["openapi"]
    );
    assert_eq!(doc["servers"][0]["url"], "/api/v1");
    let plain = reqwest::Client::new();
    let mut operations = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            let concrete = path
                .replace("{id}", "1")
                .replace("{invoice}", "1")
                .replace("{user}", "1");
            let url = format!("{}/api/v1{concrete}", app.base);
            let m: reqwest::Method = method.to_uppercase().parse().unwrap();
            let res = plain.request(m, &url).send().await.unwrap();
            assert_eq!(
                res.status(),
                StatusCode::UNAUTHORIZED,
                "{method} {path} is documented but is not a route"
            );
            operations.push(format!("{method} {path}"));
        }
    }
    operations.sort();
    assert_eq!(
        operations,
        [
            "delete /accounts/{id}/users/{user}",
            "delete /webhook_endpoints/{id}",
            "get /accounts",
            "get /accounts/{id}",
            "get /accounts/{id}/invoices",
            "get /accounts/{id}/invoices/{invoice}",
            "get /accounts/{id}/invoices/{invoice}/pdf",
            "get /accounts/{id}/payments",
            "get /accounts/{id}/subscriptions",
            "get /accounts/{id}/users",
            "get /subscriptions/{id}",
            "get /webhook_endpoints",
            "get /webhook_endpoints/{id}",
            "get /webhook_endpoints/{id}/deliveries",
            "patch /accounts/{id}",
            "post /accounts",
            "post /accounts/{id}/subscriptions",
            "post /accounts/{id}/users",
            "post /accounts/{id}/users/{user}/invitation",
            "post /portal_sessions",
            "post /webhook_endpoints",
        ]
    );
    let unknown = plain
        .get(format!("{}/api/v1/nowhere", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    for schema in [
        "CreateAccount",
        "UpdateAccount",
        "CreateUser",
        "StartTrial",
        "CreatePortalSession",
        "ErrorBody",
    ] {
        assert!(
            doc["components"]["schemas"][schema].is_object(),
            "{schema} has no schema"
        );
    }
    assert_eq!(
        doc["components"]["securitySchemes"]["api_key"]["scheme"],
        "bearer"
    );
}

#[tokio::test]
async fn a_user_made_through_the_api_is_invited_once_per_key_and_sets_a_password() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let api = OperatorApi::new(&app.db, &app.base).await;
        let (_, a) = api
            .post(
                "/accounts",
                json!({"name": "Invitees SA", "country": "FR", "language": "fr"}),
            )
            .await;
        let account = a["id"].as_i64().unwrap();
        let (_, u) = api
            .post(
                &format!("/accounts/{account}/users"),
                json!({"email": "ines@invitees.example", "name": "Inès", "billing_contact": true}),
            )
            .await;
        let path = format!("/accounts/{account}/users/{}/invitation", u["id"]);
        let first = api
            .send(reqwest::Method::POST, &path, Some(""), Some("inv-1"))
            .await;
        let again = api
            .send(reqwest::Method::POST, &path, Some(""), Some("inv-1"))
            .await;
        assert_eq!(first.0, StatusCode::CREATED, "{}", first.1);
        assert_eq!(first, again);
        let mails: Vec<(String, String)> = sqlx::query_as(
            "SELECT subject, body_text FROM email_outbox WHERE to_addr = 'ines@invitees.example'",
        )
        .fetch_all(&app.db.pool)
        .await
        .unwrap();
        assert_eq!(mails.len(), 1, "one email for one key");
        assert!(
            mails[0].0.contains("Invitees SA") && mails[0].0.contains("test app"),
            "in French, from the key's name: {}",
            mails[0].0
        );
        let at = mails[0].1.find("/invitation/").unwrap();
        let token: String = mails[0].1[at + 12..]
            .chars()
            .take_while(char::is_ascii_hexdigit)
            .collect();
        let browser = app.anonymous();
        let r = browser
            .form(
                "accept_invitation",
                &[
                    ("token", &token),
                    ("password", "a new password"),
                    ("confirm", "a new password"),
                ],
            )
            .await;
        assert!(
            r.status().is_success() || r.status().is_redirection(),
            "{}",
            r.status()
        );
        let me: Option<Value> = browser.ok("me", &[]).await;
        assert_eq!(me.unwrap()["email"], "ines@invitees.example");
        let (status, _) = api
            .post(
                &format!("/accounts/{account}/users/424242/invitation"),
                json!({}),
            )
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
}

#[tokio::test]
async fn a_member_is_removed_and_the_billing_contact_is_not() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let api = OperatorApi::new(&app.db, &app.base).await;
        let (_, a) = api
            .post("/accounts", json!({"name": "Removals", "country": "FR"}))
            .await;
        let account = a["id"].as_i64().unwrap();
        let users = format!("/accounts/{account}/users");
        let (_, contact) = api
            .post(
                &users,
                json!({"email": "boss@rm.example", "name": "Boss", "billing_contact": true}),
            )
            .await;
        let (_, member) = api
            .post(&users, json!({"email": "temp@rm.example", "name": "Temp"}))
            .await;
        // The member has a portal session open.
        let (status, link) = api
            .post(
                "/portal_sessions",
                json!({"account": account, "user": member["id"]}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED);
        let remove = |id: &Value| format!("{users}/{id}");
        let (status, body) = api
            .send(reqwest::Method::DELETE, &remove(&contact["id"]), None, None)
            .await;
        assert_eq!(
            (status, code(&body)),
            (StatusCode::CONFLICT, "billing_contact")
        );
        let (status, body) = api
            .send(reqwest::Method::DELETE, &remove(&member["id"]), None, None)
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let (_, list) = api.get(&users).await;
        let emails: Vec<&str> = list["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["email"].as_str().unwrap())
            .collect();
        assert_eq!(emails, ["boss@rm.example"]);
        // Gone for good: again is a 404, the link no longer signs in, and
        // the email can be given to someone new.
        let (status, _) = api
            .send(reqwest::Method::DELETE, &remove(&member["id"]), None, None)
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (status, _, cookie) = open_link(link["url"].as_str().unwrap(), &app.base).await;
        assert!(
            cookie.is_none(),
            "a removed user's link opened a session ({status})"
        );
        let (status, _) = api
            .post(
                &users,
                json!({"email": "temp@rm.example", "name": "New Temp"}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED);
        // Another account's user is not found through this one.
        let (_, other) = api
            .post("/accounts", json!({"name": "Other", "country": "FR"}))
            .await;
        let (status, _) = api
            .send(
                reqwest::Method::DELETE,
                &format!("/accounts/{}/users/{}", other["id"], contact["id"]),
                None,
                None,
            )
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
}

#[tokio::test]
async fn webhook_endpoints_are_validated_shown_without_their_secret_and_disabled() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let api = OperatorApi::new(&app.db, &app.base).await;
        for (body, field) in [
            (json!({"url": "ftp://app.example.com/x"}), "url"),
            (json!({"url": "/relative"}), "url"),
            (json!({"url": "https://user:pw@app.example.com/"}), "url"),
            (
                json!({"url": "https://app.example.com/", "events": ["invoice.payed"]}),
                "events",
            ),
        ] {
            let (status, e) = api.post("/webhook_endpoints", body.clone()).await;
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {e}");
            assert!(
                e["error"]["message"].as_str().unwrap().contains(field),
                "{e}"
            );
        }
        assert_eq!(app.count("webhook_endpoints").await, 0);
        let (status, made) = api
            .post(
                "/webhook_endpoints",
                json!({"url": "https://app.example.com/hooks", "events": ["invoice.paid", "subscription.created"]}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED);
        assert!(made["secret"].as_str().unwrap().starts_with("whsec_"));
        assert_eq!(
            made["events"],
            json!(["invoice.paid", "subscription.created"])
        );
        let id = made["id"].as_i64().unwrap();
        let (_, read) = api.get(&format!("/webhook_endpoints/{id}")).await;
        assert!(read.get("secret").is_none(), "the secret is shown once");
        let (_, list) = api.get("/webhook_endpoints").await;
        assert_eq!(list["data"][0]["url"], "https://app.example.com/hooks");
        let (status, gone) = api
            .send(
                reqwest::Method::DELETE,
                &format!("/webhook_endpoints/{id}"),
                None,
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        assert!(gone["disabled_at"].is_string());
        // A disabled endpoint gets no new deliveries; with no endpoint left,
        // no event is kept either.
        api.post("/accounts", json!({"name": "After", "country": "FR"}))
            .await;
        let (_, a) = api.get("/accounts?q=After").await;
        let account = a["data"][0]["id"].as_i64().unwrap();
        api.patch(&format!("/accounts/{account}"), json!({"name": "After 2"}))
            .await;
        assert_eq!(app.count("webhook_events").await, 0);
        assert_eq!(app.count("webhook_deliveries").await, 0);
    }
}
