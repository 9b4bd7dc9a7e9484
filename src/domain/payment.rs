//! Card numbers (Luhn), expiry dates and IBANs (mod-97). Only a token, the
//! brand, the last four digits and the expiry are ever stored.

use serde::{Deserialize, Serialize};

#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CardNumber(String);

/// Deserialized only through [`CardNumber::parse`].
impl TryFrom<String> for CardNumber {
    type Error = String;
    fn try_from(text: String) -> Result<Self, Self::Error> {
        CardNumber::parse(&text)
    }
}

impl From<CardNumber> for String {
    fn from(v: CardNumber) -> String {
        v.0
    }
}

// Never print a full card number, even in debug logs.
impl std::fmt::Debug for CardNumber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CardNumber(**** {})", self.last4())
    }
}

impl CardNumber {
    pub fn parse(text: &str) -> Result<Self, String> {
        let digits: String = text
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .collect();
        if digits.len() < 12 || digits.len() > 19 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err("Enter the 12 to 19 digits of your card number.".into());
        }
        if !luhn(&digits) {
            return Err("This card number is not valid: check the digits.".into());
        }
        Ok(CardNumber(digits))
    }

    pub fn last4(&self) -> &str {
        &self.0[self.0.len() - 4..]
    }

    pub fn digits(&self) -> &str {
        &self.0
    }

    pub fn brand(&self) -> &'static str {
        match self.0.as_bytes()[0] {
            b'4' => "Visa",
            b'5' | b'2' => "Mastercard",
            b'3' => "American Express",
            _ => "Card",
        }
    }
}

fn luhn(digits: &str) -> bool {
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 1 {
                let x = d * 2;
                if x > 9 { x - 9 } else { x }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// Card expiry, `MM/YY`, not in the past relative to `today_ym`: built
/// only by [`Expiry::parse`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Expiry {
    month: u32,
    year: i32,
}

impl Expiry {
    pub fn month(self) -> u32 {
        self.month
    }

    pub fn year(self) -> i32 {
        self.year
    }

    /// `today` is (year, month) of the account's local date.
    pub fn parse(text: &str, today: (i32, u32)) -> Result<Self, String> {
        let bad = || "Enter the expiry date as MM/YY.".to_string();
        let (m, y) = text.trim().split_once('/').ok_or_else(bad)?;
        let month: u32 = m.trim().parse().map_err(|_| bad())?;
        let yy: i32 = y.trim().parse().map_err(|_| bad())?;
        if !(1..=12).contains(&month) || !(0..=99).contains(&yy) || y.trim().len() != 2 {
            return Err(bad());
        }
        let year = 2000 + yy;
        if (year, month) < today {
            return Err("This card has expired.".into());
        }
        Ok(Expiry { month, year })
    }
}

/// A card as typed in a payment form: number, expiry and security code,
/// checked together. The CVC is checked and dropped: it goes nowhere.
pub fn parse_card(
    number: &str,
    expiry: &str,
    cvc: &str,
    today: (i32, u32),
) -> Result<(CardNumber, Expiry), String> {
    let card = CardNumber::parse(number)?;
    let expiry = Expiry::parse(expiry, today)?;
    let cvc = cvc.trim();
    if !(3..=4).contains(&cvc.len()) || !cvc.bytes().all(|b| b.is_ascii_digit()) {
        return Err("Enter the 3 or 4 digits of the security code (CVC).".into());
    }
    Ok((card, expiry))
}

#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Iban(String);

/// Deserialized only through [`Iban::parse`].
impl TryFrom<String> for Iban {
    type Error = String;
    fn try_from(text: String) -> Result<Self, Self::Error> {
        Iban::parse(&text)
    }
}

impl From<Iban> for String {
    fn from(v: Iban) -> String {
        v.0
    }
}

impl std::fmt::Debug for Iban {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Iban(**** {})", self.last4())
    }
}

impl Iban {
    pub fn parse(text: &str) -> Result<Self, String> {
        let compact: String = text
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_ascii_uppercase();
        let bad = || "This IBAN is not valid: check the country code and the digits.".to_string();
        if compact.len() < 15
            || compact.len() > 34
            || !compact.bytes().all(|b| b.is_ascii_alphanumeric())
        {
            return Err(bad());
        }
        if !compact[..2].bytes().all(|b| b.is_ascii_alphabetic())
            || !compact[2..4].bytes().all(|b| b.is_ascii_digit())
        {
            return Err(bad());
        }
        // ISO 13616: move the first four characters to the end, letters to
        // numbers (A = 10), remainder mod 97 must be 1.
        let rearranged = format!("{}{}", &compact[4..], &compact[..4]);
        let mut rem: u32 = 0;
        for b in rearranged.bytes() {
            let v = if b.is_ascii_digit() {
                u32::from(b - b'0')
            } else {
                u32::from(b - b'A') + 10
            };
            rem = if v >= 10 {
                (rem * 100 + v) % 97
            } else {
                (rem * 10 + v) % 97
            };
        }
        if rem != 1 {
            return Err(bad());
        }
        Ok(Iban(compact))
    }

