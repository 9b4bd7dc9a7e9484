//! VAT: prices exclude VAT; the rate follows the buyer's billing country;
//! an EU business outside the seller's country with a well-formed VAT number
//! is reverse-charged (0 % with the legal mention, art. 196 of Directive
//! 2006/112/EC).

use std::fmt;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::error::BillingError;

/// ISO 3166-1 alpha-2 billing country we can tax.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Country(String);

/// (country, standard VAT rate in percent, EU member)
const RATES: &[(&str, u32, bool)] = &[
    ("FR", 20, true),
    ("DE", 19, true),
    ("BE", 21, true),
    ("ES", 21, true),
    ("IT", 22, true),
    ("NL", 21, true),
    ("GB", 20, false),
    ("US", 0, false),
];

impl Country {
    pub fn parse(code: &str) -> Result<Self, BillingError> {
        let code = code.trim().to_ascii_uppercase();
        if RATES.iter().any(|(c, _, _)| *c == code) {
            Ok(Country(code))
        } else {
            Err(BillingError::UnsupportedCountry { country: code })
        }
    }

    pub fn code(&self) -> &str {
        &self.0
    }

    fn entry(&self) -> (u32, bool) {
        RATES
            .iter()
            .find(|(c, _, _)| *c == self.0)
            .map(|(_, r, eu)| (*r, *eu))
            .unwrap_or((0, false))
    }

    pub fn standard_rate(&self) -> Decimal {
        Decimal::new(i64::from(self.entry().0), 2)
    }

    pub fn is_eu(&self) -> bool {
        self.entry().1
    }
}

impl fmt::Display for Country {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A VAT identification number whose shape fits its country's format.
/// (Checking it against VIES needs the network; shape only here.)
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct VatNumber(String);

/// Deserialized only through [`VatNumber::parse`].
impl TryFrom<String> for VatNumber {
    type Error = BillingError;
    fn try_from(text: String) -> Result<Self, Self::Error> {
        VatNumber::parse(&text)
    }
}

impl From<VatNumber> for String {
    fn from(v: VatNumber) -> String {
        v.0
    }
}

impl VatNumber {
    pub fn parse(text: &str) -> Result<Self, BillingError> {
        let compact: String = text
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '.' && *c != '-')
            .collect::<String>()
            .to_ascii_uppercase();
        let bad = || BillingError::InvalidVatNumber {
            text: text.to_string(),
        };
        if compact.len() < 4 || !compact.is_ascii() {
            return Err(bad());
        }
        let (prefix, rest) = compact.split_at(2);
        let digits = |n: usize| rest.len() == n && rest.bytes().all(|b| b.is_ascii_digit());
        let ok = match prefix {
            "DE" => digits(9),
            "FR" => {
                rest.len() == 11
                    && rest[..2].bytes().all(|b| b.is_ascii_alphanumeric())
                    && rest[2..].bytes().all(|b| b.is_ascii_digit())
            }
            "BE" => digits(10) && (rest.starts_with('0') || rest.starts_with('1')),
            "IT" => digits(11),
            "NL" => {
                rest.len() == 12
                    && rest[..9].bytes().all(|b| b.is_ascii_digit())
                    && &rest[9..10] == "B"
                    && rest[10..].bytes().all(|b| b.is_ascii_digit())
            }
            "ES" => rest.len() == 9 && rest.bytes().all(|b| b.is_ascii_alphanumeric()),
            _ => false,
        };
        if ok {
            Ok(VatNumber(compact))
        } else {
            Err(bad())
        }
    }

