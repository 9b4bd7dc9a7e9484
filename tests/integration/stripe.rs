//! The Stripe gateway against a real Stripe-protocol server: localstripe,
//! behind `scripts/stripe/proxy.py` (Stripe's idempotency keys), started
//! by `make test` (`TEST_STRIPE_URL`). The test plays Stripe.js's part
//! where the browser would: it confirms setups and authentications with
//! the same calls the fake Stripe.js makes; billing-center's server never
//! sees a card number.

use billing_center::db::payment_methods::PaymentMethodKind;
use billing_center::domain::AccountId;
use billing_center::server::payments::stripe_signature::sign;
use billing_center::server::payments::{
    ChargeRequest, PaymentError, PaymentGateway, SetupStart, StripeConfig, StripeGateway,
};
use serde_json::{Value, json};

use crate::helpers::*;

pub const WEBHOOK_SECRET: &str = "whsec_billing_center_test";

/// The test server's settings; `None` (the test is skipped) without
/// `TEST_STRIPE_URL`, unless `BC_REQUIRE_STRIPE=1`.
pub fn stripe_config() -> Option<StripeConfig> {
    let Ok(base) = std::env::var("TEST_STRIPE_URL") else {
        if std::env::var("BC_REQUIRE_STRIPE").as_deref() == Ok("1") {
            panic!("BC_REQUIRE_STRIPE=1 but TEST_STRIPE_URL is not set");
        }
        println!("TEST_STRIPE_URL not set: the Stripe tests are skipped");
        return None;
    };
    Some(StripeConfig {
        secret_key: "sk_test_billing_center".into(),
        publishable_key: "pk_test_billing_center".into(),
        webhook_secret: WEBHOOK_SECRET.into(),
        js_url: format!("{base}/js.stripe.com/v3/"),
        api_base: base,
    })
}

/// What Stripe.js's `confirmCardSetup` sends from the browser, and its
/// "Complete authentication" when the card asks for 3-D Secure.
pub async fn browser_confirms_card(
    config: &StripeConfig,
    setup: &SetupStart,
    number: &str,
) -> Value {
    let url = format!("{}/v1/setup_intents/{}/confirm", config.api_base, setup.id);
    let body = json!({
        "key": config.publishable_key, "use_stripe_sdk": true, "client_secret": setup.client_secret,
        "payment_method_data": {"type": "card",
            "card": {"number": number, "exp_month": "12", "exp_year": "30", "cvc": "123"},
            "billing_details": {"address": {"postal_code": "75002"}}},
    });
    let mut answer: Value = post_json(&url, &body).await;
    if answer["status"] == "requires_action" {
        let again = json!({"key": config.publishable_key, "use_stripe_sdk": true,
                           "client_secret": setup.client_secret});
        answer = post_json(&url, &again).await;
    }
    answer
}

/// `confirmSepaDebitSetup` with the IBAN.
pub async fn browser_confirms_sepa(config: &StripeConfig, setup: &SetupStart, iban: &str) -> Value {
    let url = format!("{}/v1/setup_intents/{}/confirm", config.api_base, setup.id);
    let body = json!({
        "key": config.publishable_key, "use_stripe_sdk": true, "client_secret": setup.client_secret,
        "payment_method_data": {"type": "sepa_debit", "sepa_debit": {"iban": iban},
            "billing_details": {"name": "Jane Doe", "email": "jane@demo.test"}},
    });
    post_json(&url, &body).await
}

/// `confirmCardPayment`'s "Complete authentication" for a payment.
pub async fn browser_authenticates(config: &StripeConfig, intent: &str, client_secret: &str) {
    let url = format!(
        "{}/v1/payment_intents/{intent}/_authenticate?success=true",
        config.api_base
    );
    let answer = post_json(
        &url,
        &json!({"key": config.publishable_key, "client_secret": client_secret}),
    )
    .await;
    assert_eq!(answer["status"], "succeeded", "{answer}");
}

