//! Saving a payment method the way the provider wants it: the server
//! starts a setup for the account's customer, the browser confirms it with
//! the provider (Stripe.js, or the demo's own script), the server reads
//! back what was saved. No card number or CVC reaches the server.

use super::payments::{PaymentError, SetupStart};
use super::state::AppState;
use crate::db::accounts::AccountRecord;
use crate::db::payment_methods::{self, PaymentMethodKind, PaymentMethodRecord};
use crate::db::{audit, gateway};
use crate::domain::{AccountId, UserId};
use crate::error::AppError;

fn payment(e: PaymentError) -> AppError {
    AppError::Payment(e.to_string())
}

/// The account's customer at the provider, made on first use.
pub async fn customer(
    state: &AppState,
    account: &AccountRecord,
    email: &str,
) -> Result<String, AppError> {
    if let Some(c) = gateway::gateway_customer(&state.db, account.id).await? {
        return Ok(c);
    }
    // The provider call holds nothing: two first setups at once may make two
    // customers, and the first one stored is kept.
    let made = state
        .gateway
        .create_customer(account.id, &account.name, email)
        .await
        .map_err(payment)?;
    gateway::keep_gateway_customer(&state.db, account.id, &made)
        .await?
        .ok_or(AppError::Internal)
}

pub async fn start(
    state: &AppState,
    account: &AccountRecord,
    email: &str,
    kind: PaymentMethodKind,
) -> Result<SetupStart, AppError> {
    let customer = customer(state, account, email).await?;
    state
        .gateway
        .start_setup(&customer, kind)
        .await
        .map_err(payment)
}

/// Saves what the setup `setup_id` saved at the provider as the account's
/// payment method (`mandate`: the SEPA mandate text accepted), by `user`
/// or, from a webhook, by the system.
pub async fn finish(
    state: &AppState,
    account: AccountId,
    user: Option<UserId>,
    setup_id: &str,
    mandate: Option<&str>,
) -> Result<PaymentMethodRecord, AppError> {
    let customer = gateway::gateway_customer(&state.db, account)
        .await?
        .ok_or_else(|| AppError::Invalid("Start adding the payment method again.".into()))?;
    let saved = state
        .gateway
        .finish_setup(&customer, setup_id)
        .await
        .map_err(payment)?;
    if saved.kind == PaymentMethodKind::Sepa && mandate.is_none() && user.is_some() {
        return Err(AppError::Invalid(
            "Accept the SEPA Direct Debit mandate to save this account.".into(),
        ));
    }
    let pm = PaymentMethodRecord::from(saved);
    // Already saved: the webhook after the browser's call changes nothing;
    // the customer saving the same card again expects the retry below.
    let current = payment_methods::payment_method(&state.db, account).await?;
    let same = current.as_ref().is_some_and(|c| c.token == pm.token);
    if same && user.is_none() {
        return Ok(pm);
    }
    payment_methods::save_payment_method(&state.db, account, &pm).await?;
    if let Some(text) = mandate {
        payment_methods::record_mandate(&state.db, account, text).await?;
    }
    let detail = format!("{} •••• {}", pm.brand, pm.last4);
    match user {
        Some(u) => audit::audit(&state.db, account, u, "payment_method", &detail).await?,
        None => audit::audit_system(&state.db, account, "payment_method", &detail).await?,
    }
    // A past-due subscription is charged on the new method at once.
    if let Err(e) = super::billing_run::retry_past_due(state, account).await {
        tracing::error!(account = %account, error = %e, "retry after a new payment method failed");
    }
    Ok(pm)
}

/// The SEPA Direct Debit mandate the customer accepts, naming the seller
/// (`creditor`), in the current language.
pub fn mandate_text(seller: &super::identity::Seller, holder: &str) -> String {
    let t = super::lang::current().ui();
    crate::i18n::fill(
        t.sepa_mandate,
        &[("creditor", &seller.legal_name), ("holder", holder)],
    )
}
