//! Stripe's webhook signature (`Stripe-Signature`): checked on every
//! delivery to `/webhooks/stripe`, and made by the tests' forger.

/// Why a webhook's `Stripe-Signature` is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the Stripe-Signature header is missing or malformed")]
    Malformed,
    #[error("the signature's timestamp is outside the tolerance")]
    Stale,
    #[error("no signature matches")]
    Mismatch,
}

/// Checks a webhook as Stripe signs it: `t=TIMESTAMP,v1=HEX[,v1=…]`, each
/// `v1` an HMAC-SHA256 of `TIMESTAMP.BODY` under the endpoint's secret,
/// compared in constant time; the timestamp within `tolerance` of `now`.
pub fn verify_signature(
    secret: &str,
    header: &str,
    body: &[u8],
    now: i64,
    tolerance: i64,
) -> Result<(), SignatureError> {
    use hmac::{Hmac, Mac};
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", t)) => timestamp = t.parse::<i64>().ok(),
            Some(("v1", s)) => signatures.push(s),
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or(SignatureError::Malformed)?;
    if signatures.is_empty() {
        return Err(SignatureError::Malformed);
    }
    if (now - timestamp).abs() > tolerance {
        return Err(SignatureError::Stale);
    }
    for s in signatures {
        let Some(expected) = unhex(s) else { continue };
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes())
            .map_err(|_| SignatureError::Malformed)?;
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        if mac.verify_slice(&expected).is_ok() {
            return Ok(());
        }
    }
    Err(SignatureError::Mismatch)
}

/// The header Stripe would send for `body` at `timestamp` (the tests'
/// forger and the webhook test vectors).
pub fn sign(secret: &str, body: &[u8], timestamp: i64) -> String {
    use hmac::{Hmac, Mac};
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    let hex: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("t={timestamp},v1={hex}")
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_is_accepted_within_tolerance_and_refused_otherwise() {
        let body = br#"{"id":"evt_1","type":"payment_intent.succeeded"}"#;
        let header = sign("whsec_test", body, 1_700_000_000);
        assert_eq!(
            verify_signature("whsec_test", &header, body, 1_700_000_100, 300),
            Ok(())
        );
        assert_eq!(
            verify_signature("whsec_other", &header, body, 1_700_000_100, 300),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify_signature("whsec_test", &header, b"{}", 1_700_000_100, 300),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify_signature("whsec_test", &header, body, 1_700_000_400, 300),
            Err(SignatureError::Stale)
        );
        assert_eq!(
            verify_signature("whsec_test", "v1=00", body, 1_700_000_000, 300),
            Err(SignatureError::Malformed)
        );
    }

    /// Stripe's documented example computed independently (Python's hmac):
    /// secret `whsec_test_secret`, timestamp 1492774577, body `{}`.
    #[test]
    fn the_signature_matches_an_independent_hmac() {
        let header = sign("whsec_test_secret", b"{}", 1_492_774_577);
        assert_eq!(
            header,
            "t=1492774577,v1=53140ab8fa70c511cc40d5c9198af7dde7bbaee877038c056d8250c3bd3b2e11"
        );
    }
}
