//! The catalog as data: products → levels → prices per frequency, seat
//! limits, trial length, what is sold online and which changes are allowed.
//! The file (`catalog.toml`) is parsed on the server at start; the validated
//! [`Catalog`] is sent to the browser as JSON, so both sides quote from the
//! same data.

use std::collections::HashSet;
use std::fmt;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::error::BillingError;
use super::money::{Currency, Money};
use super::period::Frequency;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Catalog {
    pub version: u32,
    pub currency: Currency,
    pub trial_days: u32,
    pub products: Vec<Product>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Product {
    pub code: String,
    pub name: String,
    pub min_seats: u32,
    pub max_seats: u32,
    /// Ordered from lowest to highest.
    pub levels: Vec<Level>,
    pub allowed_changes: Vec<ChangeKind>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Level {
    pub code: String,
    pub name: String,
    pub online: bool,
    /// Per seat, per month / per year, excluding VAT. `None` when not sold online.
    pub monthly: Option<Money>,
    pub annual: Option<Money>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    Level,
    Seats,
    Frequency,
}

impl fmt::Display for ChangeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ChangeKind::Level => "level",
            ChangeKind::Seats => "seats",
            ChangeKind::Frequency => "billing frequency",
        })
    }
}

/// A number of seats already checked against a product's limits: built
/// only by [`Seats::parse`] (no `Deserialize`, which could not know them).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Seats(u32);

impl Seats {
    pub fn parse(product: &Product, seats: i64) -> Result<Self, BillingError> {
        if seats < i64::from(product.min_seats) || seats > i64::from(product.max_seats) {
            return Err(BillingError::SeatsOutOfRange {
                product: product.name.clone(),
                min: product.min_seats,
                max: product.max_seats,
                got: seats,
            });
        }
        Ok(Seats(seats as u32))
    }

    pub fn get(self) -> u32 {
        self.0
    }
}

impl Catalog {
    pub fn product(&self, code: &str) -> Result<&Product, BillingError> {
        self.products
            .iter()
            .find(|p| p.code == code)
            .ok_or_else(|| BillingError::UnknownProduct {
                product: code.to_string(),
            })
    }
}

impl Product {
    pub fn level(&self, code: &str) -> Result<&Level, BillingError> {
        self.levels
            .iter()
            .find(|l| l.code == code)
            .ok_or_else(|| BillingError::UnknownLevel {
                product: self.name.clone(),
                level: code.to_string(),
            })
    }

    /// A level that can be bought online, with its price for `frequency`.
    pub fn online_price(&self, level: &str, frequency: Frequency) -> Result<Money, BillingError> {
        let lvl = self.level(level)?;
        let price = match frequency {
            Frequency::Monthly => lvl.monthly,
            Frequency::Annual => lvl.annual,
        };
        match (lvl.online, price) {
            (true, Some(p)) => Ok(p),
            _ => Err(BillingError::NotSoldOnline {
                product: self.name.clone(),
                level: lvl.name.clone(),
            }),
        }
    }

    pub fn allows(&self, change: ChangeKind) -> Result<(), BillingError> {
        if self.allowed_changes.contains(&change) {
            Ok(())
        } else {
            Err(BillingError::ChangeNotAllowed {
                product: self.name.clone(),
                change: change.to_string(),
            })
        }
    }

    pub fn online_levels(&self) -> impl Iterator<Item = &Level> {
        self.levels.iter().filter(|l| l.online)
    }
}

/// Why a catalog file was refused: names the file, the product and the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid catalog {file}: product {product}, field {field}: {problem}")]
pub struct CatalogError {
    pub file: String,
    pub product: String,
    pub field: String,
    pub problem: String,
}

