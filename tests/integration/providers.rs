//! The payment provider a fault test runs against, outliving the server
//! processes it kills as a real one does: the built-in gateway with its
//! journal file, or localstripe (when `TEST_STRIPE_URL` is set). The books
//! are then checked against what the provider itself holds.

use billing_center::db::Db;
use billing_center::db::payment_methods::{PaymentMethodKind, PaymentMethodRecord};
use billing_center::domain::AccountId;
use billing_center::server::payments::{PaymentGateway, StripeConfig, StripeGateway, TestGateway};
use serde_json::Value;

use crate::stripe::{browser_confirms_card, stripe_config};

pub enum Provider {
    /// The journal is `gateway.journal` in its own directory.
    Journal(tempfile::TempDir),
    Stripe(StripeConfig),
}

const JOURNAL: &str = "gateway.journal";

impl Provider {
    /// A fresh built-in gateway, and localstripe if it runs.
    pub fn all() -> Vec<Provider> {
        let mut out = vec![Provider::Journal(tempfile::tempdir().unwrap())];
        out.extend(stripe_config().map(Provider::Stripe));
        out
    }

    pub fn name(&self) -> &'static str {
        match self {
            Provider::Journal(_) => "test gateway",
            Provider::Stripe(_) => "localstripe",
        }
    }

    /// The settings a server or `bill` process needs to use it.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        match self {
            Provider::Journal(dir) => vec![(
                "BC_TEST_GATEWAY_LEDGER",
                dir.path().join(JOURNAL).display().to_string(),
            )],
            Provider::Stripe(c) => vec![
                ("STRIPE_SECRET_KEY", c.secret_key.clone()),
                ("STRIPE_PUBLISHABLE_KEY", c.publishable_key.clone()),
                ("STRIPE_WEBHOOK_SECRET", c.webhook_secret.clone()),
                ("STRIPE_API_BASE", c.api_base.clone()),
                ("STRIPE_JS_URL", c.js_url.clone()),
            ],
        }
    }

    /// Gives `account` a card this provider can charge, in place of the
    /// demo card the fixtures save: with Stripe, a Customer and a card saved
    /// through a SetupIntent the way Stripe.js confirms it.
    pub async fn give_card(&self, db: &Db, account: AccountId) {
        let Provider::Stripe(config) = self else {
            return;
        };
        let g = StripeGateway::new(config.clone()).unwrap();
        let customer = g
            .create_customer(account, "Fault test", "fault@gateway.test")
            .await
            .unwrap();
        billing_center::db::gateway::keep_gateway_customer(db, account, &customer)
            .await
            .unwrap();
        let setup = g
            .start_setup(&customer, PaymentMethodKind::Card)
            .await
            .unwrap();
        let confirmed = browser_confirms_card(config, &setup, "4242424242424242").await;
        assert_eq!(confirmed["status"], "succeeded", "{confirmed}");
        let saved = g.finish_setup(&customer, &setup.id).await.unwrap();
        let pm = PaymentMethodRecord::from(saved);
        billing_center::db::payment_methods::save_payment_method(db, account, &pm)
            .await
            .unwrap();
    }

    /// What the provider kept and did not refund, as (charge id, amount):
    /// read from the provider itself (localstripe: the intents of this
    /// database's customers), never from the gateway code under test.
    pub async fn settled(&self, db: &Db) -> Vec<(String, i64)> {
        match self {
            Provider::Journal(dir) => TestGateway::persistent(&dir.path().join(JOURNAL))
                .unwrap()
                .settled()
                .await
                .unwrap(),
            Provider::Stripe(config) => {
                let customers: Vec<(String,)> = sqlx::query_as(
                    "SELECT gateway_customer FROM accounts WHERE gateway_customer IS NOT NULL",
                )
                .fetch_all(&db.pool)
                .await
                .unwrap();
                let mut out = Vec::new();
                for (customer,) in customers {
                    for i in intents(config, &customer).await {
                        let paid = matches!(i["status"].as_str(), Some("succeeded" | "processing"));
                        let refunded = i["latest_charge"]["refunded"].as_bool() == Some(true);
                        if paid && !refunded {
                            out.push((
                                i["id"].as_str().unwrap().to_string(),
                                i["amount"].as_i64().unwrap(),
                            ));
                        }
                    }
                }
                out
            }
        }
    }
}

/// Every PaymentIntent of `customer` at the test server.
pub async fn intents(config: &StripeConfig, customer: &str) -> Vec<Value> {
    let list: Value = reqwest::Client::new()
        .get(format!("{}/v1/payment_intents", config.api_base))
        .basic_auth(&config.secret_key, Some(""))
        .query(&[("customer", customer), ("limit", "100000")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        list["has_more"], false,
        "{customer}: more intents than read"
    );
    list["data"].as_array().unwrap().clone()
}
