//! Charges under references the server makes: one per payment attempt,
//! derived from what the attempt pays for (never from a client's key,
//! which is only its request's idempotency key); each answer checked
//! against what was asked before anything is recorded as paid; refunds
//! recorded, and retried by the billing run when they fail.

use crate::domain::{AccountId, SubscriptionId};
use sha2::{Digest, Sha256};

use super::payments::{Charge, ChargeRequest, PaymentError, PaymentGateway};
use super::state::AppState;
use crate::billing::{Currency, Money};
use crate::db::payments as store;
use crate::db::writes::{AttemptStatus, AttemptWrite};
use crate::error::AppError;

/// What a charge pays for.
#[derive(Clone, Copy, Debug)]
pub enum Purpose<'a> {
    /// An order placed under the page's idempotency key, or a Corporate
    /// invoice paid under its claim's key.
    Order { account: AccountId, key: &'a str },
    /// The renewal after the term that ends on `term_end`.
    Renewal {
        subscription: SubscriptionId,
        term_end: Option<chrono::NaiveDate>,
    },
}

impl Purpose<'_> {
    pub fn key(&self) -> String {
        match self {
            Purpose::Order { account, key } => format!("order:{account}:{key}"),
            Purpose::Renewal {
                subscription,
                term_end,
            } => {
                let term_end = term_end.map(|d| d.to_string()).unwrap_or_default();
                format!("renewal:{subscription}:{term_end}")
            }
        }
    }
}

/// The gateway reference of the attempt after `closed` closed ones for
/// `purpose` in this `installation`: a hash, so no text of a client's
/// reaches the gateway and no two purposes (nor two installations on one
/// provider account) can share one.
pub fn reference(installation: &str, purpose: &str, closed: i64) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let digest = Sha256::digest(format!("{installation}:{purpose}#{closed}").as_bytes());
    let mut out = String::with_capacity(43);
    out.push_str("bc_");
    for b in &digest[..20] {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 15)]));
    }
    out
}

/// One payment attempt, before and after its call to the gateway.
#[derive(Clone, Debug)]
pub struct Attempt {
    pub account_id: AccountId,
    pub purpose: String,
    pub reference: String,
    pub amount: Money,
    pub token: String,
}

impl Attempt {
    /// The next attempt for `purpose`, numbered from the attempts recorded.
    pub async fn next(
        state: &AppState,
        account_id: AccountId,
        purpose: Purpose<'_>,
        token: &str,
        amount: Money,
    ) -> Result<Attempt, AppError> {
        let purpose = purpose.key();
        let closed = closed(state, &purpose).await?;
        Ok(Attempt::numbered(
            &state.installation,
            account_id,
            purpose,
            closed,
            token,
            amount,
        ))
    }

    /// The attempt after `closed` closed ones (read in bulk by the run).
    pub fn numbered(
        installation: &str,
        account_id: AccountId,
        purpose: String,
        closed: i64,
        token: &str,
        amount: Money,
    ) -> Attempt {
        Attempt {
            account_id,
            reference: reference(installation, &purpose, closed),
            purpose,
            amount,
            token: token.to_string(),
        }
    }

    /// Charges it. An answer that is not this charge (another amount,
    /// currency or account under the same reference, or one given back
    /// already) is `Unconfirmed`: never recorded as paid.
    pub async fn charge(&self, gateway: &dyn PaymentGateway) -> Result<Charge, PaymentError> {
        let charge = gateway
            .charge(ChargeRequest {
                token: &self.token,
                amount_minor: self.amount.to_minor(),
                currency: self.amount.currency().code(),
                reference: &self.reference,
                account_id: self.account_id,
            })
            .await?;
        // The payment method is not compared: a retry may save the same
        // card again under a new token.
        let asked = charge.amount_minor == self.amount.to_minor()
            && charge.currency == self.amount.currency().code()
            && charge.account_id == self.account_id
            && !charge.refunded;
        if !asked {
            tracing::error!(
                reference = %self.reference,
                charge = %charge.id,
                "the gateway answered with a charge that is not this attempt's"
            );
            return Err(PaymentError::Unconfirmed);
        }
        Ok(charge)
    }

    fn write(
        &self,
        status: AttemptStatus,
        charge_id: Option<&str>,
        error: Option<String>,
    ) -> AttemptWrite {
        AttemptWrite {
            account_id: self.account_id,
            purpose: self.purpose.clone(),
            reference: self.reference.clone(),
            amount_minor: self.amount.to_minor(),
            currency: self.amount.currency().code().into(),
            status,
            charge_id: charge_id.map(str::to_string),
            error,
        }
    }

