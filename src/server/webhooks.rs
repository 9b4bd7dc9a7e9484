//! `POST /webhooks/stripe`: Stripe's events, checked and reconciled with
//! what the database holds. Events may come late, early, twice or out of
//! order: each is handled once by id, and each handler only brings the
//! books to what Stripe says (doing it twice changes nothing twice).

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::payments::stripe_signature::verify_signature;
use super::state::AppState;
use crate::billing::Money;
use crate::db::payments::{self, PaymentRecord, PaymentStatus, Reversal};
use crate::db::writes::EmailWrite;
use crate::db::{accounts, audit, gateway};
use crate::domain::AccountId;
use crate::error::AppError;

/// Stripe's own default tolerance for a signature's timestamp.
const TOLERANCE_SECONDS: i64 = 300;

fn answer(status: StatusCode, body: Value) -> Response {
    (status, axum::Json(body)).into_response()
}

pub async fn stripe(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let Some(stripe) = &state.stripe else {
        return answer(
            StatusCode::NOT_FOUND,
            json!({"error": "Stripe is not configured"}),
        );
    };
    let signature = headers
        .get("stripe-signature")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let now = chrono::Utc::now().timestamp();
    if let Err(e) = verify_signature(
        &stripe.webhook_secret,
        signature,
        &body,
        now,
        TOLERANCE_SECONDS,
    ) {
        tracing::warn!(error = %e, "Stripe webhook refused");
        return answer(StatusCode::BAD_REQUEST, json!({"error": e.to_string()}));
    }
    let Ok(event) = serde_json::from_slice::<Value>(&body) else {
        return answer(
            StatusCode::BAD_REQUEST,
            json!({"error": "the body is not JSON"}),
        );
    };
    let (Some(id), Some(kind)) = (event["id"].as_str(), event["type"].as_str()) else {
        return answer(StatusCode::BAD_REQUEST, json!({"error": "not an event"}));
    };
    match handle_once(&state, id, kind, &event["data"]["object"]).await {
        Ok(first) => answer(
            StatusCode::OK,
            json!({"received": true, "duplicate": !first}),
        ),
        // Stripe delivers again later: the handlers are safe to repeat.
        Err(e) => {
            tracing::error!(event = id, kind, error = %e, "Stripe webhook not handled yet");
            answer(
                StatusCode::SERVICE_UNAVAILABLE,
                json!({"error": "not handled yet, deliver again"}),
            )
        }
    }
}

/// Handles the event unless it was already; true the first time.
async fn handle_once(
    state: &AppState,
    id: &str,
    kind: &str,
    object: &Value,
) -> Result<bool, AppError> {
    if gateway::event_handled(&state.db, id).await? {
        return Ok(false);
    }
    match kind {
        "setup_intent.succeeded" => setup_succeeded(state, object).await?,
        "payment_intent.succeeded" => payment_succeeded(state, object).await?,
        "payment_intent.payment_failed" => payment_failed(state, object).await?,
        "charge.refunded" => refunded(state, object).await?,
        _ => {}
    }
    Ok(gateway::mark_event_handled(&state.db, id, kind).await?)
}

fn customer_of(object: &Value) -> Option<&str> {
    object["customer"]
        .as_str()
        .or_else(|| object["customer"]["id"].as_str())
}

/// A method the browser confirmed and maybe never reported (its tab was
/// closed): saved now, unless it is the one saved already.
async fn setup_succeeded(state: &AppState, setup: &Value) -> Result<(), AppError> {
    let (Some(customer), Some(id)) = (customer_of(setup), setup["id"].as_str()) else {
        return Ok(());
    };
    let Some(account) = gateway::account_of_customer(&state.db, customer).await? else {
        return Ok(());
    };
    match super::payment_setup::finish(state, account, None, id, None).await {
        Ok(_) => Ok(()),
        // Not the account's, or not done: nothing to save.
        Err(AppError::Payment(_)) => Ok(()),
        Err(e) => Err(e),
    }
}

fn account_of(intent: &Value) -> Option<AccountId> {
    intent["metadata"]["account_id"].as_str()?.parse().ok()
}

