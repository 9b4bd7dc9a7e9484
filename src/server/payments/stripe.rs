//! Stripe, over its REST API with `reqwest` (form-encoded requests, JSON
//! answers): the eight endpoints used here did not justify a generated
//! client's build time. Card data never passes through: the browser
//! confirms SetupIntents with Stripe.js, and the server charges the saved
//! payment method off-session under an idempotency key per attempt.
//!
//! A token, as stored, is `cus_…/pm_…`: the account's Customer and the
//! payment method, so a charge needs nothing else from the database.
//! Webhook signatures are in `stripe_signature`.

use serde_json::Value;
use std::time::Duration;

use super::{
    Charge, ChargeRequest, GatewayFuture, PaymentError, PaymentGateway, PendingPayment, Refund,
    SavedMethod, SetupStart,
};
use crate::db::payment_methods::PaymentMethodKind;
use crate::domain::AccountId;

/// `STRIPE_*` settings. `api_base` and `js_url` default to Stripe's own
/// and are overridden by the tests (localstripe).
#[derive(Clone)]
pub struct StripeConfig {
    pub secret_key: String,
    pub publishable_key: String,
    pub webhook_secret: String,
    pub api_base: String,
    pub js_url: String,
}

// Never print the keys.
impl std::fmt::Debug for StripeConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StripeConfig")
            .field("api_base", &self.api_base)
            .field("js_url", &self.js_url)
            .finish_non_exhaustive()
    }
}

pub const STRIPE_API_BASE: &str = "https://api.stripe.com";
pub const STRIPE_JS_URL: &str = "https://js.stripe.com/v3/";

impl StripeConfig {
    /// The origin Stripe.js is loaded from, for the Content Security Policy.
    pub fn js_origin(&self) -> String {
        origin(&self.js_url)
    }

    /// The origin Stripe.js talks to (its API), for `connect-src`.
    pub fn api_origin(&self) -> String {
        origin(&self.api_base)
    }
}

fn origin(url: &str) -> String {
    url::Url::parse(url)
        .map(|u| u.origin().ascii_serialization())
        .unwrap_or_default()
}

/// Stripe's decline codes after which the same payment method can only
/// fail again: the customer must add a new one.
const HARD_DECLINES: &[&str] = &[
    "lost_card",
    "stolen_card",
    "pickup_card",
    "restricted_card",
    "expired_card",
    "invalid_account",
    "account_closed",
    "incorrect_number",
    "invalid_number",
    "revocation_of_authorization",
];

/// The error for a declined payment (`code`, `decline_code`).
pub fn decline(code: &str, decline_code: Option<&str>) -> PaymentError {
    let reason = decline_code.unwrap_or(code);
    if HARD_DECLINES.contains(&reason) || HARD_DECLINES.contains(&code) {
        PaymentError::HardDecline
    } else if reason == "insufficient_funds" {
        PaymentError::InsufficientFunds
    } else {
        PaymentError::Declined
    }
}

#[derive(Debug)]
pub struct StripeGateway {
    config: StripeConfig,
    http: reqwest::Client,
}