    pub fn country_prefix(&self) -> &str {
        &self.0[..2]
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TaxTreatment {
    /// VAT at `rate` (a fraction, e.g. 0.20).
    Standard { rate: Decimal },
    /// 0 %: VAT due by the customer (intra-EU B2B).
    ReverseCharge,
}

impl TaxTreatment {
    pub fn rate(&self) -> Decimal {
        match self {
            TaxTreatment::Standard { rate } => *rate,
            TaxTreatment::ReverseCharge => Decimal::ZERO,
        }
    }

    /// Legal mention printed on invoices, when one is required.
    pub fn legal_mention(&self) -> Option<&'static str> {
        match self {
            TaxTreatment::ReverseCharge => Some(
                "Reverse charge: VAT to be accounted for by the customer (Art. 196 Directive 2006/112/EC)",
            ),
            TaxTreatment::Standard { .. } => None,
        }
    }
}

/// The VAT of a sale to `account` by a seller of `account.seller_country`.
pub fn tax_treatment(account: &super::quote::AccountTerms) -> TaxTreatment {
    let country = &account.country;
    let reverse = country.is_eu()
        && country.code() != account.seller_country.code()
        && account
            .vat_number
            .as_ref()
            .is_some_and(|v| v.country_prefix() == country.code());
    if reverse {
        TaxTreatment::ReverseCharge
    } else {
        TaxTreatment::Standard {
            rate: country.standard_rate(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_by_country() {
        let rate = |c: &str| {
            sale(&Country::parse(c).unwrap(), None, "FR")
                .rate()
                .to_string()
        };
        assert_eq!(rate("FR"), "0.20");
        assert_eq!(rate("de"), "0.19");
        assert_eq!(rate("BE"), "0.21");
        assert_eq!(rate("ES"), "0.21");
        assert_eq!(rate("IT"), "0.22");
        assert_eq!(rate("NL"), "0.21");
        assert_eq!(rate("GB"), "0.20");
        assert_eq!(rate("US"), "0.00");
        assert!(matches!(
            Country::parse("ZZ"),
            Err(BillingError::UnsupportedCountry { .. })
        ));
    }

    /// A sale from a seller of `seller` to a buyer of `country`.
    fn sale(country: &Country, vat: Option<&VatNumber>, seller: &str) -> TaxTreatment {
        tax_treatment(&crate::billing::quote::AccountTerms {
            kind: crate::billing::AccountKind::Online,
            country: country.clone(),
            vat_number: vat.cloned(),
            currency: crate::billing::Currency::Eur,
            credit_balance: crate::billing::Money::zero(crate::billing::Currency::Eur),
            seller_country: Country::parse(seller).unwrap(),
        })
    }

    #[test]
    fn reverse_charge_only_for_other_eu_businesses_with_a_matching_number() {
        let tax_treatment = |c: &Country, v: Option<&VatNumber>| sale(c, v, "FR");
        let de = Country::parse("DE").unwrap();
        let fr = Country::parse("FR").unwrap();
        let gb = Country::parse("GB").unwrap();
        let de_vat = VatNumber::parse("DE123456789").unwrap();
        assert_eq!(
            tax_treatment(&de, Some(&de_vat)),
            TaxTreatment::ReverseCharge
        );
        assert!(
            TaxTreatment::ReverseCharge
                .legal_mention()
                .unwrap()
                .contains("Reverse charge")
        );
        // No number: a consumer, taxed at the local rate.
        assert_eq!(tax_treatment(&de, None).rate().to_string(), "0.19");
        // The seller's own country never reverse-charges.
        let fr_vat = VatNumber::parse("FR 12 345678901").unwrap();
        assert_eq!(tax_treatment(&fr, Some(&fr_vat)).rate().to_string(), "0.20");
        // A German number on a French address is not a reverse charge.
        assert_eq!(tax_treatment(&fr, Some(&de_vat)).rate().to_string(), "0.20");
        // Outside the EU: local rate.
        assert_eq!(tax_treatment(&gb, Some(&de_vat)).rate().to_string(), "0.20");
    }

    #[test]
    fn the_seller_country_decides_which_sales_are_domestic() {
        let de = Country::parse("DE").unwrap();
        let fr = Country::parse("FR").unwrap();
        let de_vat = VatNumber::parse("DE123456789").unwrap();
        let fr_vat = VatNumber::parse("FR12345678901").unwrap();
        // A German seller charges German VAT to a German business…
        assert_eq!(sale(&de, Some(&de_vat), "DE").rate().to_string(), "0.19");
        // …and reverse-charges a French one.
        assert_eq!(sale(&fr, Some(&fr_vat), "DE"), TaxTreatment::ReverseCharge);
    }

    #[test]
    fn vat_number_shapes() {
        assert!(VatNumber::parse("DE123456789").is_ok());
        assert!(VatNumber::parse("de 123.456.789").is_ok());
        assert!(VatNumber::parse("DE12345678").is_err());
        assert!(VatNumber::parse("NL123456789B01").is_ok());
        assert!(VatNumber::parse("BE0123456789").is_ok());
        assert!(VatNumber::parse("XX123").is_err());
        assert!(VatNumber::parse("").is_err());
        assert!(VatNumber::parse("DEé23456789").is_err());
    }
}
