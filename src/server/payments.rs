//! The payment gateway. The built-in test gateway follows the usual test
//! cards; a real gateway implements the same trait.

use crate::domain::{CardNumber, Iban};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PaymentError {
    #[error("Your card was declined. Use another card or payment method.")]
    Declined,
    #[error("Your card was declined for insufficient funds. Use another card or payment method.")]
    InsufficientFunds,
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
    /// Charges `amount_minor`; returns the gateway's reference.
    fn charge(
        &self,
        token: &str,
        amount_minor: i64,
        currency: &str,
        reference: &str,
    ) -> Result<String, PaymentError>;
    /// Gives back a charge whose order could not be recorded.
    fn refund(&self, charge_ref: &str);
}

/// `4242…4242` succeeds, `…0002` is declined, `…9995` insufficient funds,
/// `…0341` saves but fails when charged; the demo SEPA IBAN succeeds.
#[derive(Debug, Default)]
pub struct TestGateway;

impl PaymentGateway for TestGateway {
    fn save_card(&self, card: &CardNumber) -> Result<Tokenized, PaymentError> {
        let behaviour = match card.digits() {
            "4000000000000002" => return Err(PaymentError::Declined),
            "4000000000009995" => return Err(PaymentError::InsufficientFunds),
            "4000000000000341" => "fail_on_charge",
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
        _amount_minor: i64,
        _currency: &str,
        reference: &str,
    ) -> Result<String, PaymentError> {
        if token.starts_with("tok_fail_on_charge") {
            Err(PaymentError::Declined)
        } else {
            Ok(format!("ch_{reference}"))
        }
    }

    fn refund(&self, charge_ref: &str) {
        tracing::warn!(
            charge = charge_ref,
            "charge refunded: the order could not be recorded"
        );
    }
}