impl StripeGateway {
    pub fn new(config: StripeConfig) -> Result<StripeGateway, String> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(40))
            .build()
            .map_err(|e| format!("cannot build the Stripe client: {e}"))?;
        Ok(StripeGateway { config, http })
    }

    pub fn config(&self) -> &StripeConfig {
        &self.config
    }

    async fn call(
        &self,
        request: reqwest::RequestBuilder,
        what: &str,
    ) -> Result<Value, PaymentError> {
        let answer = request
            .basic_auth(&self.config.secret_key, Some(""))
            .header("Stripe-Version", "2024-06-20")
            .send()
            .await;
        let answer = match answer {
            Ok(a) => a,
            // Sent or not, unknown: the retry sends the same key.
            Err(e) => {
                tracing::warn!(error = %e, "Stripe {what}: no answer");
                return Err(PaymentError::Timeout);
            }
        };
        let status = answer.status().as_u16();
        let body: Value = match answer.json().await {
            Ok(b) => b,
            Err(e) => {
                tracing::warn!(error = %e, status, "Stripe {what}: unreadable answer");
                return Err(PaymentError::Timeout);
            }
        };
        match status {
            200..=299 => Ok(body),
            402 => Err(card_error(&body)),
            // A request with the same key still in flight, rate limited, or
            // Stripe's own trouble: retry later under the same key.
            409 | 429 | 500..=599 => {
                tracing::warn!(status, "Stripe {what}: retry later");
                Err(PaymentError::Timeout)
            }
            _ => {
                tracing::error!(status, error = %body["error"], "Stripe {what}: refused");
                Err(PaymentError::Refused)
            }
        }
    }

    async fn post(
        &self,
        path: &str,
        form: &[(&str, String)],
        idempotency_key: &str,
    ) -> Result<Value, PaymentError> {
        let url = format!("{}{path}", self.config.api_base);
        let request = self
            .http
            .post(url)
            .header("Idempotency-Key", idempotency_key)
            .form(form);
        self.call(request, path).await
    }

    async fn get(&self, path: &str, query: &[(&str, String)]) -> Result<Value, PaymentError> {
        let url = format!("{}{path}", self.config.api_base);
        self.call(self.http.get(url).query(query), path).await
    }

    /// A PaymentIntent as a charge, or why it is not one (yet).
    async fn intent_outcome(&self, intent: Value, token: &str) -> Result<Charge, PaymentError> {
        let mut intent = intent;
        // An idempotent replay shows the intent as it was first answered:
        // one waiting for authentication may be paid by now.
        if intent["status"] == "requires_action" {
            let id = text(&intent, "id")?;
            intent = self.get(&format!("/v1/payment_intents/{id}"), &[]).await?;
        }
        match intent["status"].as_str().unwrap_or_default() {
            // SEPA debits settle days later: charged unless a
            // `payment_intent.payment_failed` event says otherwise.
            "succeeded" | "processing" => charge_of(&intent, token),
            "requires_action" => Err(PaymentError::ActionRequired {
                intent: text(&intent, "id")?,
                client_secret: text(&intent, "client_secret")?,
            }),
            "requires_payment_method" => Err(intent["last_payment_error"]
                .get("code")
                .and_then(Value::as_str)
                .map(|code| decline(code, intent["last_payment_error"]["decline_code"].as_str()))
                .unwrap_or(PaymentError::Declined)),
            other => {
                tracing::error!(
                    status = other,
                    "Stripe: a payment intent in an unexpected state"
                );
                Err(PaymentError::Unconfirmed)
            }
        }
    }
}

/// The error of a 402 answer: a decline, or a payment that needs the
/// customer's authentication.
fn card_error(body: &Value) -> PaymentError {
    let error = &body["error"];
    let code = error["code"].as_str().unwrap_or("card_declined");
    if code == "authentication_required"
        && let (Some(id), Some(secret)) = (
            error["payment_intent"]["id"].as_str(),
            error["payment_intent"]["client_secret"].as_str(),
        )
    {
        return PaymentError::ActionRequired {
            intent: id.into(),
            client_secret: secret.into(),
        };
    }
    decline(code, error["decline_code"].as_str())
}

fn text(v: &Value, key: &str) -> Result<String, PaymentError> {
    v[key].as_str().map(str::to_string).ok_or_else(|| {
        tracing::error!(key, "Stripe: a field is missing from the answer");
        PaymentError::Unconfirmed
    })
}