    pub fn last4(&self) -> &str {
        &self.0[self.0.len() - 4..]
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_cards_pass_luhn() {
        for n in [
            "4242 4242 4242 4242",
            "4000 0000 0000 0002",
            "4000000000009995",
            "4000-0000-0000-0341",
        ] {
            assert!(CardNumber::parse(n).is_ok(), "{n}");
        }
        assert!(CardNumber::parse("4242 4242 4242 4241").is_err());
        assert!(CardNumber::parse("abcd").is_err());
        let c = CardNumber::parse("4242424242424242").unwrap();
        assert_eq!((c.last4(), c.brand()), ("4242", "Visa"));
        assert!(!format!("{c:?}").contains("42424242"));
    }

    #[test]
    fn expiry_in_the_future() {
        assert_eq!(
            Expiry::parse("12/30", (2026, 11)).unwrap(),
            Expiry {
                month: 12,
                year: 2030
            }
        );
        assert!(
            Expiry::parse("11/26", (2026, 11)).is_ok(),
            "valid through the end of its month"
        );
        assert_eq!(
            Expiry::parse("10/26", (2026, 11)),
            Err("This card has expired.".into())
        );
        for bad in ["13/30", "1230", "ab/cd", "12/2030"] {
            assert!(Expiry::parse(bad, (2026, 11)).is_err(), "{bad}");
        }
    }

    #[test]
    fn card_forms_check_all_three_fields() {
        assert!(parse_card("4242424242424242", "12/30", "123", (2026, 11)).is_ok());
        assert!(
            parse_card("4242424242424242", "12/30", "12", (2026, 11))
                .unwrap_err()
                .contains("CVC")
        );
        assert!(parse_card("4242424242424242", "12/30", "12a", (2026, 11)).is_err());
        assert!(parse_card("4242424242424241", "12/30", "123", (2026, 11)).is_err());
    }

    #[test]
    fn iban_mod_97() {
        assert!(Iban::parse("FR76 3000 6000 0112 3456 7890 189").is_ok());
        assert!(Iban::parse("FR76 3000 6000 0112 3456 7890 188").is_err());
        assert!(Iban::parse("DE89 3704 0044 0532 0130 00").is_ok());
        assert!(Iban::parse("XX").is_err());
    }
}

/// What the demo's built-in provider makes of a card or an IBAN in the
/// browser, before anything is sent: the page sends this token, never
/// the number, exactly as it sends a Stripe setup id when Stripe is
/// configured. The behaviours follow the usual test numbers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DemoToken {
    /// `ok`, `declined`, `insufficient_funds`, `fail_on_charge`,
    /// `hard_decline`, `timeout_after_charge`, `refund_fails`, `sepa_ok`.
    pub behaviour: String,
    pub brand: String,
    pub last4: String,
    /// (month, year) of a card.
    pub expiry: Option<(u32, i32)>,
}

impl DemoToken {
    pub fn for_card(card: &CardNumber, expiry: Expiry) -> String {
        let behaviour = match card.digits() {
            "4000000000000002" => "declined",
            "4000000000009995" => "insufficient_funds",
            "4000000000000341" => "fail_on_charge",
            // Stripe's `stolen_card` test number: saves, then hard-declines.
            "4000000000009979" => "hard_decline",
            "4000000000000119" => "timeout_after_charge",
            "4000000000005126" => "refund_fails",
            _ => "ok",
        };
        format!(
            "demo:{behaviour}:{}:{}:{}:{}",
            card.brand().replace(' ', "_"),
            card.last4(),
            expiry.month(),
            expiry.year()
        )
    }

    pub fn for_iban(iban: &Iban) -> String {
        format!("demo:sepa_ok:SEPA_Direct_Debit:{}", iban.last4())
    }

    /// The token as the browser made it; `None` for anything else (a card
    /// number included: it has no `demo:` prefix and no fields).
    pub fn parse(text: &str) -> Option<DemoToken> {
        let parts: Vec<&str> = text.strip_prefix("demo:")?.split(':').collect();
        let word =
            |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        let (behaviour, brand, last4) = match parts[..] {
            [b, brand, l, ..] if word(b) && word(brand) => (b, brand, l),
            _ => return None,
        };
        if last4.len() != 4 || !last4.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return None;
        }
        let expiry = match parts[3..] {
            [] => None,
            [m, y] => {
                let (m, y): (u32, i32) = (m.parse().ok()?, y.parse().ok()?);
                ((1..=12).contains(&m) && (2000..=2100).contains(&y)).then_some((m, y))?;
                Some((m, y))
            }
            _ => return None,
        };
        Some(DemoToken {
            behaviour: behaviour.into(),
            brand: brand.replace('_', " "),
            last4: last4.into(),
            expiry,
        })
    }
}