async fn post_json(url: &str, body: &Value) -> Value {
    reqwest::Client::new()
        .post(url)
        .body(body.to_string())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// The payment intents of `customer` at the test server: (reference,
/// amount, status, refunded).
pub async fn intents_of(config: &StripeConfig, customer: &str) -> Vec<(String, i64, String, bool)> {
    crate::providers::intents(config, customer)
        .await
        .iter()
        .map(|i| {
            (
                i["metadata"]["reference"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                i["amount"].as_i64().unwrap(),
                i["status"].as_str().unwrap().to_string(),
                i["latest_charge"]["refunded"].as_bool() == Some(true),
            )
        })
        .collect()
}

async fn saved_card(
    g: &StripeGateway,
    config: &StripeConfig,
    customer: &str,
    number: &str,
) -> String {
    let setup = g
        .start_setup(customer, PaymentMethodKind::Card)
        .await
        .unwrap();
    let confirmed = browser_confirms_card(config, &setup, number).await;
    assert_eq!(confirmed["status"], "succeeded", "{confirmed}");
    g.finish_setup(customer, &setup.id).await.unwrap().token
}

fn request<'a>(
    token: &'a str,
    amount_minor: i64,
    reference: &'a str,
    account: AccountId,
) -> ChargeRequest<'a> {
    ChargeRequest {
        token,
        amount_minor,
        currency: "EUR",
        reference,
        account_id: account,
    }
}

fn unique(what: &str) -> String {
    format!(
        "bc_{what}_{}",
        chrono::Utc::now().timestamp_nanos_opt().unwrap()
    )
}

