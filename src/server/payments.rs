//! The payment gateway. The built-in test gateway follows the usual test
//! cards; a real gateway implements the same trait.

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

pub trait PaymentGateway: Send + Sync + std::fmt::Debug {
    fn save_card(&self, card: &CardNumber) -> Result<Tokenized, PaymentError>;
    fn save_sepa(&self, iban: &Iban) -> Result<Tokenized, PaymentError>;
    /// Charges `amount_minor` once per `reference`: a repeat of a reference
    /// returns the first charge (gateways deduplicate on idempotency keys);
    /// returns the gateway's charge id.
    fn charge(
        &self,
        token: &str,
        amount_minor: i64,
        currency: &str,
        reference: &str,
    ) -> Result<String, PaymentError>;
    /// Gives back a charge whose order could not be recorded.
    fn refund(&self, charge_ref: &str);
    /// The charge made under `reference`, if any: how an order abandoned
    /// between charge and commit (a killed process) is found and refunded.
    fn charge_for(&self, reference: &str) -> Option<String>;
    /// Charges made and not refunded, as (reference, amount): what
    /// reconciliation compares the books with.
    fn settled(&self) -> Vec<(String, i64)>;
}

/// `4242…4242` succeeds, `…0002` is declined, `…9995` insufficient funds,
/// `…0341` saves but fails when charged, `…0119` charges but times out on
/// the first attempt of each reference (the double-charge trap); the demo
/// SEPA IBAN succeeds. Charges are kept in memory, by reference, and with
/// `persistent` also in a journal file: a real gateway outlives the server,
/// which the crash tests kill (`BC_TEST_GATEWAY_LEDGER`).
#[derive(Debug, Default)]
pub struct TestGateway {
    ledger: std::sync::Mutex<Ledger>,
}

#[derive(Debug, Default)]
struct Ledger {
    charges: std::collections::BTreeMap<String, i64>,
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
}

impl TestGateway {
    /// A gateway whose charges survive the process: lines `charge REF
    /// AMOUNT` and `refund REF` appended to `path`, replayed on open.
    pub fn persistent(path: &std::path::Path) -> std::io::Result<TestGateway> {
        let journal = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .read(true)
            .open(path)?;
        let mut charges = std::collections::BTreeMap::new();
        for line in std::fs::read_to_string(path)?.lines() {
            match line.split(' ').collect::<Vec<_>>()[..] {
                ["charge", reference, amount] => {
                    if let Ok(a) = amount.parse() {
                        charges.entry(reference.to_string()).or_insert(a);
                    }
                }
                ["refund", reference] => {
                    charges.remove(reference);
                }
                _ => {}
            }
        }
        Ok(TestGateway {
            ledger: std::sync::Mutex::new(Ledger {
                charges,
                journal: Some(journal),
            }),
        })
    }

    fn ledger(&self) -> std::sync::MutexGuard<'_, Ledger> {
        self.ledger.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl PaymentGateway for TestGateway {
    fn save_card(&self, card: &CardNumber) -> Result<Tokenized, PaymentError> {
        let behaviour = match card.digits() {
            "4000000000000002" => return Err(PaymentError::Declined),
            "4000000000009995" => return Err(PaymentError::InsufficientFunds),
            "4000000000000341" => "fail_on_charge",
            // Stripe's `stolen_card` test number: saves, then hard-declines.
            "4000000000009979" => "hard_decline",
            "4000000000000119" => "timeout_after_charge",
            _ => "ok",
        };
        Ok(Tokenized {
            token: format!("tok_{}_{}", behaviour, card.last4()),
            brand: card.brand().to_string(),
            last4: card.last4().to_string(),
        })
    }

    fn save_sepa(&self, iban: &Iban) -> Result<Tokenized, PaymentError> {
        Ok(Tokenized {
            token: format!("tok_sepa_ok_{}", iban.last4()),
            brand: "SEPA Direct Debit".into(),
            last4: iban.last4().to_string(),
        })
    }

    fn charge(
        &self,
        token: &str,
        amount_minor: i64,
        _currency: &str,
        reference: &str,
    ) -> Result<String, PaymentError> {
        if token.starts_with("tok_fail_on_charge") {
            return Err(PaymentError::Declined);
        }
        if token.starts_with("tok_hard_decline") {
            return Err(PaymentError::HardDecline);
        }
        let mut ledger = self.ledger();
        let first = !ledger.charges.contains_key(reference);
        if first {
            ledger.charges.insert(reference.to_string(), amount_minor);
            ledger.record(format!("charge {reference} {amount_minor}\n"));
        }
        if first && token.starts_with("tok_timeout_after_charge") {
            // Charged, but the answer is lost on the way back.
            return Err(PaymentError::Timeout);
        }
        Ok(format!("ch_{reference}"))
    }

    fn refund(&self, charge_ref: &str) {
        let reference = charge_ref.strip_prefix("ch_").unwrap_or(charge_ref);
        let mut ledger = self.ledger();
        if ledger.charges.remove(reference).is_some() {
            ledger.record(format!("refund {reference}\n"));
        }
        tracing::warn!(
            charge = charge_ref,
            "charge refunded: the order could not be recorded"
        );
    }

    fn charge_for(&self, reference: &str) -> Option<String> {
        self.ledger()
            .charges
            .contains_key(reference)
            .then(|| format!("ch_{reference}"))
    }

    fn settled(&self) -> Vec<(String, i64)> {
        self.ledger()
            .charges
            .iter()
            .map(|(r, a)| (r.clone(), *a))
            .collect()
    }
}