    /// Its failure; `None` for a timeout or a pending authentication, which
    /// are not outcomes: the retry sends the same reference, and the
    /// gateway answers with the charge if there was one.
    pub fn failed(&self, e: &PaymentError) -> Option<AttemptWrite> {
        e.closes_attempt()
            .then(|| self.write(AttemptStatus::Failed, None, Some(e.to_string())))
    }

    /// Records its failure on its own (an order's decline).
    pub async fn record_failure(&self, state: &AppState, e: &PaymentError) -> Result<(), AppError> {
        // The stored purpose starts with its kind: `order:…`, `renewal:…`.
        let kind = match self.purpose.split(':').next() {
            Some("renewal") => "renewal",
            _ => "order",
        };
        super::metrics::payment_failed(kind);
        if let Some(w) = self.failed(e) {
            store::record(&state.db, &w).await?;
        }
        Ok(())
    }

    /// Gives back its charge, which could not be recorded, and records the
    /// outcome: a refund the gateway refused is retried by the billing run.
    /// Not when another writer recorded the same charge meanwhile (its
    /// retry got the same reference, so the same charge, and was first):
    /// that payment stands.
    pub async fn refund(&self, state: &AppState, charge: &Charge) {
        let mut w = self.write(AttemptStatus::Refunded, Some(&charge.id), None);
        (w.amount_minor, w.currency) = (charge.amount_minor, charge.currency.clone());
        refund_recorded(state, w).await;
    }
}

async fn closed(state: &AppState, purpose: &String) -> Result<i64, AppError> {
    Ok(
        store::closed_attempts(&state.db, std::slice::from_ref(purpose))
            .await?
            .get(purpose)
            .copied()
            .unwrap_or(0),
    )
}

/// Gives back the charge made for `purpose` by a process that died before
/// recording it (an abandoned order), if there is one.
pub async fn refund_unrecorded(
    state: &AppState,
    account_id: AccountId,
    purpose: Purpose<'_>,
) -> Result<(), AppError> {
    let purpose = purpose.key();
    let reference = reference(
        &state.installation,
        &purpose,
        closed(state, &purpose).await?,
    );
    // The account's Customer is in its token (Stripe lists the charges by
    // customer); a method changed since is still the same customer's.
    let method = crate::db::payment_methods::payment_method(&state.db, account_id).await?;
    let token = method.as_ref().map(|m| m.token.as_str());
    let found = state.gateway.charge_for(&reference, token).await;
    let found = found.map_err(|e| AppError::Payment(e.to_string()))?;
    let Some(charge) = found else {
        return Ok(());
    };
    if !charge.refunded {
        let attempt = Attempt {
            account_id,
            purpose,
            reference,
            amount: Money::from_minor(charge.amount_minor, Currency::parse(&charge.currency)?),
            token: charge.token.clone(),
        };
        attempt.refund(state, &charge).await;
    }
    Ok(())
}

/// Refunds `w.charge_id` and records the outcome in `w`; false when the
/// gateway refused it.
async fn refund_recorded(state: &AppState, mut w: AttemptWrite) -> bool {
    let charge_id = w.charge_id.clone().unwrap_or_default();
    match store::charge_recorded(&state.db, w.account_id, &charge_id).await {
        Ok(false) => {}
        Ok(true) => {
            tracing::info!(charge = %charge_id, "not refunded: recorded by another writer");
            return true;
        }
        // Unknown: refunding a recorded charge would unbalance the books;
        // an unrecorded one kept shows in reconciliation.
        Err(e) => {
            tracing::error!(charge = %charge_id, error = %e, "refund deferred: cannot tell whether the charge is recorded");
            return false;
        }
    }
    let refunded = match state.gateway.refund(&charge_id).await {
        Ok(refund) => {
            tracing::warn!(charge = %charge_id, refund = %refund.id, "charge refunded: the order could not be recorded");
            w.status = AttemptStatus::Refunded;
            w.error = None;
            true
        }
        Err(e) => {
            tracing::error!(charge = %charge_id, error = %e, "refund failed: the billing run retries it");
            w.status = AttemptStatus::RefundFailed;
            w.error = Some(e.to_string());
            false
        }
    };
    if let Err(e) = store::record(&state.db, &w).await {
        // The gateway's own records still have it; the log says which.
        tracing::error!(charge = %charge_id, status = w.status.code(), error = %e, "refund outcome not recorded");
    }
    refunded
}

/// Retries the refunds the gateway refused; (refunded now, still failing).
pub async fn retry_refunds(state: &AppState) -> Result<(u32, u32), AppError> {
    let (mut done, mut failing) = (0, 0);
    for w in store::refunds_to_retry(&state.db, 500).await? {
        match refund_recorded(state, w).await {
            true => done += 1,
            false => failing += 1,
        }
    }
    Ok((done, failing))
}
