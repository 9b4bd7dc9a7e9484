//! The payment gateway: one trait, two providers. The built-in test
//! gateway (`test_gateway`) runs the demo offline with the usual test
//! cards; Stripe (`stripe`) moves real money. Configuration chooses one.

pub mod stripe;
pub mod stripe_signature;
mod test_gateway;

pub use stripe::{StripeConfig, StripeGateway};
pub use test_gateway::TestGateway;

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use crate::domain::AccountId;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PaymentError {
    #[error("Your card was declined. Use another card or payment method.")]
    Declined,
    #[error("Your card was declined for insufficient funds. Use another card or payment method.")]
    InsufficientFunds,
    /// The bank refuses this payment method for good (lost or stolen card,
    /// closed account): retrying it can only fail again.
    #[error(
        "Your bank refused this payment method for good (lost, stolen or closed). Add a new payment method."
    )]
    HardDecline,
    /// The gateway did not answer: the charge may or may not have happened.
    /// Retrying with the same reference is safe (the gateway deduplicates).
    #[error(
        "The payment service did not answer in time. Nothing will be charged twice: place the order again."
    )]
    Timeout,
    /// The gateway answered with a charge that is not the one asked for
    /// (another amount, payment method or currency, or refunded): nothing
    /// is recorded as paid, and the next attempt uses a new reference.
    #[error("The payment could not be confirmed and nothing was recorded as paid. Try again.")]
    Unconfirmed,
    /// The bank asks the customer to authenticate (3-D Secure): the charge
    /// completes once they do, in the browser, with `client_secret`. Not an
    /// outcome: the retry sends the same reference and finds it completed.
    #[error("Your bank asks you to confirm this payment (3-D Secure).")]
    ActionRequired {
        intent: String,
        client_secret: String,
    },
    /// The provider refused the request itself (a configuration or
    /// programming error, logged in full): nothing was charged.
    #[error("The payment service refused the request. Nothing was charged; try again later.")]
    Refused,
}

impl PaymentError {
    /// Stripe's hard decline codes (`lost_card`, `stolen_card`,
    /// `pickup_card`, `account_closed`…): never retried on the same method.
    pub fn is_hard(&self) -> bool {
        matches!(self, PaymentError::HardDecline)
    }

    /// Whether the attempt is over: a timeout or a pending authentication
    /// is not (its retry sends the same reference), the others are.
    pub fn closes_attempt(&self) -> bool {
        !matches!(
            self,
            PaymentError::Timeout | PaymentError::ActionRequired { .. }
        )
    }
}

/// A payment method being set up: the browser confirms it with the
/// provider's script (Stripe.js) using `client_secret`; card data goes
/// from the browser to the provider only.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SetupStart {
    pub id: String,
    pub client_secret: String,
}

/// A payment waiting for the customer (3-D Secure), as the page that
/// completes it needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingPayment {
    pub account_id: AccountId,
    pub client_secret: String,
    pub amount_minor: i64,
    pub currency: String,
    /// The provider's state (`requires_action`, `succeeded`, …).
    pub status: String,
}

/// A payment method the provider saved for a customer: what is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedMethod {
    /// The gateway's opaque token for charging it.
    pub token: String,
    pub kind: crate::db::payment_methods::PaymentMethodKind,
    pub brand: String,
    pub last4: String,
    /// (month, year) of a card.
    pub expiry: Option<(u32, i32)>,
}

impl From<SavedMethod> for crate::db::payment_methods::PaymentMethodRecord {
    fn from(saved: SavedMethod) -> Self {
        Self {
            kind: saved.kind,
            token: saved.token,
            brand: saved.brand,
            last4: saved.last4,
            exp_month: saved.expiry.map(|(m, _)| i64::from(m)),
            exp_year: saved.expiry.map(|(_, y)| i64::from(y)),
        }
    }
}

/// A charge as the gateway reports it: what the server checks against what
/// it asked for before recording anything as paid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Charge {
    pub id: String,
    pub amount_minor: i64,
    pub currency: String,
    /// The payment method charged.
    pub token: String,
    /// The account it was made for (Stripe: the charge's metadata).
    pub account_id: AccountId,
    pub refunded: bool,
}

/// A charge to make, once per `reference`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChargeRequest<'a> {
    pub token: &'a str,
    pub amount_minor: i64,
    pub currency: &'a str,
    pub reference: &'a str,
    pub account_id: AccountId,
}

/// A refund as the gateway reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refund {
    pub id: String,
    pub charge_id: String,
    pub amount_minor: i64,
}

/// What a gateway call returns: a future, so that a provider's latency
/// (100-400 ms a call) waits on the network, never on a thread, and a
/// trait object can still be shared by the whole server.
pub type GatewayFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, PaymentError>> + Send + 'a>>;

