//! The built-in test gateway: the demo's provider, and the tests'.

use std::time::Duration;

use super::{
    Charge, ChargeRequest, GatewayFuture, PaymentError, PaymentGateway, PendingPayment, Refund,
    SavedMethod, SetupStart,
};
use crate::db::payment_methods::PaymentMethodKind;
use crate::domain::AccountId;

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
    fn create_customer<'a>(
        &'a self,
        account: AccountId,
        _name: &'a str,
        _email: &'a str,
    ) -> GatewayFuture<'a, String> {
        Box::pin(std::future::ready(Ok(format!("cus_test_{account}"))))
    }

    /// The demo's setup: the browser makes the token itself (see
    /// `crate::domain::payment::demo_token`), so the id is only a nonce.
    fn start_setup<'a>(
        &'a self,
        customer: &'a str,
        _kind: PaymentMethodKind,
    ) -> GatewayFuture<'a, SetupStart> {
        use rand::RngCore;
        let id = format!("seti_test_{:016x}", rand::rngs::OsRng.next_u64());
        let client_secret = format!("{id}_secret_{customer}");
        Box::pin(std::future::ready(Ok(SetupStart { id, client_secret })))
    }

    fn finish_setup<'a>(
        &'a self,
        _customer: &'a str,
        setup_id: &'a str,
    ) -> GatewayFuture<'a, SavedMethod> {
        Box::pin(std::future::ready(saved(setup_id)))
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

    fn charge_for<'a>(
        &'a self,
        reference: &'a str,
        _token: Option<&'a str>,
    ) -> GatewayFuture<'a, Option<Charge>> {
        Box::pin(async move {
            self.half_trip().await;
            Ok(self.ledger().charges.get(reference).cloned())
        })
    }

    /// The demo's cards never ask for 3-D Secure.
    fn pending<'a>(&'a self, _intent: &'a str) -> GatewayFuture<'a, PendingPayment> {
        Box::pin(std::future::ready(Err(PaymentError::Unconfirmed)))
    }

    fn settled(&self) -> GatewayFuture<'_, Vec<(String, i64)>> {
        let settled = self
            .ledger()
            .charges
            .iter()
            .filter(|(_, c)| !c.refunded)
            .map(|(_, c)| (c.id.clone(), c.amount_minor))
            .collect();
        Box::pin(std::future::ready(Ok(settled)))
    }
}

/// The ledger's side of each call, under its lock (never held across the
/// simulated round trip).
impl TestGateway {
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

/// The method a demo token stands for, as the test gateway saves it: the
/// token it charges keeps the behaviour (`tok_{behaviour}_{last4}`).
fn saved(token: &str) -> Result<SavedMethod, PaymentError> {
    let t = crate::domain::payment::DemoToken::parse(token).ok_or(PaymentError::Unconfirmed)?;
    match t.behaviour.as_str() {
        "declined" => return Err(PaymentError::Declined),
        "insufficient_funds" => return Err(PaymentError::InsufficientFunds),
        _ => {}
    }
    let kind = match t.expiry {
        Some(_) => PaymentMethodKind::Card,
        None => PaymentMethodKind::Sepa,
    };
    Ok(SavedMethod {
        token: format!("tok_{}_{}", t.behaviour, t.last4),
        kind,
        brand: t.brand,
        last4: t.last4,
        expiry: t.expiry,
    })
}
