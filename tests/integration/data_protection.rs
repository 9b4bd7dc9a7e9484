//! No full card number, CVC, password or session token in any table, log
//! line or email: the real binary, logging at debug level, goes through
//! sign-in and the card flows; then its logs and every table are searched.

use std::process::{Command, Stdio};

use crate::helpers::{backends, fresh_database_url};

#[tokio::test]
async fn secrets_appear_in_no_table_log_line_or_email() {
    for backend in backends() {
        let dir = tempfile::tempdir().unwrap();
        let url = fresh_database_url(backend, dir.path()).await;
        let bin = env!("CARGO_BIN_EXE_billing-center");
        let seeded = Command::new(bin)
            .arg("seed-demo")
            .env("DATABASE_URL", &url)
            .env("RUST_LOG", "off")
            .output()
            .unwrap();
        assert!(seeded.status.success());
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let log = dir.path().join("server.log");
        let mut server = Command::new(bin)
            .arg("serve")
            .env("DATABASE_URL", &url)
            .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
            .env("LEPTOS_OUTPUT_NAME", "billing-center")
            .env("RUST_LOG", "debug")
            .stdout(Stdio::from(std::fs::File::create(&log).unwrap()))
            .stderr(Stdio::from(
                std::fs::OpenOptions::new().append(true).open(&log).unwrap(),
            ))
            .spawn()
            .unwrap();
        let base = format!("http://127.0.0.1:{port}");
        let client = reqwest::Client::builder()
            .cookie_store(true)
            .build()
            .unwrap();
        let mut up = false;
        for _ in 0..200 {
            if client.get(format!("{base}/")).send().await.is_ok() {
                up = true;
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        assert!(up, "server did not start");
        let call = |endpoint: &str, form: Vec<(&str, &str)>| {
            client
                .post(format!("{base}/api/{endpoint}"))
                .header("Accept", "application/json")
                .form(&form)
                .send()
        };
        let r = call(
            "sign_in",
            vec![("email", "trial@demo.test"), ("password", "billing-demo")],
        )
        .await
        .unwrap();
        assert!(r.status().is_success());
        let token = r
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(|c| c.strip_prefix("bc_session="))
            .and_then(|c| c.split(';').next())
            .unwrap()
            .to_string();
        // Every server function and form is offered a full card number and
        // a CVC, under every field name a card form might use: none takes
        // it (no server function accepts card data), none saves a method.
        let db = billing_center::db::Db::connect(&url).await.unwrap();
        let methods = || async {
            let rows: Vec<(String,)> =
                sqlx::query_as("SELECT token FROM payment_methods ORDER BY token")
                    .fetch_all(&db.pool)
                    .await
                    .unwrap();
            rows
        };
        let before = methods().await;
        let mut endpoints: Vec<&str> = billing_center::api::billing::BILLING_ENDPOINTS.to_vec();
        endpoints.extend(["pay_invoice", "contact_support", "sign_in"]);
        for endpoint in &endpoints {
            for number in [
                "4242424242424242",
                "4242 4242 4242 4242",
                "4000000000000002",
            ] {
                let _ = call(
                    endpoint,
                    vec![
                        ("number", number),
                        ("card", number),
                        ("card_number", number),
                        ("expiry", "12/30"),
                        ("cvc", "8731"),
                        ("iban", "FR7630006000011234567890189"),
                        ("setup_id", number),
                        ("id", "1"),
                        ("kind", "card"),
                    ],
                )
                .await
                .unwrap();
            }
        }
        assert_eq!(
            methods().await,
            before,
            "{backend:?}: a card number saved a payment method"
        );
        // The way a card is saved: the page makes the token.
        let card_token = crate::helpers::demo_card_token("4242 4242 4242 4242", "12/30");
        let _ = call("start_payment_setup", vec![("kind", "card")])
            .await
            .unwrap();
        let r = call("finish_payment_setup", vec![("setup_id", &card_token)])
            .await
            .unwrap();
        assert!(r.status().is_success(), "{}", r.text().await.unwrap());
        let _ = call(
            "sign_in",
            vec![
                ("email", "pending@demo.test"),
                ("password", "wrong-secret-pw"),
            ],
        )
        .await
        .unwrap();
        let _ = call("payment_method", vec![]).await.unwrap();
        server.kill().unwrap();
        server.wait().unwrap();

        let logs = std::fs::read_to_string(&log).unwrap();
        assert!(logs.lines().count() > 5, "the server logged: {logs}");
        let mut dump = String::new();
        for table in [
            "accounts",
            "users",
            "sessions",
            "rate_limits",
            "user_tokens",
            "portal_links",
            "api_keys",
            "api_requests",
            "subscriptions",
            "payment_methods",
            "cart_items",
            "invoices",
            "invoice_lines",
            "orders",
            "payments",
            "email_outbox",
            "audit_log",
            "support_tickets",
        ] {
            use sqlx::Row;
            for row in sqlx::query(&format!("SELECT * FROM {table}"))
                .fetch_all(&db.pool)
                .await
                .unwrap()
            {
                for i in 0..row.len() {
                    if let Ok(Some(v)) = row.try_get::<Option<String>, _>(i) {
                        dump.push_str(&v);
                        dump.push('\n');
                    }
                }
            }
        }
        assert!(dump.contains("4242"), "the last four digits are kept");
        assert_ne!(
            methods().await,
            before,
            "{backend:?}: the token saved the card"
        );
        // A 4-digit CVC also occurs inside timings and ids ("8.731ms"): only
        // a standalone number counts.
        assert!(!standalone(&logs, "8731"), "{backend:?}: CVC in the logs");
        assert!(
            !standalone(&dump, "8731"),
            "{backend:?}: CVC in the database"
        );
        for (what, secret) in [
            ("card number", "4242424242424242"),
            ("card number", "4242 4242 4242 4242"),
            ("declined card number", "4000000000000002"),
            ("password", "billing-demo"),
            ("wrong password", "wrong-secret-pw"),
            ("IBAN", "FR7630006000011234567890189"),
            ("session token", token.as_str()),
        ] {
            assert!(!logs.contains(secret), "{backend:?}: {what} in the logs");
            assert!(
                !dump.contains(secret),
                "{backend:?}: {what} in the database"
            );
        }
    }
}

/// `needle` occurs with no digit, dot or letter right before or after it.
fn standalone(hay: &str, needle: &str) -> bool {
    let joined = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric() || c == '.');
    hay.match_indices(needle).any(|(i, _)| {
        !joined(hay[..i].chars().next_back()) && !joined(hay[i + needle.len()..].chars().next())
    })
}
