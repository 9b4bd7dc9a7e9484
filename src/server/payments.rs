//! The payment gateway. The built-in test gateway follows the usual test
//! cards; a real gateway implements the same trait.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use crate::domain::AccountId;
use crate::domain::{CardNumber, Iban};

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
}

impl PaymentError {
    /// Stripe's hard decline codes (`lost_card`, `stolen_card`,
    /// `pickup_card`, `account_closed`…): never retried on the same method.
    pub fn is_hard(&self) -> bool {
        matches!(self, PaymentError::HardDecline)
    }
}

/// What is stored: a token, never the number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tokenized {
    pub token: String,
    pub brand: String,
    pub last4: String,
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
    fn save_card<'a>(&'a self, card: &'a CardNumber) -> GatewayFuture<'a, Tokenized>;
    fn save_sepa<'a>(&'a self, iban: &'a Iban) -> GatewayFuture<'a, Tokenized>;
    /// Charges `amount_minor` once per `reference` (the server's own, see
    /// `charges`): a repeat of a reference returns the first charge, as it
    /// is now (gateways deduplicate on idempotency keys).
    fn charge<'a>(&'a self, request: ChargeRequest<'a>) -> GatewayFuture<'a, Charge>;
    /// Gives a charge back, whole: the refund made, or why not.
    fn refund<'a>(&'a self, charge_id: &'a str) -> GatewayFuture<'a, Refund>;
    /// The charge made under `reference`, if any: how a charge whose
    /// process died before recording it is found and refunded.
    fn charge_for<'a>(&'a self, reference: &'a str) -> GatewayFuture<'a, Option<Charge>>;
    /// Charges made and not refunded, as (reference, amount): what
    /// reconciliation compares the books with.
    fn settled(&self) -> GatewayFuture<'_, Vec<(String, i64)>>;
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
    fn save_card<'a>(&'a self, card: &'a CardNumber) -> GatewayFuture<'a, Tokenized> {
        Box::pin(async move {
            self.slot().await;
            self.inner.save_card(card).await
        })
    }
    fn save_sepa<'a>(&'a self, iban: &'a Iban) -> GatewayFuture<'a, Tokenized> {
        Box::pin(async move {
            self.slot().await;
            self.inner.save_sepa(iban).await
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
    fn charge_for<'a>(&'a self, reference: &'a str) -> GatewayFuture<'a, Option<Charge>> {
        Box::pin(async move {
            self.slot().await;
            self.inner.charge_for(reference).await
        })
    }
    fn settled(&self) -> GatewayFuture<'_, Vec<(String, i64)>> {
        self.inner.settled()
    }
}

/// Like a real gateway, it answers a repeated reference with its first
/// answer: the charge (refunded or not) or the decline.
/// `4242…4242` succeeds, `…0002` is declined, `…9995` insufficient funds,
/// `…0341` saves but fails when charged, `…9979` saves and hard-declines,
/// `…0119` charges but times out on the first attempt of each reference
/// (the double-charge trap), `…5126` charges but its first refund fails;
/// the demo SEPA IBAN succeeds. Charges are kept by reference, refunded
/// ones too (a repeated reference gets its first charge back, refunded or
/// not, as from a real gateway), and with `persistent` also in a journal
/// file: a real gateway outlives the server, which the crash tests kill
/// (`BC_TEST_GATEWAY_LEDGER`).
/// `with_latency` makes each call take that long, as a provider's round
/// trip does (`BC_TEST_GATEWAY_LATENCY_MS`: the benchmark's 150 ms).
#[derive(Debug, Default)]
pub struct TestGateway {
    ledger: std::sync::Mutex<Ledger>,
    latency: Duration,
}

#[derive(Debug, Default)]
struct Ledger {
    charges: std::collections::BTreeMap<String, Charge>,
    /// Declines, by reference: a repeat gets the same answer.
    declined: std::collections::BTreeMap<String, PaymentError>,
    /// Refunds refused once already (the `…5126` card fails only the first).
    refused: std::collections::BTreeSet<String>,
    journal: Option<std::fs::File>,
}

impl Ledger {
    /// One `write` per line on an append-only file: a killed process leaves
    /// whole lines; several processes may share the file.
    fn record(&mut self, line: String) {
        use std::io::Write;
        if let Some(f) = &mut self.journal
            && let Err(e) = f.write_all(line.as_bytes())
        {
            tracing::error!(error = %e, "test gateway journal write failed");
        }
    }

    fn replay(&mut self, line: &str) {
        match line.split(' ').collect::<Vec<_>>()[..] {
            ["charge", reference, amount, currency, token, account] => {
                if let (Ok(amount_minor), Ok(account_id)) = (amount.parse(), account.parse()) {
                    let made = charged(ChargeRequest {
                        token,
                        amount_minor,
                        currency,
                        reference,
                        account_id,
                    });
                    self.charges.entry(reference.to_string()).or_insert(made);
                }
            }
            ["refund", reference] => {
                if let Some(c) = self.charges.get_mut(reference) {
                    c.refunded = true;
                }
            }
            _ => {}
        }
    }
}

/// The test gateway's charge for `r`.
fn charged(r: ChargeRequest<'_>) -> Charge {
    Charge {
        id: format!("ch_{}", r.reference),
        amount_minor: r.amount_minor,
        currency: r.currency.into(),
        token: r.token.into(),
        account_id: r.account_id,
        refunded: false,
    }
}

impl TestGateway {
    /// A gateway whose charges survive the process: lines `charge REF
    /// AMOUNT CURRENCY TOKEN ACCOUNT` and `refund REF` appended to `path`, replayed
    /// on open.
    pub fn persistent(path: &std::path::Path) -> std::io::Result<TestGateway> {
        let journal = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .read(true)
            .open(path)?;
        let mut ledger = Ledger::default();
        for line in std::fs::read_to_string(path)?.lines() {
            ledger.replay(line);
        }
        ledger.journal = Some(journal);
        Ok(TestGateway {
            ledger: std::sync::Mutex::new(ledger),
            latency: Duration::ZERO,
        })
    }

    pub fn with_latency(self, latency: Duration) -> TestGateway {
        TestGateway { latency, ..self }
    }

    /// The provider's round trip: half on the way there, half back.
    async fn half_trip(&self) {
        if !self.latency.is_zero() {
            tokio::time::sleep(self.latency / 2).await;
        }
    }

    fn ledger(&self) -> std::sync::MutexGuard<'_, Ledger> {
        self.ledger.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl PaymentGateway for TestGateway {
    fn save_card<'a>(&'a self, card: &'a CardNumber) -> GatewayFuture<'a, Tokenized> {
        Box::pin(async move {
            self.half_trip().await;
            let saved = self.save_card_now(card);
            self.half_trip().await;
            saved
        })
    }

    fn save_sepa<'a>(&'a self, iban: &'a Iban) -> GatewayFuture<'a, Tokenized> {
        Box::pin(async move {
            self.half_trip().await;
            Ok(Tokenized {
                token: format!("tok_sepa_ok_{}", iban.last4()),
                brand: "SEPA Direct Debit".into(),
                last4: iban.last4().to_string(),
            })
        })
    }

    fn charge<'a>(&'a self, r: ChargeRequest<'a>) -> GatewayFuture<'a, Charge> {
        Box::pin(async move {
            self.half_trip().await;
            let charged = self.charge_now(r);
            self.half_trip().await;
            charged
        })
    }

    fn refund<'a>(&'a self, charge_id: &'a str) -> GatewayFuture<'a, Refund> {
        Box::pin(async move {
            self.half_trip().await;
            let refunded = self.refund_now(charge_id);
            self.half_trip().await;
            refunded
        })
    }

    fn charge_for<'a>(&'a self, reference: &'a str) -> GatewayFuture<'a, Option<Charge>> {
        Box::pin(async move {
            self.half_trip().await;
            Ok(self.ledger().charges.get(reference).cloned())
        })
    }

    fn settled(&self) -> GatewayFuture<'_, Vec<(String, i64)>> {
        let settled = self
            .ledger()
            .charges
            .iter()
            .filter(|(_, c)| !c.refunded)
            .map(|(r, c)| (r.clone(), c.amount_minor))
            .collect();
        Box::pin(std::future::ready(Ok(settled)))
    }
}

/// The ledger's side of each call, under its lock (never held across the
/// simulated round trip).
impl TestGateway {
    fn save_card_now(&self, card: &CardNumber) -> Result<Tokenized, PaymentError> {
        let behaviour = match card.digits() {
            "4000000000000002" => return Err(PaymentError::Declined),
            "4000000000009995" => return Err(PaymentError::InsufficientFunds),
            "4000000000000341" => "fail_on_charge",
            // Stripe's `stolen_card` test number: saves, then hard-declines.
            "4000000000009979" => "hard_decline",
            "4000000000000119" => "timeout_after_charge",
            "4000000000005126" => "refund_fails",
            _ => "ok",
        };
        Ok(Tokenized {
            token: format!("tok_{}_{}", behaviour, card.last4()),
            brand: card.brand().to_string(),
            last4: card.last4().to_string(),
        })
    }

    fn charge_now(&self, r: ChargeRequest<'_>) -> Result<Charge, PaymentError> {
        let ChargeRequest {
            token,
            amount_minor,
            currency,
            reference,
            account_id,
        } = r;
        let mut ledger = self.ledger();
        // A repeated reference: the first answer, whatever is asked now.
        if let Some(first) = ledger.charges.get(reference) {
            return Ok(first.clone());
        }
        if let Some(first) = ledger.declined.get(reference) {
            return Err(first.clone());
        }
        let decline = if token.starts_with("tok_fail_on_charge") {
            Some(PaymentError::Declined)
        } else if token.starts_with("tok_hard_decline") {
            Some(PaymentError::HardDecline)
        } else {
            None
        };
        if let Some(e) = decline {
            ledger.declined.insert(reference.to_string(), e.clone());
            return Err(e);
        }
        let charge = charged(r);
        ledger.charges.insert(reference.to_string(), charge.clone());
        ledger.record(format!(
            "charge {reference} {amount_minor} {currency} {token} {account_id}\n"
        ));
        if token.starts_with("tok_timeout_after_charge") {
            // Charged, but the answer is lost on the way back.
            return Err(PaymentError::Timeout);
        }
        Ok(charge)
    }

    fn refund_now(&self, charge_id: &str) -> Result<Refund, PaymentError> {
        let reference = charge_id.strip_prefix("ch_").unwrap_or(charge_id);
        let mut ledger = self.ledger();
        let Some(charge) = ledger.charges.get(reference).cloned() else {
            return Err(PaymentError::Unconfirmed);
        };
        if charge.token.starts_with("tok_refund_fails") && ledger.refused.insert(reference.into()) {
            return Err(PaymentError::Timeout);
        }
        if !charge.refunded {
            if let Some(c) = ledger.charges.get_mut(reference) {
                c.refunded = true;
            }
            ledger.record(format!("refund {reference}\n"));
        }
        Ok(Refund {
            id: format!("re_{reference}"),
            charge_id: charge.id,
            amount_minor: charge.amount_minor,
        })
    }
}