/// A renewal waiting for the customer's authentication is paid: the
/// subscription's retry sends the same reference and records the charge.
async fn payment_succeeded(state: &AppState, intent: &Value) -> Result<(), AppError> {
    let (Some(account), Some(reference)) =
        (account_of(intent), intent["metadata"]["reference"].as_str())
    else {
        return Ok(());
    };
    // It charges the account's past-due renewals only, if there are any.
    let report = super::billing_run::retry_past_due(state, account).await?;
    if report.renewed > 0 {
        tracing::info!(account = %account, reference, renewed = report.renewed, "renewal paid after authentication");
    }
    Ok(())
}

/// A payment that failed after it was recorded (a SEPA debit the bank
/// returned): the payment is marked reversed and its invoice is open again,
/// and the billing contact is told how to pay it. A failure of a payment
/// never recorded needs nothing: the charge's own answer, or the
/// reconciliation of an interrupted order, already saw it.
async fn payment_failed(state: &AppState, intent: &Value) -> Result<(), AppError> {
    let Some(id) = intent["id"].as_str() else {
        return Ok(());
    };
    let reason = intent["last_payment_error"]["message"]
        .as_str()
        .unwrap_or("declined");
    reverse(state, id, Reversal::Failed, reason, None).await
}

/// A refund made at Stripe (its dashboard): a full one marks the payment
/// refunded, and the customer is told; the invoice stays what it was.
async fn refunded(state: &AppState, charge: &Value) -> Result<(), AppError> {
    let Some(intent) = charge["payment_intent"].as_str() else {
        return Ok(());
    };
    let refunded = charge["amount_refunded"].as_i64();
    reverse(
        state,
        intent,
        Reversal::Refunded,
        "refunded at Stripe",
        refunded,
    )
    .await
}

async fn reverse(
    state: &AppState,
    charge_id: &str,
    reversal: Reversal,
    reason: &str,
    refunded_minor: Option<i64>,
) -> Result<(), AppError> {
    let Some(p) = payments::payment_of_charge(&state.db, charge_id).await? else {
        return Ok(());
    };
    if p.status != PaymentStatus::Succeeded {
        return Ok(()); // recorded already
    }
    let amount = match refunded_minor {
        Some(minor) => Money::from_minor(minor, p.amount.currency()),
        None => p.amount,
    };
    let detail = format!(
        "payment {charge_id} of {} {}: {reason} ({} {})",
        p.amount.amount(),
        p.amount.currency().code(),
        amount.amount(),
        amount.currency().code()
    );
    if amount != p.amount {
        // A partial refund: the payment stands, the operator sees it.
        audit::audit_system(
            &state.db,
            p.account_id,
            "partly_refunded_at_provider",
            &detail,
        )
        .await?;
        return Ok(());
    }
    let email = notice(state, &p, reversal, reason).await?;
    if payments::reverse_payment(&state.db, charge_id, reversal, &detail, email.as_ref()).await? {
        tracing::warn!(account = %p.account_id, "{detail}");
    }
    Ok(())
}

/// The billing contact's email about `reversal` of payment `p`.
async fn notice(
    state: &AppState,
    p: &PaymentRecord,
    reversal: Reversal,
    reason: &str,
) -> Result<Option<EmailWrite>, AppError> {
    let (Some(account), Some(contact)) = (
        accounts::find_account(&state.db, p.account_id).await?,
        accounts::billing_contact(&state.db, p.account_id).await?,
    ) else {
        return Ok(None);
    };
    let lang = account.language;
    let t = lang.texts();
    let number = p.invoice_number.clone().unwrap_or_default();
    let amount = lang.money(p.amount);
    let (subject, body) = match reversal {
        Reversal::Failed => (t.payment_returned_subject, t.payment_returned_body),
        Reversal::Refunded => (t.payment_refunded_subject, t.payment_refunded_body),
    };
    let reason = crate::i18n::errors::sentence(lang, reason);
    let link = state.identity.link("/billing/portal");
    Ok(Some(super::email::notice(
        &state.identity,
        lang,
        contact.email.as_str(),
        subject,
        body,
        &[
            ("number", &number),
            ("amount", &amount),
            ("reason", &reason),
            ("link", &link),
        ],
    )))
}
