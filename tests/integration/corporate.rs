//! Corporate accounts: support requests and paying open invoices.

use serde_json::Value;

use crate::helpers::{TestApp, backends};

#[tokio::test]
async fn contact_support_stores_a_ticket_and_emails_support() {
    for backend in backends() {
        let app = TestApp::spawn_seeded(backend).await;
        let s = app.sign_in("corporate@demo.test").await;
        for (subject, message) in [
            ("refund", "x"),
            ("change", "   "),
            ("other", &"m".repeat(5001)[..]),
        ] {
            let r = s
                .form(
                    "contact_support",
                    &[("subject", subject), ("message", message)],
                )
                .await;
            assert_eq!(r.status(), 422, "{subject}");
        }
        assert_eq!(app.count("support_tickets").await, 0);
        let id: i64 = s
            .ok(
                "contact_support",
                &[
                    ("subject", "reactivation"),
                    ("message", "Please reactivate GoToTraining Pro."),
                ],
            )
            .await;
        assert!(id > 0);
        assert_eq!(app.count("support_tickets").await, 1);
        let (to,): (String,) =
            sqlx::query_as("SELECT to_addr FROM email_outbox ORDER BY id DESC LIMIT 1")
                .fetch_one(&app.db.pool)
                .await
                .unwrap();
        assert_eq!(to, "support@billing-center.example");
    }
}

#[tokio::test]
async fn pay_now_pays_an_open_invoice_once() {
    for backend in backends() {
        let app = TestApp::spawn_seeded(backend).await;
        let s = app.sign_in("corporate@demo.test").await;
        let open: Vec<Value> = s.ok("open_invoices", &[]).await;
        assert_eq!(open.len(), 2);
        let id = open[0]["id"].as_i64().unwrap().to_string();
        // The page sets the card up with the provider first.
        let r = s.form("start_payment_setup", &[("kind", "card")]).await;
        assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
        let declined = crate::helpers::demo_card_token("4000000000000002", "12/30");
        let good = crate::helpers::demo_card_token("4242424242424242", "12/30");
        // Declined: stays open, nothing recorded.
        let r = s
            .form("pay_invoice", &[("id", &id), ("setup_id", &declined)])
            .await;
        assert_eq!(r.status(), 402);
        assert_eq!(app.count("payments").await, 0);
        // Ten clicks at once: one payment, one receipt.
        let mails = app.count("email_outbox").await;
        let tasks: Vec<_> = (0..10)
            .map(|_| {
                let s = s.clone();
                let id = id.clone();
                let good = good.clone();
                tokio::spawn(async move {
                    s.form("pay_invoice", &[("id", &id), ("setup_id", &good)])
                        .await
                        .status()
                        .as_u16()
                })
            })
            .collect();
        for t in tasks {
            assert_eq!(t.await.unwrap(), 200);
        }
        assert_eq!(app.count("payments").await, 1);
        assert_eq!(app.count("email_outbox").await, mails + 1);
        let open: Vec<Value> = s.ok("open_invoices", &[]).await;
        assert_eq!(open.len(), 1);
        // Someone else's invoice: not found.
        let other = app.sign_in("active@demo.test").await;
        let r = other
            .form(
                "pay_invoice",
                &[
                    ("id", open[0]["id"].as_i64().unwrap().to_string().as_str()),
                    ("setup_id", good.as_str()),
                ],
            )
            .await;
        assert_eq!(r.status(), 404);
    }
}

/// A Corporate account cannot cancel online, like every other change: the
/// refusal names the representative and nothing is written.
#[tokio::test]
async fn a_corporate_subscription_cannot_be_cancelled_online() {
    for backend in backends() {
        let app = TestApp::spawn_seeded(backend).await;
        let s = app.sign_in("corporate@demo.test").await;
        let (id, version, status): (i64, i64, String) = sqlx::query_as(
            "SELECT s.id, s.version, s.status FROM subscriptions s
             JOIN users u ON u.account_id = s.account_id
             WHERE u.email = 'corporate@demo.test' AND s.status = 'active' ORDER BY s.id LIMIT 1",
        )
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
        let (audit, outbox) = (
            app.count("audit_log").await,
            app.count("email_outbox").await,
        );
        let r = s
            .form(
                "cancel_subscription",
                &[("id", &id.to_string()), ("version", &version.to_string())],
            )
            .await;
        assert_eq!(r.status(), 422, "{backend:?}");
        assert!(
            r.text().await.unwrap().contains("CorporateAccount"),
            "{backend:?}"
        );
        let (after,): (String,) = sqlx::query_as("SELECT status FROM subscriptions WHERE id = $1")
            .bind(id)
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
        assert_eq!(after, status, "{backend:?}");
        assert_eq!(
            (
                app.count("audit_log").await,
                app.count("email_outbox").await
            ),
            (audit, outbox),
            "{backend:?}: nothing written"
        );
    }
}