#[tokio::test]
async fn the_stripe_gateway_saves_charges_declines_authenticates_and_refunds() {
    let Some(config) = stripe_config() else {
        return;
    };
    let g = StripeGateway::new(config.clone()).unwrap();
    let account = AccountId::new(7);
    let customer = g
        .create_customer(account, "Gateway GmbH", "billing@gateway.test")
        .await
        .unwrap();
    assert!(customer.starts_with("cus_"), "{customer}");

    // A card saved through a SetupIntent: what the server keeps.
    let setup = g
        .start_setup(&customer, PaymentMethodKind::Card)
        .await
        .unwrap();
    assert!(
        setup
            .client_secret
            .starts_with(&format!("{}_secret_", setup.id))
    );
    assert_eq!(
        g.finish_setup(&customer, &setup.id).await,
        Err(PaymentError::Unconfirmed),
        "not confirmed yet: nothing to save"
    );
    browser_confirms_card(&config, &setup, "4242424242424242").await;
    let saved = g.finish_setup(&customer, &setup.id).await.unwrap();
    assert_eq!(
        (saved.kind, saved.brand.as_str(), saved.last4.as_str()),
        (PaymentMethodKind::Card, "Visa", "4242")
    );
    assert_eq!(saved.expiry, Some((12, 2030)));
    assert!(
        saved.token.starts_with(&format!("{customer}/pm_")),
        "{}",
        saved.token
    );
    // Another customer's setup is not this one's to save.
    let other = g
        .create_customer(AccountId::new(8), "Other", "o@gateway.test")
        .await
        .unwrap();
    assert_eq!(
        g.finish_setup(&other, &setup.id).await,
        Err(PaymentError::Unconfirmed)
    );

    // Off-session charge; the same reference again is the first answer.
    let reference = unique("charge");
    let charge = g
        .charge(request(&saved.token, 12_345, &reference, account))
        .await
        .unwrap();
    assert_eq!(
        (
            charge.amount_minor,
            charge.currency.as_str(),
            charge.account_id
        ),
        (12_345, "EUR", account)
    );
    let again = g
        .charge(request(&saved.token, 12_345, &reference, account))
        .await
        .unwrap();
    assert_eq!(again.id, charge.id, "one payment intent per reference");
    assert_eq!(
        g.charge(request(&saved.token, 99, &reference, account))
            .await,
        Err(PaymentError::Refused),
        "the same key with another amount is refused, not charged"
    );
    let found = g.charge_for(&reference, Some(&saved.token)).await.unwrap();
    assert_eq!(found.map(|c| c.id), Some(charge.id.clone()));
    assert_eq!(
        g.charge_for(&unique("none"), Some(&saved.token))
            .await
            .unwrap(),
        None
    );

    // A refund, and the intent shows it.
    let refund = g.refund(&charge.id).await.unwrap();
    assert_eq!(refund.amount_minor, 12_345);
    let intents = intents_of(&config, &customer).await;
    assert!(
        intents.iter().any(|(r, a, s, refunded)| r == &reference
            && *a == 12_345
            && s == "succeeded"
            && *refunded),
        "{intents:?}"
    );

    // Declines: at setup (…0002), and when charged (…0341).
    let setup = g
        .start_setup(&customer, PaymentMethodKind::Card)
        .await
        .unwrap();
    let declined = browser_confirms_card(&config, &setup, "4000000000000002").await;
    assert_eq!(declined["error"]["code"], "card_declined", "{declined}");
    let fails = saved_card(&g, &config, &customer, "4000000000000341").await;
    assert_eq!(
        g.charge(request(&fails, 500, &unique("decline"), account))
            .await,
        Err(PaymentError::Declined)
    );

    // 3-D Secure (…3155): the charge waits for the customer; once they
    // authenticated, the same reference finds it paid.
    let secure = saved_card(&g, &config, &customer, "4000002500003155").await;
    let reference = unique("3ds");
    let Err(PaymentError::ActionRequired {
        intent,
        client_secret,
    }) = g.charge(request(&secure, 2_000, &reference, account)).await
    else {
        panic!("3-D Secure was not asked for");
    };
    assert!(client_secret.starts_with(&intent));
    browser_authenticates(&config, &intent, &client_secret).await;
    let paid = g
        .charge(request(&secure, 2_000, &reference, account))
        .await
        .unwrap();
    assert_eq!(
        paid.id, intent,
        "the authenticated intent, not a second charge"
    );
    let paid_3ds: Vec<_> = intents_of(&config, &customer)
        .await
        .into_iter()
        .filter(|i| i.0 == reference)
        .collect();
    assert_eq!(paid_3ds.len(), 1, "{paid_3ds:?}");

    // SEPA Direct Debit.
    let setup = g
        .start_setup(&customer, PaymentMethodKind::Sepa)
        .await
        .unwrap();
    let confirmed = browser_confirms_sepa(&config, &setup, "DE89370400440532013000").await;
    assert_eq!(confirmed["status"], "succeeded", "{confirmed}");
    let sepa = g.finish_setup(&customer, &setup.id).await.unwrap();
    assert_eq!(
        (sepa.kind, sepa.last4.as_str(), sepa.expiry),
        (PaymentMethodKind::Sepa, "3000", None)
    );
}

