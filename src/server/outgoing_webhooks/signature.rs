//! Standard Webhooks signatures (<https://www.standardwebhooks.com>): each
//! delivery carries `webhook-id`, `webhook-timestamp` and
//! `webhook-signature: v1,BASE64`, an HMAC-SHA256 of `id.timestamp.body`
//! under the endpoint's secret (`whsec_` and the base64 key).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};

const PREFIX: &str = "whsec_";

/// A new endpoint secret: `whsec_` and 24 random bytes in base64.
pub fn new_secret() -> String {
    use rand::RngCore;
    let mut key = [0u8; 24];
    rand::rngs::OsRng.fill_bytes(&mut key);
    format!("{PREFIX}{}", STANDARD.encode(key))
}

/// The key a secret stands for; `None` when it is not `whsec_` and base64.
fn key(secret: &str) -> Option<Vec<u8>> {
    STANDARD
        .decode(secret.strip_prefix(PREFIX).unwrap_or(secret))
        .ok()
        .filter(|k| !k.is_empty())
}

/// The `webhook-signature` value for a delivery.
pub fn sign(secret: &str, id: &str, timestamp: i64, body: &[u8]) -> Option<String> {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(&key(secret)?).ok()?;
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(body);
    Some(format!(
        "v1,{}",
        STANDARD.encode(mac.finalize().into_bytes())
    ))
}

/// Whether one of the space-separated signatures in `header` is ours for
/// this delivery (compared in constant time). Receivers also check the
/// timestamp's age; this is the signature's part.
pub fn verify(secret: &str, id: &str, timestamp: i64, body: &[u8], header: &str) -> bool {
    let Some(key) = key(secret) else {
        return false;
    };
    header.split(' ').any(|candidate| {
        let Some(sig) = candidate.strip_prefix("v1,") else {
            return false;
        };
        let Ok(expected) = STANDARD.decode(sig) else {
            return false;
        };
        let Ok(mut mac) = Hmac::<sha2::Sha256>::new_from_slice(&key) else {
            return false;
        };
        mac.update(format!("{id}.{timestamp}.").as_bytes());
        mac.update(body);
        mac.verify_slice(&expected).is_ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    // The specification's reference libraries' vector (standard-webhooks,
    // libraries/rust and the others): secret, id, timestamp, body → signature.
    const SECRET: &str = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";
    const ID: &str = "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk";
    const TIMESTAMP: i64 = 1649367553;
    const BODY: &[u8] = br#"{"email":"test@example.com","username":"test_user"}"#;

    #[test]
    fn signs_the_specifications_vector() {
        assert_eq!(
            sign(SECRET, ID, TIMESTAMP, BODY).as_deref(),
            Some("v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw=")
        );
    }

    #[test]
    fn verifies_any_listed_signature_and_refuses_a_changed_byte() {
        let good = "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw=";
        assert!(verify(SECRET, ID, TIMESTAMP, BODY, good));
        // A rotation lists several; one of ours is enough.
        let several = format!("v1,R3PTzyfHASBKHH98a7yexTwaJ4yNIcGhFQc1yuN+BPU= {good}");
        assert!(verify(SECRET, ID, TIMESTAMP, BODY, &several));
        // The vector's wrong signature, another id, timestamp or body.
        let bad = "v1,R3PTzyfHASBKHH98a7yexTwaJ4yNIcGhFQc1yuN+BPU=";
        assert!(!verify(SECRET, ID, TIMESTAMP, BODY, bad));
        assert!(!verify(SECRET, "msg_other", TIMESTAMP, BODY, good));
        assert!(!verify(SECRET, ID, TIMESTAMP + 1, BODY, good));
        assert!(!verify(SECRET, ID, TIMESTAMP, br#"{"email":"x"}"#, good));
        assert!(!verify(SECRET, ID, TIMESTAMP, BODY, "v2,abc"));
    }

    #[test]
    fn new_secrets_sign_and_differ() {
        let (a, b) = (new_secret(), new_secret());
        assert_ne!(a, b);
        assert!(a.starts_with("whsec_"));
        let sig = sign(&a, ID, TIMESTAMP, BODY).unwrap();
        assert!(verify(&a, ID, TIMESTAMP, BODY, &sig));
        assert!(!verify(&b, ID, TIMESTAMP, BODY, &sig));
    }
}
