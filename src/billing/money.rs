//! Money: `Decimal` amounts tied to a currency, rounded half-up to the
//! currency's minor unit in exactly one place ([`Money::round`]).

use std::fmt;

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

use super::error::BillingError;

/// ISO 4217 currencies we bill in. The exponent comes from the currency, never
/// from a hard-coded "× 100" (Kill Bill multiplied CLP by 100: killbill#1080).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Currency {
    Eur,
    Usd,
    Gbp,
    Jpy,
    Bhd,
}

impl Currency {
    pub const ALL: [Currency; 5] = [
        Currency::Eur,
        Currency::Usd,
        Currency::Gbp,
        Currency::Jpy,
        Currency::Bhd,
    ];

    /// Number of decimals of the minor unit.
    pub fn exponent(self) -> u32 {
        match self {
            Currency::Jpy => 0,
            Currency::Bhd => 3,
            Currency::Eur | Currency::Usd | Currency::Gbp => 2,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Currency::Eur => "EUR",
            Currency::Usd => "USD",
            Currency::Gbp => "GBP",
            Currency::Jpy => "JPY",
            Currency::Bhd => "BHD",
        }
    }

    pub fn symbol(self) -> &'static str {
        match self {
            Currency::Eur => "€",
            Currency::Usd => "$",
            Currency::Gbp => "£",
            Currency::Jpy => "¥",
            Currency::Bhd => "BHD ",
        }
    }

    pub fn parse(code: &str) -> Result<Self, BillingError> {
        Currency::ALL
            .into_iter()
            .find(|c| c.code().eq_ignore_ascii_case(code.trim()))
            .ok_or_else(|| BillingError::UnknownCurrency {
                code: code.to_string(),
            })
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// An amount already rounded to its currency's minor unit. Unrounded
/// intermediate values stay plain `Decimal` until [`Money::round`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "MoneyFields")]
pub struct Money {
    amount: Decimal,
    currency: Currency,
}

/// `Money` as serialized; deserialized only through [`Money::parse`], which
/// refuses more decimals than the currency has.
#[derive(Deserialize)]
struct MoneyFields {
    amount: Decimal,
    currency: Currency,
}

impl TryFrom<MoneyFields> for Money {
    type Error = BillingError;
    fn try_from(f: MoneyFields) -> Result<Self, Self::Error> {
        Money::parse(&f.amount.to_string(), f.currency)
    }
}

impl Money {
    /// The single rounding point: half-up (away from zero at the midpoint,
    /// like Java's HALF_UP) to the currency's exponent.
    pub fn round(amount: Decimal, currency: Currency) -> Self {
        Money {
            amount: amount.round_dp_with_strategy(
                currency.exponent(),
                RoundingStrategy::MidpointAwayFromZero,
            ),
            currency,
        }
        .rescaled()
    }

    pub fn zero(currency: Currency) -> Self {
        Money::round(Decimal::ZERO, currency)
    }

    /// From integer minor units as stored in the database.
    pub fn from_minor(minor: i64, currency: Currency) -> Self {
        Money {
            amount: Decimal::new(minor, currency.exponent()),
            currency,
        }
    }

    /// Parses a decimal string (e.g. from the catalog or a form) and refuses
    /// more decimals than the currency has, instead of silently rounding.
    pub fn parse(text: &str, currency: Currency) -> Result<Self, BillingError> {
        let amount: Decimal = text
            .trim()
            .parse()
            .map_err(|_| BillingError::InvalidAmount {
                text: text.to_string(),
            })?;
        if amount.normalize().scale() > currency.exponent() {
            return Err(BillingError::InvalidAmount {
                text: text.to_string(),
            });
        }
        Ok(Money::round(amount, currency))
    }

    /// Integer minor units for storage. Every `Money` is already rounded, so
    /// this is exact.
    pub fn to_minor(self) -> i64 {
        let scaled = self.amount * Decimal::from(10_i64.pow(self.currency.exponent()));
        // A rounded amount times 10^exponent is an integer; i64 covers any
        // realistic invoice (9.2e16 minor units).
        i64::try_from(scaled.trunc()).unwrap_or(i64::MAX)
    }

    pub fn amount(self) -> Decimal {
        self.amount
    }

    pub fn currency(self) -> Currency {
        self.currency
    }

    pub fn is_zero(self) -> bool {
        self.amount.is_zero()
    }

    pub fn is_negative(self) -> bool {
        self.amount.is_sign_negative() && !self.amount.is_zero()
    }

    /// Adds two rounded amounts of the same currency (no rounding needed).
    pub fn checked_add(self, other: Money) -> Result<Money, BillingError> {
        self.same_currency(other)?;
        Ok(Money {
            amount: self.amount + other.amount,
            currency: self.currency,
        }
        .rescaled())
    }

    pub fn checked_sub(self, other: Money) -> Result<Money, BillingError> {
        self.checked_add(-other)
    }

    pub fn min(self, other: Money) -> Money {
        if other.amount < self.amount {
            other
        } else {
            self
        }
    }

    pub fn max(self, other: Money) -> Money {
        if other.amount > self.amount {
            other
        } else {
            self
        }
    }

    fn same_currency(self, other: Money) -> Result<(), BillingError> {
        if self.currency == other.currency {
            Ok(())
        } else {
            Err(BillingError::CurrencyMismatch {
                expected: self.currency,
                found: other.currency,
            })
        }
    }

    /// Keeps the scale equal to the exponent so "129" prints as "129.00".
    fn rescaled(mut self) -> Self {
        self.amount.rescale(self.currency.exponent());
        if self.amount.is_zero() {
            // Never print "-0.00".
            self.amount.set_sign_positive(true);
        }
        self
    }

    /// Plain amount with the currency's decimals and a dot, e.g. `1234.50`.
    pub fn plain(self) -> String {
        self.amount.to_string()
    }
}

impl std::ops::Neg for Money {
    type Output = Money;
    fn neg(self) -> Money {
        Money {
            amount: -self.amount,
            currency: self.currency,
        }
        .rescaled()
    }
}

impl fmt::Display for Money {
    /// English formatting: `€1,234.56`, `-€5.00`, `¥1,000`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.is_negative() { "-" } else { "" };
        let abs = self.amount.abs().to_string();
        let (int, frac) = match abs.split_once('.') {
            Some((i, d)) => (i.to_string(), Some(d.to_string())),
            None => (abs, None),
        };
        let mut grouped = String::new();
        for (i, ch) in int.chars().enumerate() {
            if i > 0 && (int.len() - i) % 3 == 0 {
                grouped.push(',');
            }
            grouped.push(ch);
        }
        write!(f, "{sign}{}{grouped}", self.currency.symbol())?;
        if let Some(frac) = frac {
            write!(f, ".{frac}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn rounds_half_up_once_to_the_currency_exponent() {
        assert_eq!(
            Money::round(d("193.333333"), Currency::Eur).plain(),
            "193.33"
        );
        assert_eq!(Money::round(d("0.005"), Currency::Eur).plain(), "0.01");
        assert_eq!(Money::round(d("-0.005"), Currency::Eur).plain(), "-0.01");
        assert_eq!(Money::round(d("2.0045"), Currency::Bhd).plain(), "2.005");
        assert_eq!(Money::round(d("1000.5"), Currency::Jpy).plain(), "1001");
    }

    #[test]
    fn jpy_has_no_minor_unit_and_bhd_has_three() {
        let yen = Money::parse("1500", Currency::Jpy).unwrap();
        assert_eq!(yen.to_minor(), 1500, "JPY is never multiplied by 100");
        assert_eq!(Money::from_minor(1500, Currency::Jpy), yen);
        let dinar = Money::parse("12.345", Currency::Bhd).unwrap();
        assert_eq!(dinar.to_minor(), 12_345);
        assert_eq!(Money::from_minor(12_345, Currency::Bhd), dinar);
        assert!(Money::parse("1.5", Currency::Jpy).is_err());
        assert!(Money::parse("1.234", Currency::Eur).is_err());
    }

    #[test]
    fn minor_units_round_trip() {
        let m = Money::parse("129.00", Currency::Eur).unwrap();
        assert_eq!(m.to_minor(), 12_900);
        assert_eq!(Money::from_minor(12_900, Currency::Eur), m);
        assert_eq!(Money::from_minor(-505, Currency::Eur).plain(), "-5.05");
    }

    #[test]
    fn refuses_mixing_currencies() {
        let e = Money::zero(Currency::Eur);
        let u = Money::zero(Currency::Usd);
        assert!(matches!(
            e.checked_add(u),
            Err(BillingError::CurrencyMismatch { .. })
        ));
    }

    #[test]
    fn displays_in_english_format() {
        assert_eq!(
            Money::parse("1234.56", Currency::Eur).unwrap().to_string(),
            "€1,234.56"
        );
        assert_eq!(
            Money::parse("-5", Currency::Eur).unwrap().to_string(),
            "-€5.00"
        );
        assert_eq!(
            Money::parse("1000000", Currency::Jpy).unwrap().to_string(),
            "¥1,000,000"
        );
    }

    #[test]
    fn rejects_garbage() {
        assert!(Money::parse("12,00", Currency::Eur).is_err());
        assert!(Money::parse("", Currency::Eur).is_err());
        assert!(Currency::parse("XYZ").is_err());
        assert_eq!(Currency::parse("eur").unwrap(), Currency::Eur);
    }
}