/// Whether a client's `text` is a Stripe id with `prefix`: anything else
/// is never put in a request's path.
fn is_id(text: &str, prefix: &str) -> bool {
    text.starts_with(prefix) && text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// `id` of a field that is either an id or the expanded object.
fn id_of(v: &Value) -> Option<&str> {
    v.as_str().or_else(|| v["id"].as_str())
}

fn charge_of(intent: &Value, token: &str) -> Result<Charge, PaymentError> {
    let account_id = intent["metadata"]["account_id"]
        .as_str()
        .and_then(|a| a.parse().ok())
        .ok_or(PaymentError::Unconfirmed)?;
    Ok(Charge {
        id: text(intent, "id")?,
        amount_minor: intent["amount"].as_i64().ok_or(PaymentError::Unconfirmed)?,
        currency: text(intent, "currency")?.to_uppercase(),
        token: token.to_string(),
        account_id,
        refunded: intent["latest_charge"]["refunded"].as_bool() == Some(true)
            || intent["latest_charge"]["amount_refunded"]
                .as_i64()
                .unwrap_or(0)
                > 0,
    })
}

/// (customer, payment method) of a stored token.
fn split(token: &str) -> Result<(&str, &str), PaymentError> {
    token
        .split_once('/')
        .filter(|(c, p)| c.starts_with("cus_") && !p.is_empty())
        .ok_or_else(|| {
            tracing::warn!(
                "Stripe: refused a payment method that was not saved through Stripe \
                 (saved with the built-in test gateway?)"
            );
            PaymentError::Refused
        })
}

impl PaymentGateway for StripeGateway {
    fn create_customer<'a>(
        &'a self,
        account: AccountId,
        name: &'a str,
        email: &'a str,
    ) -> GatewayFuture<'a, String> {
        Box::pin(async move {
            let form = [
                ("name", name.to_string()),
                ("email", email.to_string()),
                ("metadata[account_id]", account.to_string()),
            ];
            // A retry after a timeout may make a second customer, which the
            // caller does not keep: harmless, unlike a key shared by two
            // installations on one Stripe account.
            let key = format!("customer:{account}:{}", random_suffix());
            let customer = self.post("/v1/customers", &form, &key).await?;
            text(&customer, "id")
        })
    }

    fn start_setup<'a>(
        &'a self,
        customer: &'a str,
        kind: PaymentMethodKind,
    ) -> GatewayFuture<'a, SetupStart> {
        Box::pin(async move {
            let method = match kind {
                PaymentMethodKind::Card => "card",
                PaymentMethodKind::Sepa => "sepa_debit",
            };
            let form = [
                ("customer", customer.to_string()),
                ("payment_method_types[]", method.to_string()),
                ("usage", "off_session".to_string()),
            ];
            // A new setup each time the page asks: nothing to deduplicate.
            let key = format!("setup:{customer}:{}", random_suffix());
            let setup = self.post("/v1/setup_intents", &form, &key).await?;
            Ok(SetupStart {
                id: text(&setup, "id")?,
                client_secret: text(&setup, "client_secret")?,
            })
        })
    }

    fn finish_setup<'a>(
        &'a self,
        customer: &'a str,
        setup_id: &'a str,
    ) -> GatewayFuture<'a, SavedMethod> {
        Box::pin(async move {
            if !is_id(setup_id, "seti_") {
                return Err(PaymentError::Unconfirmed);
            }
            let setup = self
                .get(&format!("/v1/setup_intents/{setup_id}"), &[])
                .await?;
            // Another account's setup, or one not confirmed: nothing saved.
            if id_of(&setup["customer"]) != Some(customer) || setup["status"] != "succeeded" {
                return Err(PaymentError::Unconfirmed);
            }
            let pm_id = id_of(&setup["payment_method"])
                .ok_or(PaymentError::Unconfirmed)?
                .to_string();
            let pm = self
                .get(&format!("/v1/payment_methods/{pm_id}"), &[])
                .await?;
            let token = format!("{customer}/{pm_id}");
            match pm["type"].as_str() {
                Some("card") => {
                    let card = &pm["card"];
                    let month = card["exp_month"]
                        .as_u64()
                        .and_then(|m| u32::try_from(m).ok());
                    let year = card["exp_year"]
                        .as_i64()
                        .and_then(|y| i32::try_from(y).ok());
                    Ok(SavedMethod {
                        token,
                        kind: PaymentMethodKind::Card,
                        brand: brand_name(card["brand"].as_str().unwrap_or("card")),
                        last4: text(card, "last4")?,
                        expiry: month.zip(year),
                    })
                }
                Some("sepa_debit") => Ok(SavedMethod {
                    token,
                    kind: PaymentMethodKind::Sepa,
                    brand: "SEPA Direct Debit".into(),
                    last4: text(&pm["sepa_debit"], "last4")?,
                    expiry: None,
                }),
                _ => Err(PaymentError::Unconfirmed),
            }
        })
    }

    fn charge<'a>(&'a self, r: ChargeRequest<'a>) -> GatewayFuture<'a, Charge> {
        Box::pin(async move {
            let (customer, pm) = split(r.token)?;
            let form = [
                ("amount", r.amount_minor.to_string()),
                ("currency", r.currency.to_lowercase()),
                ("customer", customer.to_string()),
                ("payment_method", pm.to_string()),
                ("payment_method_types[]", "card".to_string()),
                ("payment_method_types[]", "sepa_debit".to_string()),
                ("confirm", "true".to_string()),
                ("off_session", "true".to_string()),
                ("metadata[reference]", r.reference.to_string()),
                ("metadata[account_id]", r.account_id.to_string()),
            ];
            // The reference is the attempt's: a retry of the same attempt
            // gets the first answer, a new attempt has a new reference.
            let intent = self.post("/v1/payment_intents", &form, r.reference).await?;
            self.intent_outcome(intent, r.token).await
        })
    }

    fn refund<'a>(&'a self, charge_id: &'a str) -> GatewayFuture<'a, Refund> {
        Box::pin(async move {
            let form = [("payment_intent", charge_id.to_string())];
            let refund = self
                .post("/v1/refunds", &form, &format!("refund:{charge_id}"))
                .await?;
            Ok(Refund {
                id: text(&refund, "id")?,
                charge_id: charge_id.to_string(),
                amount_minor: refund["amount"].as_i64().unwrap_or(0),
            })
        })
    }

    fn charge_for<'a>(
        &'a self,
        reference: &'a str,
        token: Option<&'a str>,
    ) -> GatewayFuture<'a, Option<Charge>> {
        Box::pin(async move {
            // An abandoned order is recent: among the customer's last 100.
            let Some(token) = token else {
                return Ok(None);
            };
            let (customer, _) = split(token)?;
            let query = [
                ("customer", customer.to_string()),
                ("limit", "100".to_string()),
            ];
            let list = self.get("/v1/payment_intents", &query).await?;
            let found = list["data"].as_array().and_then(|intents| {
                intents
                    .iter()
                    .find(|i| i["metadata"]["reference"] == reference)
                    .cloned()
            });
            match found {
                Some(i) if matches!(i["status"].as_str(), Some("succeeded" | "processing")) => {
                    charge_of(&i, token).map(Some)
                }
                _ => Ok(None),
            }
        })
    }

    fn pending<'a>(&'a self, intent: &'a str) -> GatewayFuture<'a, PendingPayment> {
        Box::pin(async move {
            if !is_id(intent, "pi_") {
                return Err(PaymentError::Unconfirmed);
            }
            let i = self
                .get(&format!("/v1/payment_intents/{intent}"), &[])
                .await?;
            Ok(PendingPayment {
                account_id: i["metadata"]["account_id"]
                    .as_str()
                    .and_then(|a| a.parse().ok())
                    .ok_or(PaymentError::Unconfirmed)?,
                client_secret: text(&i, "client_secret")?,
                amount_minor: i["amount"].as_i64().ok_or(PaymentError::Unconfirmed)?,
                currency: text(&i, "currency")?.to_uppercase(),
                status: text(&i, "status")?,
            })
        })
    }

    fn settled(&self) -> GatewayFuture<'_, Vec<(String, i64)>> {
        Box::pin(async move {
            let mut out = Vec::new();
            let mut after: Option<String> = None;
            loop {
                let mut query = vec![("limit", "100".to_string())];
                if let Some(a) = &after {
                    query.push(("starting_after", a.clone()));
                }
                let list = self.get("/v1/payment_intents", &query).await?;
                let intents = list["data"].as_array().cloned().unwrap_or_default();
                for i in &intents {
                    let paid = matches!(i["status"].as_str(), Some("succeeded" | "processing"));
                    let refunded = charge_of(i, "").map(|c| c.refunded).unwrap_or(false);
                    if let (true, false, Some(id), Some(a)) =
                        (paid, refunded, i["id"].as_str(), i["amount"].as_i64())
                    {
                        out.push((id.to_string(), a));
                    }
                }
                match (list["has_more"].as_bool(), intents.last()) {
                    (Some(true), Some(last)) => after = Some(text(last, "id")?),
                    _ => break,
                }
            }
            out.sort();
            Ok(out)
        })
    }
}

/// Stripe's brand codes as the pages show them.
fn brand_name(code: &str) -> String {
    match code {
        "visa" => "Visa".into(),
        "mastercard" => "Mastercard".into(),
        "amex" => "American Express".into(),
        other => other.to_string(),
    }
}

fn random_suffix() -> String {
    use rand::RngCore;
    format!("{:016x}", rand::rngs::OsRng.next_u64())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hard_declines_follow_stripes_codes() {
        assert_eq!(
            decline("card_declined", Some("stolen_card")),
            PaymentError::HardDecline
        );
        assert_eq!(decline("expired_card", None), PaymentError::HardDecline);
        assert_eq!(
            decline("card_declined", Some("insufficient_funds")),
            PaymentError::InsufficientFunds
        );
        assert_eq!(
            decline("card_declined", Some("do_not_honor")),
            PaymentError::Declined
        );
        assert_eq!(decline("card_declined", None), PaymentError::Declined);
    }
}