/// `/webhooks/stripe` takes Stripe's signature, refuses a forged or stale
/// one, and handles each event id once; localstripe's own deliveries (a
/// real signer) are accepted.
#[tokio::test]
async fn the_webhook_accepts_stripes_signature_and_refuses_a_forged_one() {
    let Some(config) = stripe_config() else {
        return;
    };
    for backend in backends() {
        let app = TestApp::spawn_seeded_with_stripe(backend, config.clone()).await;
        let url = format!("{}/webhooks/stripe", app.base);
        let event =
            json!({"id": unique("evt"), "type": "customer.updated", "data": {"object": {}}})
                .to_string();
        let now = chrono::Utc::now().timestamp();
        let post = |signature: String, body: String| {
            let client = app.client.clone();
            let url = url.clone();
            async move {
                let r = client
                    .post(&url)
                    .header("Stripe-Signature", signature)
                    .body(body)
                    .send()
                    .await
                    .unwrap();
                let status = r.status().as_u16();
                (status, r.json::<Value>().await.unwrap())
            }
        };
        let (status, first) =
            post(sign(WEBHOOK_SECRET, event.as_bytes(), now), event.clone()).await;
        assert_eq!(
            (status, first["duplicate"].clone()),
            (200, json!(false)),
            "{first}"
        );
        let (status, again) =
            post(sign(WEBHOOK_SECRET, event.as_bytes(), now), event.clone()).await;
        assert_eq!(
            (status, again["duplicate"].clone()),
            (200, json!(true)),
            "{again}"
        );
        let forged = sign("whsec_someone_else", event.as_bytes(), now);
        assert_eq!(post(forged, event.clone()).await.0, 400);
        let stale = sign(WEBHOOK_SECRET, event.as_bytes(), now - 3600);
        assert_eq!(post(stale, event.clone()).await.0, 400);
        let tampered = sign(WEBHOOK_SECRET, event.as_bytes(), now);
        assert_eq!(
            post(
                tampered,
                event.replace("customer.updated", "charge.refunded")
            )
            .await
            .0,
            400
        );
        assert_eq!(post(String::new(), event.clone()).await.0, 400);
        assert_eq!(
            app.count("gateway_events").await,
            1,
            "{backend:?}: one event, handled once"
        );

        // localstripe signs its deliveries itself.
        let name = unique("hook");
        let r = reqwest::Client::new()
            .post(format!("{}/_config/webhooks/{name}", config.api_base))
            .body(
                json!({"url": url, "secret": WEBHOOK_SECRET, "events": ["customer.created"]})
                    .to_string(),
            )
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "{}", r.text().await.unwrap());
        let g = StripeGateway::new(config.clone()).unwrap();
        g.create_customer(AccountId::new(99), "Hooked", "h@gateway.test")
            .await
            .unwrap();
        let mut delivered = 0;
        for _ in 0..100 {
            delivered = app.count("gateway_events").await;
            if delivered > 1 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        // At least: localstripe also delivers the customers that tests
        // running beside this one create.
        assert!(
            delivered >= 2,
            "{backend:?}: localstripe's signed delivery accepted ({delivered} events)"
        );
        // Stop it delivering to this app (it ends with the test).
        let _ = reqwest::Client::new()
            .post(format!("{}/_config/webhooks/{name}", config.api_base))
            .body(
                json!({"url": "http://127.0.0.1:9/", "secret": WEBHOOK_SECRET, "events": []})
                    .to_string(),
            )
            .send()
            .await;
    }
}

/// Delivers `event` to the app's webhook, signed as Stripe signs it.
async fn deliver(app: &TestApp, event: Value) -> (u16, Value) {
    let body = event.to_string();
    let r = app
        .client
        .post(format!("{}/webhooks/stripe", app.base))
        .header(
            "Stripe-Signature",
            sign(
                WEBHOOK_SECRET,
                body.as_bytes(),
                chrono::Utc::now().timestamp(),
            ),
        )
        .body(body)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

/// What the books say of the payment of `charge`: (payment status,
/// invoice status, emails to its account with `subject`).
async fn after(app: &TestApp, charge: &str, subject: &str) -> (String, String, i64) {
    sqlx::query_as(
        "SELECT p.status, i.status, CAST((SELECT COUNT(*) FROM email_outbox e
                WHERE e.account_id = p.account_id AND e.subject LIKE $2) AS BIGINT)
         FROM payments p JOIN invoices i ON i.id = p.invoice_id WHERE p.gateway_ref = $1",
    )
    .bind(charge)
    .bind(format!("%{subject}%"))
    .fetch_one(&app.db.pool)
    .await
    .unwrap()
}