/// The catalog as written in the file, before validation.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCatalog {
    pub version: u32,
    pub currency: String,
    pub trial_days: u32,
    #[serde(default)]
    pub products: Vec<RawProduct>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawProduct {
    pub code: String,
    pub name: String,
    pub min_seats: u32,
    pub max_seats: u32,
    #[serde(default = "all_changes")]
    pub allowed_changes: Vec<ChangeKind>,
    #[serde(default)]
    pub levels: Vec<RawLevel>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLevel {
    pub code: String,
    pub name: String,
    #[serde(default = "yes")]
    pub online: bool,
    pub monthly: Option<String>,
    pub annual: Option<String>,
}

fn all_changes() -> Vec<ChangeKind> {
    vec![ChangeKind::Level, ChangeKind::Seats, ChangeKind::Frequency]
}

fn yes() -> bool {
    true
}

impl RawCatalog {
    /// Checks every rule and returns the first problem, naming the file,
    /// the product and the field.
    pub fn validate(self, file: &str) -> Result<Catalog, CatalogError> {
        let err = |product: &str, field: &str, problem: String| CatalogError {
            file: file.to_string(),
            product: product.to_string(),
            field: field.to_string(),
            problem,
        };
        let currency =
            Currency::parse(&self.currency).map_err(|e| err("-", "currency", e.to_string()))?;
        if self.trial_days == 0 || self.trial_days > 365 {
            return Err(err("-", "trial_days", "must be between 1 and 365".into()));
        }
        if self.products.is_empty() {
            return Err(err(
                "-",
                "products",
                "at least one product is required".into(),
            ));
        }
        let mut codes = HashSet::new();
        let mut products = Vec::with_capacity(self.products.len());
        for raw in self.products {
            let p = raw.code.clone();
            if !is_code(&raw.code) {
                return Err(err(
                    &p,
                    "code",
                    "must be lowercase letters, digits or '-'".into(),
                ));
            }
            if !codes.insert(raw.code.clone()) {
                return Err(err(&p, "code", "duplicate product code".into()));
            }
            if raw.name.trim().is_empty() {
                return Err(err(&p, "name", "must not be empty".into()));
            }
            if raw.min_seats == 0 || raw.min_seats > raw.max_seats {
                return Err(err(
                    &p,
                    "min_seats",
                    "must be at least 1 and not above max_seats".into(),
                ));
            }
            if raw.levels.is_empty() {
                return Err(err(&p, "levels", "at least one level is required".into()));
            }
            let mut level_codes = HashSet::new();
            let mut levels = Vec::with_capacity(raw.levels.len());
            for (i, l) in raw.levels.into_iter().enumerate() {
                let field = |f: &str| format!("levels[{i}].{f}");
                if !is_code(&l.code) || !level_codes.insert(l.code.clone()) {
                    return Err(err(
                        &p,
                        &field("code"),
                        format!("\"{}\" is invalid or duplicate", l.code),
                    ));
                }
                let price = |name: &str,
                             text: &Option<String>|
                 -> Result<Option<Money>, CatalogError> {
                    match text {
                        None => Ok(None),
                        Some(t) => {
                            let m = Money::parse(t, currency)
                                .map_err(|e| err(&p, &field(name), e.to_string()))?;
                            if m.amount() <= Decimal::ZERO {
                                return Err(err(&p, &field(name), "price must be positive".into()));
                            }
                            Ok(Some(m))
                        }
                    }
                };
                let monthly = price("monthly", &l.monthly)?;
                let annual = price("annual", &l.annual)?;
                if l.online && (monthly.is_none() || annual.is_none()) {
                    return Err(err(
                        &p,
                        &field("monthly"),
                        "a level sold online needs monthly and annual prices".into(),
                    ));
                }
                levels.push(Level {
                    code: l.code,
                    name: l.name,
                    online: l.online,
                    monthly,
                    annual,
                });
            }
            products.push(Product {
                code: raw.code,
                name: raw.name,
                min_seats: raw.min_seats,
                max_seats: raw.max_seats,
                levels,
                allowed_changes: raw.allowed_changes,
            });
        }
        Ok(Catalog {
            version: self.version,
            currency,
            trial_days: self.trial_days,
            products,
        })
    }
}

fn is_code(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 32
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// The demo catalog shipped in the repository, for tests and benchmarks.
pub const DEMO_CATALOG_FILE: &str = "catalog.toml";
pub const DEMO_CATALOG_TOML: &str = include_str!("../../catalog.toml");

#[cfg(feature = "ssr")]
pub mod load {
    //! Reading the file is server-only (the browser receives the validated
    //! catalog as JSON).
    use super::*;

    pub fn from_toml(text: &str, file: &str) -> Result<Catalog, CatalogError> {
        let raw: RawCatalog = toml::from_str(text).map_err(|e| CatalogError {
            file: file.to_string(),
            product: "-".into(),
            field: "-".into(),
            problem: e.message().to_string(),
        })?;
        raw.validate(file)
    }

    pub fn from_file(path: &std::path::Path) -> Result<Catalog, CatalogError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| CatalogError {
            file: file.clone(),
            product: "-".into(),
            field: "-".into(),
            problem: e.to_string(),
        })?;
        from_toml(&text, &file)
    }

    pub fn demo() -> Catalog {
        from_toml(DEMO_CATALOG_TOML, DEMO_CATALOG_FILE).expect("the shipped catalog.toml is valid")
    }
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::load::*;
    use super::*;

    #[test]
    fn demo_catalog_has_the_published_prices() {
        let c = demo();
        assert_eq!(c.currency, Currency::Eur);
        assert_eq!(c.trial_days, 14);
        let w = c.product("webinar").unwrap();
        let prices: Vec<(String, String)> = w
            .levels
            .iter()
            .map(|l| (l.monthly.unwrap().plain(), l.annual.unwrap().plain()))
            .collect();
        assert_eq!(
            prices,
            [
                ("59.00", "588.00"),
                ("129.00", "1188.00"),
                ("249.00", "2388.00"),
                ("499.00", "4788.00")
            ]
            .map(|(a, b)| (a.to_string(), b.to_string()))
        );
        assert_eq!((w.min_seats, w.max_seats), (1, 50));
        let m = c.product("meeting").unwrap();
        assert_eq!((m.min_seats, m.max_seats), (1, 250));
        assert_eq!(
            m.online_price("business", Frequency::Annual)
                .unwrap()
                .plain(),
            "192.00"
        );
        assert!(matches!(
            m.online_price("enterprise", Frequency::Monthly),
            Err(BillingError::NotSoldOnline { .. })
        ));
        let t = c.product("training").unwrap();
        assert_eq!(
            t.online_price("enterprise", Frequency::Annual)
                .unwrap()
                .plain(),
            "4068.00"
        );
        assert_eq!(
            t.online_price("starter", Frequency::Monthly)
                .unwrap()
                .plain(),
            "129.00"
        );
    }

    #[test]
    fn a_bad_catalog_names_file_product_and_field() {
        let text = DEMO_CATALOG_TOML.replacen("monthly = \"14.00\"", "monthly = \"-14.00\"", 1);
        let e = from_toml(&text, "catalog.toml").unwrap_err();
        assert_eq!(e.file, "catalog.toml");
        assert_eq!(e.product, "meeting");
        assert_eq!(e.field, "levels[0].monthly");
        assert!(e.to_string().contains("catalog.toml"));

        let text = DEMO_CATALOG_TOML.replacen("max_seats = 50", "max_seats = 0", 1);
        let e = from_toml(&text, "x.toml").unwrap_err();
        assert_eq!(
            (e.product.as_str(), e.field.as_str()),
            ("webinar", "min_seats")
        );

        let e = from_toml(
            "version = 1\ncurrency = \"XXX\"\ntrial_days = 14\n",
            "y.toml",
        )
        .unwrap_err();
        assert_eq!(e.field, "currency");
        assert!(from_toml("not toml at all [", "z.toml").is_err());
    }

    #[test]
    fn seats_are_parsed_against_the_product_limits() {
        let c = demo();
        let w = c.product("webinar").unwrap();
        assert_eq!(Seats::parse(w, 50).unwrap().get(), 50);
        assert!(matches!(
            Seats::parse(w, 51),
            Err(BillingError::SeatsOutOfRange {
                max: 50,
                got: 51,
                ..
            })
        ));
        assert!(Seats::parse(w, 0).is_err());
        assert!(Seats::parse(w, -3).is_err());
        assert!(matches!(
            c.product("nope"),
            Err(BillingError::UnknownProduct { .. })
        ));
        assert!(matches!(
            w.level("business"),
            Err(BillingError::UnknownLevel { .. })
        ));
    }
}
