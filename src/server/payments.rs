//! The payment gateway. The built-in test gateway follows the usual test
//! cards; a real gateway implements the same trait.

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

pub trait PaymentGateway: Send + Sync + std::fmt::Debug {
    fn save_card(&self, card: &CardNumber) -> Result<Tokenized, PaymentError>;
    fn save_sepa(&self, iban: &Iban) -> Result<Tokenized, PaymentError>;
    /// Charges `amount_minor` once per `reference` (the server's own, see
    /// `charges`): a repeat of a reference returns the first charge, as it
    /// is now (gateways deduplicate on idempotency keys).
    fn charge(&self, request: ChargeRequest<'_>) -> Result<Charge, PaymentError>;
    /// Gives a charge back; an error when the gateway did not.
    fn refund(&self, charge_id: &str) -> Result<(), PaymentError>;
    /// The charge made under `reference`, if any: how a charge whose
    /// process died before recording it is found and refunded.
    fn charge_for(&self, reference: &str) -> Option<Charge>;
    /// Charges made and not refunded, as (reference, amount): what
    /// reconciliation compares the books with.
    fn settled(&self) -> Vec<(String, i64)>;
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
#[derive(Debug, Default)]
pub struct TestGateway {
    ledger: std::sync::Mutex<Ledger>,
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
            "4000000000005126" => "refund_fails",
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

    fn charge(&self, r: ChargeRequest<'_>) -> Result<Charge, PaymentError> {
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

    fn refund(&self, charge_id: &str) -> Result<(), PaymentError> {
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
        Ok(())
    }

    fn charge_for(&self, reference: &str) -> Option<Charge> {
        self.ledger().charges.get(reference).cloned()
    }

    fn settled(&self) -> Vec<(String, i64)> {
        self.ledger()
            .charges
            .iter()
            .filter(|(_, c)| !c.refunded)
            .map(|(r, c)| (r.clone(), c.amount_minor))
            .collect()
    }
}