/// A payment Stripe takes back after it was recorded: a SEPA debit the
/// bank returns reopens its invoice and tells the customer; a full refund
/// made in Stripe's dashboard marks the payment refunded and tells the
/// customer; a partial one is audited only. Each once, however many times
/// the events come.
#[tokio::test]
async fn late_failures_and_dashboard_refunds_reach_the_books_once() {
    use billing_center::server::billing_run::{AsOf, run};
    let Some(config) = stripe_config() else {
        return;
    };
    for backend in backends() {
        let app = TestApp::spawn_seeded_with_stripe(backend, config.clone()).await;
        let provider = crate::providers::Provider::Stripe(config.clone());
        let today = billing_center::server::clock::local_date(chrono::Utc::now(), "Europe/Paris");
        let start = today.checked_sub_months(chrono::Months::new(1)).unwrap();
        let mut accounts = Vec::new();
        for i in 0..2 {
            let (a, _) = online_account_with_card(
                &app.db,
                &format!("Late {i}"),
                &format!("late{i}@demo.test"),
            )
            .await;
            provider.give_card(&app.db, a).await;
            billing_center::db::subscriptions::insert_subscription(
                &app.db,
                &active_monthly(a, "meeting", "business", start, 1900),
            )
            .await
            .unwrap();
            accounts.push(a);
        }
        run(&app.state(), AsOf::Now).await.unwrap();
        let mut charges = Vec::new();
        for a in &accounts {
            let (charge, amount): (String, i64) = sqlx::query_as(
                "SELECT gateway_ref, amount_minor FROM payments WHERE account_id = $1",
            )
            .bind(a)
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
            assert!(charge.starts_with("pi_"), "{charge}");
            charges.push((charge, amount));
        }

        // The bank returns the first account's debit; Stripe may say so twice.
        let failed = |id: &str| {
            json!({"id": unique("evt"), "type": "payment_intent.payment_failed",
                   "data": {"object": {"id": id, "object": "payment_intent",
                   "last_payment_error": {"message": "The account is closed."}}}})
        };
        let returned = "did not go through";
        assert_eq!(
            after(&app, &charges[0].0, returned).await,
            ("succeeded".into(), "paid".into(), 0)
        );
        for _ in 0..2 {
            assert_eq!(deliver(&app, failed(&charges[0].0)).await.0, 200);
            assert_eq!(
                after(&app, &charges[0].0, returned).await,
                ("reversed".into(), "open".into(), 1),
                "{backend:?}: reversed, the invoice open again, one email"
            );
        }
        let (open,): (i64,) = sqlx::query_as(
            "SELECT CAST(COUNT(*) AS BIGINT) FROM invoices WHERE account_id = $1 AND status = 'open'",
        )
        .bind(accounts[0])
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
        assert_eq!(open, 1, "the portal lists it to pay");

        // Refunds in the dashboard: half, then all of the second payment.
        let refund = |id: &str, minor: i64| {
            json!({"id": unique("evt"), "type": "charge.refunded",
                   "data": {"object": {"id": unique("ch"), "object": "charge",
                   "payment_intent": id, "amount_refunded": minor, "refunded": minor > 0}}})
        };
        let (id, amount) = &charges[1];
        assert_eq!(deliver(&app, refund(id, amount / 2)).await.0, 200);
        assert_eq!(
            after(&app, id, "Refund for").await,
            ("succeeded".into(), "paid".into(), 0),
            "{backend:?}: a partial refund leaves the payment standing"
        );
        let (audited,): (i64,) = sqlx::query_as(
            "SELECT CAST(COUNT(*) AS BIGINT) FROM audit_log WHERE account_id = $1 AND action = 'partly_refunded_at_provider'",
        )
        .bind(accounts[1])
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
        assert_eq!(audited, 1);
        for _ in 0..2 {
            assert_eq!(deliver(&app, refund(id, *amount)).await.0, 200);
            assert_eq!(
                after(&app, id, "Refund for").await,
                ("refunded".into(), "paid".into(), 1),
                "{backend:?}: refunded once, the invoice stays issued and paid"
            );
        }
        // An event about a charge the books never recorded changes nothing.
        let payments = app.count("payments").await;
        assert_eq!(deliver(&app, failed("pi_unknown")).await.0, 200);
        assert_eq!(app.count("payments").await, payments);
    }
}