/// A payment provider. No caller holds a database transaction, connection
/// or row lock across these calls: each is a network round trip.
pub trait PaymentGateway: Send + Sync + std::fmt::Debug {
    /// The provider's customer for an account, made once (Stripe: a
    /// Customer); the caller stores its id.
    fn create_customer<'a>(
        &'a self,
        account: AccountId,
        name: &'a str,
        email: &'a str,
    ) -> GatewayFuture<'a, String>;
    /// Starts saving a payment method of `kind` for `customer`.
    fn start_setup<'a>(
        &'a self,
        customer: &'a str,
        kind: crate::db::payment_methods::PaymentMethodKind,
    ) -> GatewayFuture<'a, SetupStart>;
    /// The method saved by the setup `setup_id` once the browser confirmed
    /// it; an error when it is not done or not `customer`'s.
    fn finish_setup<'a>(
        &'a self,
        customer: &'a str,
        setup_id: &'a str,
    ) -> GatewayFuture<'a, SavedMethod>;
    /// Charges `amount_minor` once per `reference` (the server's own, see
    /// `charges`): a repeat of a reference returns the first charge, as it
    /// is now (gateways deduplicate on idempotency keys).
    fn charge<'a>(&'a self, request: ChargeRequest<'a>) -> GatewayFuture<'a, Charge>;
    /// Gives a charge back, whole: the refund made, or why not.
    fn refund<'a>(&'a self, charge_id: &'a str) -> GatewayFuture<'a, Refund>;
    /// The charge made under `reference`, if any: how a charge whose
    /// process died before recording it is found and refunded.
    fn charge_for<'a>(
        &'a self,
        reference: &'a str,
        token: Option<&'a str>,
    ) -> GatewayFuture<'a, Option<Charge>>;
    /// Charges made and not refunded, as (charge id, amount): the
    /// `gateway_ref` and amount each should have in the books.
    fn settled(&self) -> GatewayFuture<'_, Vec<(String, i64)>>;
    /// The payment `intent` (from an `ActionRequired`) as it is now.
    fn pending<'a>(&'a self, intent: &'a str) -> GatewayFuture<'a, PendingPayment>;
}

/// Paces the calls of a gateway to its provider's rate limit (Stripe's
/// documented live limit: 100 operations a second), whoever makes them:
/// the billing run's concurrent charges and the orders share it.
#[derive(Debug)]
pub struct Paced {
    inner: std::sync::Arc<dyn PaymentGateway>,
    interval: Duration,
    next_slot: tokio::sync::Mutex<tokio::time::Instant>,
}

impl Paced {
    /// `per_second` calls a second at most; 0 means no limit.
    pub fn new(inner: std::sync::Arc<dyn PaymentGateway>, per_second: u32) -> Paced {
        let interval = match per_second {
            0 => Duration::ZERO,
            n => Duration::from_secs(1) / n,
        };
        Paced {
            inner,
            interval,
            next_slot: tokio::sync::Mutex::new(tokio::time::Instant::now()),
        }
    }

    /// Waits for this call's slot: slots are `interval` apart, taken in
    /// turn, so a burst is spread out instead of refused by the provider.
    async fn slot(&self) {
        if self.interval.is_zero() {
            return;
        }
        let at = {
            let mut next = self.next_slot.lock().await;
            let at = (*next).max(tokio::time::Instant::now());
            *next = at + self.interval;
            at
        };
        tokio::time::sleep_until(at).await;
    }
}

impl PaymentGateway for Paced {
    fn create_customer<'a>(
        &'a self,
        account: AccountId,
        name: &'a str,
        email: &'a str,
    ) -> GatewayFuture<'a, String> {
        Box::pin(async move {
            self.slot().await;
            self.inner.create_customer(account, name, email).await
        })
    }
    fn start_setup<'a>(
        &'a self,
        customer: &'a str,
        kind: crate::db::payment_methods::PaymentMethodKind,
    ) -> GatewayFuture<'a, SetupStart> {
        Box::pin(async move {
            self.slot().await;
            self.inner.start_setup(customer, kind).await
        })
    }
    fn finish_setup<'a>(
        &'a self,
        customer: &'a str,
        setup_id: &'a str,
    ) -> GatewayFuture<'a, SavedMethod> {
        Box::pin(async move {
            self.slot().await;
            self.inner.finish_setup(customer, setup_id).await
        })
    }
    fn charge<'a>(&'a self, request: ChargeRequest<'a>) -> GatewayFuture<'a, Charge> {
        Box::pin(async move {
            self.slot().await;
            self.inner.charge(request).await
        })
    }
    fn refund<'a>(&'a self, charge_id: &'a str) -> GatewayFuture<'a, Refund> {
        Box::pin(async move {
            self.slot().await;
            self.inner.refund(charge_id).await
        })
    }
    fn charge_for<'a>(
        &'a self,
        reference: &'a str,
        token: Option<&'a str>,
    ) -> GatewayFuture<'a, Option<Charge>> {
        Box::pin(async move {
            self.slot().await;
            self.inner.charge_for(reference, token).await
        })
    }
    fn settled(&self) -> GatewayFuture<'_, Vec<(String, i64)>> {
        self.inner.settled()
    }
    fn pending<'a>(&'a self, intent: &'a str) -> GatewayFuture<'a, PendingPayment> {
        Box::pin(async move {
            self.slot().await;
            self.inner.pending(intent).await
        })
    }
}
