//! The rules of an account's fields, one place for every way an account is
//! made or changed: the operator API, `billing-center account create` and
//! `account import`. A broken rule names its field.

use crate::billing::tax::{Country, VatNumber};
use crate::billing::{AccountKind, Currency};
use crate::db::accounts::NewAccount;
use crate::domain::{Address, Email};
use crate::i18n::Lang;

/// A field that breaks its rule.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: &str, message: impl std::fmt::Display) -> FieldError {
        FieldError {
            field: field.to_string(),
            message: message.to_string(),
        }
    }
}

type Checked<T> = Result<T, FieldError>;

pub fn name(v: &str) -> Checked<String> {
    text("name", v, 200)?.ok_or_else(|| FieldError::new("name", "must not be empty"))
}

/// Trimmed printable text of at most `max` characters; empty is `None`.
pub fn text(field: &str, v: &str, max: usize) -> Checked<Option<String>> {
    use crate::domain::text::{LineError, line};
    match line(v, max) {
        Ok(v) => Ok((!v.is_empty()).then(|| v.to_string())),
        Err(LineError::TooLong) => Err(FieldError::new(
            field,
            format!("is longer than {max} characters"),
        )),
        Err(LineError::ControlCharacter) => {
            Err(FieldError::new(field, "contains a control character"))
        }
    }
}

pub fn kind(v: &str) -> Checked<AccountKind> {
    AccountKind::parse(v.trim())
        .ok_or_else(|| FieldError::new("kind", "must be \"online\" or \"corporate\""))
}

pub fn country(v: &str) -> Checked<Country> {
    Country::parse(v).map_err(|e| FieldError::new("country", e))
}

pub fn vat_number(v: &str, country: &str) -> Checked<Option<String>> {
    if v.trim().is_empty() {
        return Ok(None);
    }
    let vat = VatNumber::parse(v).map_err(|e| FieldError::new("vat_number", e))?;
    if vat.country_prefix() != country {
        return Err(FieldError::new(
            "vat_number",
            format!("is not a VAT number of {country}"),
        ));
    }
    Ok(Some(vat.as_str().to_string()))
}

pub fn time_zone(v: &str) -> Checked<String> {
    v.trim()
        .parse::<chrono_tz::Tz>()
        .map(|tz| tz.name().to_string())
        .map_err(|_| FieldError::new("time_zone", "is not an IANA time zone (e.g. Europe/Paris)"))
}

pub fn language(v: &str) -> Checked<Lang> {
    Lang::parse(v.trim()).ok_or_else(|| FieldError::new("language", "must be \"en\" or \"fr\""))
}

pub fn address(line1: &str, line2: &str, postcode: &str, city: &str) -> Checked<Address> {
    Address::parse(line1, line2, postcode, city).map_err(|e| FieldError::new("address", e))
}

/// A Corporate account's representative: (name, email, phone).
pub fn representative(name: &str, email: &str, phone: &str) -> Checked<(String, String, String)> {
    let name = text("representative.name", name, 200)?
        .ok_or_else(|| FieldError::new("representative.name", "must not be empty"))?;
    let email = Email::parse(email).map_err(|e| FieldError::new("representative.email", e))?;
    let phone = text("representative.phone", phone, 50)?.unwrap_or_default();
    Ok((name, email.to_string(), phone))
}

pub fn external_id(v: &str) -> Checked<Option<String>> {
    text("external_id", v, 200)
}

/// A Corporate account is served by its representative.
pub fn check_representative(kind: AccountKind, has_rep: bool) -> Checked<()> {
    match kind == AccountKind::Corporate && !has_rep {
        true => Err(FieldError::new(
            "representative",
            "a Corporate account needs its representative (name, email, phone)",
        )),
        false => Ok(()),
    }
}

/// A new account as typed (API body, command-line flags, CSV row): text,
/// `None` where not given. Defaults: online, the catalog's currency, UTC,
/// English.
#[derive(Clone, Debug, Default)]
pub struct AccountFields {
    pub name: String,
    pub country: String,
    pub kind: Option<String>,
    pub vat_number: Option<String>,
    pub currency: Option<String>,
    pub time_zone: Option<String>,
    pub language: Option<String>,
    /// line 1, line 2, postcode, city.
    pub address: [String; 4],
    /// name, email, phone.
    pub representative: Option<[String; 3]>,
    pub external_id: Option<String>,
}

/// A new account that keeps every rule.
#[derive(Clone, Debug, PartialEq)]
pub struct ValidAccount {
    pub name: String,
    pub kind: AccountKind,
    pub country: Country,
    pub vat_number: Option<String>,
    pub currency: Currency,
    pub time_zone: String,
    pub language: Lang,
    pub address: Address,
    pub representative: Option<(String, String, String)>,
    pub external_id: Option<String>,
}

impl AccountFields {
    /// Checks every field; `currency` is the catalog's, what its prices
    /// are in (another is refused).
    pub fn validate(&self, currency: Currency) -> Checked<ValidAccount> {
        let name = name(&self.name)?;
        let country = country(&self.country)?;
        let kind = match &self.kind {
            Some(k) if !k.trim().is_empty() => kind(k)?,
            _ => AccountKind::Online,
        };
        let vat = match &self.vat_number {
            Some(v) => vat_number(v, country.code())?,
            None => None,
        };
        if let Some(c) = self.currency.as_deref().filter(|c| !c.trim().is_empty())
            && Currency::parse(c.trim()).map_err(|e| FieldError::new("currency", e))? != currency
        {
            return Err(FieldError::new(
                "currency",
                format!("must be {currency}, the currency of the catalog's prices"),
            ));
        }
        let or = |v: &Option<String>, default: &'static str| match v.as_deref() {
            Some(v) if !v.trim().is_empty() => v.to_string(),
            _ => default.to_string(),
        };
        let time_zone = time_zone(&or(&self.time_zone, "UTC"))?;
        let language = language(&or(&self.language, "en"))?;
        let [l1, l2, postcode, city] = &self.address;
        let address = address(l1, l2, postcode, city)?;
        let representative = match &self.representative {
            Some([n, e, p]) => Some(representative(n, e, p)?),
            None => None,
        };
        check_representative(kind, representative.is_some())?;
        let external_id = match &self.external_id {
            Some(e) => external_id(e)?,
            None => None,
        };
        Ok(ValidAccount {
            name,
            kind,
            country,
            vat_number: vat,
            currency,
            time_zone,
            language,
            address,
            representative,
            external_id,
        })
    }
}

impl ValidAccount {
    /// The row to insert.
    pub fn row(&self) -> NewAccount<'_> {
        NewAccount {
            name: &self.name,
            kind: self.kind.code(),
            country: self.country.code(),
            vat_number: self.vat_number.as_deref(),
            currency: self.currency.code(),
            time_zone: &self.time_zone,
            language: self.language.code(),
            rep: self
                .representative
                .as_ref()
                .map(|(n, e, p)| (n.as_str(), e.as_str(), p.as_str())),
            address: self.address.clone(),
            external_id: self.external_id.as_deref(),
        }
    }
}
