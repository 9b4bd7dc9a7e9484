//! The configuration: `billing-center.toml` (`--config FILE` or
//! `BC_CONFIG`), each key overridable by its environment variable
//! ([`keys::KEYS`]), defaults that run the demo. Everything is checked
//! once, at start: a bad value stops the server with one line naming the
//! file, the key and why, instead of failing later in front of a customer.

pub mod keys;
pub mod source;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

pub use source::{ConfigError, Origin, Source};

use super::identity::{Colour, Identity, Logo, Seller};
use crate::billing::tax::{Country, VatNumber};
use crate::domain::Email;

pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/billing-center.db";

/// How the mailer reaches its relay (`smtp.*`).
#[derive(Clone, PartialEq, Eq)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub tls: SmtpTls,
    /// (user, password)
    pub credentials: Option<(String, String)>,
    /// PEM of a certificate authority to trust besides the system's.
    pub extra_ca: Option<Vec<u8>>,
}

// Never print the password.
impl std::fmt::Debug for SmtpSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpSettings")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("tls", &self.tls)
            .field("user", &self.credentials.as_ref().map(|c| &c.0))
            .finish()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SmtpTls {
    /// STARTTLS when the relay offers it (plain otherwise: a local relay).
    Opportunistic,
    /// STARTTLS or no delivery: always with a login.
    Required,
    /// `smtps://`: TLS from the first byte.
    Implicit,
}

#[derive(Clone, Debug)]
pub struct Config {
    /// The file read, if any (for messages).
    pub file: Option<PathBuf>,
    pub database_url: String,
    /// `None`: the built-in demo catalog.
    pub catalog_path: Option<PathBuf>,
    pub help_dir: Option<PathBuf>,
    pub listen: SocketAddr,
    pub identity: Identity,
    pub smtp: Option<SmtpSettings>,
    pub stripe: Option<super::payments::StripeConfig>,
    pub gateway_concurrency: usize,
    /// `None`: the gateway's own default.
    pub gateway_rate_limit: Option<u32>,
    pub trusted_proxies: super::client_address::TrustedProxies,
    pub return_origins: Vec<String>,
    pub webhooks: super::outgoing_webhooks::Settings,
    pub webhook_poll: std::time::Duration,
    /// Where `/metrics` is served, on its own listener; `None`: nowhere.
    pub metrics_listen: Option<SocketAddr>,
}

impl Config {
    /// The process's configuration: the file named by `--config` (`cli`),
    /// else `BC_CONFIG`, else none; then the environment.
    pub fn from_process(cli: Option<&Path>) -> Result<Config, ConfigError> {
        let file = cli.map(Path::to_path_buf).or_else(|| {
            std::env::var_os("BC_CONFIG")
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        });
        Config::load(file.as_deref(), &|k| std::env::var(k).ok())
    }

    /// The defaults, which run the demo, whatever the environment says.
    pub fn demo() -> Config {
        Config::load(None, &|_| None).expect("the defaults are valid")
    }

    /// The defaults on the database at `url`: for tests and benchmarks.
    pub fn with_database(url: &str) -> Config {
        Config {
            database_url: url.to_string(),
            ..Config::demo()
        }
    }

    /// The demo seller (the defaults), whose invoices the demo data holds.
    pub fn demo_seller() -> Seller {
        Config::demo().identity.seller
    }

    pub fn load(
        file: Option<&Path>,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Config, ConfigError> {
        let s = Source::load(file, env)?;
        let listen = parsed(&s, "listen", |t| {
            t.parse::<SocketAddr>()
                .map_err(|_| format!("{t:?} is not an address and port, e.g. 127.0.0.1:3000"))
        })?
        .expect("listen has a default");
        let public_url = match s.get("public_url") {
            Some(v) => {
                let u = url::Url::parse(&v.text)
                    .ok()
                    .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
                    .ok_or_else(|| v.error(format!("{:?} is not an http(s) URL", v.text)))?;
                if u.query().is_some() || u.fragment().is_some() {
                    return Err(v.error("must not have a query or a fragment"));
                }
                u.as_str().trim_end_matches('/').to_string()
            }
            None => format!("http://{listen}"),
        };
        let identity = Identity {
            seller: seller(&s)?,
            product_name: line(&s, "brand.product_name", 60)?.expect("has a default"),
            colour: parsed(&s, "brand.colour", Colour::parse)?.expect("has a default"),
            logo: match s.get("seller.logo") {
                Some(v) => {
                    let bytes = std::fs::read(v.path())
                        .map_err(|e| v.error(format!("cannot read {}: {e}", v.path().display())))?;
                    Some(Logo::parse(bytes).map_err(|e| v.error(format!("{} {e}", v.text)))?)
                }
                None => None,
            },
            from: parsed(&s, "email.from", |t| {
                t.parse::<lettre::message::Mailbox>()
                    .map(|m| m.to_string())
                    .map_err(|_| format!("{t:?} is not an address like Name <billing@example.com>"))
            })?
            .expect("has a default"),
            support: parsed(&s, "email.support", Email::parse)?.expect("has a default"),
            sales: parsed(&s, "email.sales", Email::parse)?.expect("has a default"),
            public_url,
        };
        let webhook_ms = |name| -> Result<std::time::Duration, ConfigError> {
            let v = s.get(name).expect("has a default");
            match whole(&v)? {
                0 => Err(v.error("must be at least 1")),
                n => Ok(std::time::Duration::from_millis(n)),
            }
        };
        let retry_base = webhook_ms("webhooks.retry_base_ms")?;
        Ok(Config {
            file: s.file.clone(),
            database_url: s.get("database_url").expect("has a default").text,
            catalog_path: existing(&s, "catalog", false)?,
            help_dir: existing(&s, "help_dir", true)?,
            listen,
            identity,
            smtp: smtp(&s)?,
            stripe: stripe(&s)?,
            gateway_concurrency: {
                let v = s.get("payments.concurrency").expect("has a default");
                match whole(&v)? {
                    0 => return Err(v.error("must be at least 1")),
                    n => usize::try_from(n).map_err(|_| v.error("is too large"))?,
                }
            },
            gateway_rate_limit: match s.get("payments.rate_limit") {
                Some(v) => Some(u32::try_from(whole(&v)?).map_err(|_| v.error("is too large"))?),
                None => None,
            },
            trusted_proxies: match s.get("security.trusted_proxies") {
                Some(v) => super::client_address::TrustedProxies::parse(&v.items().join(","))
                    .map_err(|e| v.error(e))?,
                None => Default::default(),
            },
            return_origins: match s.get("security.return_origins") {
                Some(v) => v
                    .items()
                    .into_iter()
                    .map(|o| {
                        url::Url::parse(o)
                            .ok()
                            .filter(|u| matches!(u.scheme(), "http" | "https"))
                            .map(|u| u.origin().ascii_serialization())
                            .ok_or_else(|| v.error(format!("{o:?} is not an http(s) origin")))
                    })
                    .collect::<Result<_, _>>()?,
                None => Vec::new(),
            },
            webhooks: super::outgoing_webhooks::Settings {
                timeout: webhook_ms("webhooks.timeout_ms")?,
                retry_base: chrono::Duration::from_std(retry_base).map_err(|_| {
                    s.get("webhooks.retry_base_ms")
                        .expect("set")
                        .error("is too large")
                })?,
            },
            webhook_poll: webhook_ms("webhooks.poll_ms")?,
            metrics_listen: parsed(&s, "metrics.listen", |t| {
                t.parse::<SocketAddr>()
                    .map_err(|_| format!("{t:?} is not an address and port, e.g. 127.0.0.1:9100"))
            })?,
        })
    }

    /// `BC_FAKE_NOW=2026-11-26T10:00:00Z` freezes the clock (demos, tests).
    pub fn clock(&self) -> std::sync::Arc<dyn super::clock::Clock> {
        match std::env::var("BC_FAKE_NOW")
            .ok()
            .and_then(|t| t.parse().ok())
        {
            Some(t) => std::sync::Arc::new(super::clock::FixedClock(t)),
            None => std::sync::Arc::new(super::clock::SystemClock),
        }
    }

    /// Stripe when configured, else the built-in test gateway, paced to
    /// `payments.rate_limit`. Test hooks, environment only:
    /// `BC_TEST_GATEWAY_LEDGER=FILE` keeps the test gateway's charges in
    /// FILE so that they outlive a killed server (crash tests),
    /// `BC_TEST_GATEWAY_LATENCY_MS` makes each of its calls take that long.
    pub fn gateway(&self) -> Result<std::sync::Arc<dyn super::payments::PaymentGateway>, String> {
        use super::payments::{Paced, StripeGateway, TestGateway};
        if let Some(stripe) = &self.stripe {
            let gateway = StripeGateway::new(stripe.clone())?;
            let rate = self.gateway_rate_limit.unwrap_or(100);
            return Ok(std::sync::Arc::new(Paced::new(
                std::sync::Arc::new(gateway),
                rate,
            )));
        }
        let gateway = match std::env::var("BC_TEST_GATEWAY_LEDGER")
            .ok()
            .filter(|p| !p.is_empty())
        {
            Some(path) => TestGateway::persistent(Path::new(&path))
                .map_err(|e| format!("cannot open BC_TEST_GATEWAY_LEDGER {path}: {e}"))?,
            None => TestGateway::default(),
        };
        let latency = std::env::var("BC_TEST_GATEWAY_LATENCY_MS")
            .ok()
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0);
        let gateway = gateway.with_latency(std::time::Duration::from_millis(latency));
        let rate = self.gateway_rate_limit.unwrap_or(0);
        Ok(std::sync::Arc::new(Paced::new(
            std::sync::Arc::new(gateway),
            rate,
        )))
    }

    /// How long an order's claim on its key lasts before another request
    /// (or the billing run) may take it over: longer than any charge and
    /// commit. `BC_ORDER_LEASE_SECONDS` shortens it for the crash tests.
    pub fn order_lease(&self) -> chrono::Duration {
        let seconds = std::env::var("BC_ORDER_LEASE_SECONDS")
            .ok()
            .and_then(|s| s.parse().ok())
            .filter(|s| *s > 0)
            .unwrap_or(120);
        chrono::Duration::seconds(seconds)
    }

    /// The catalog file's, or the built-in one.
    pub fn catalog(
        &self,
    ) -> Result<crate::billing::Catalog, crate::billing::catalog::CatalogError> {
        use crate::billing::catalog::load;
        match &self.catalog_path {
            Some(path) => load::from_file(path),
            None => Ok(load::demo()),
        }
    }

    /// The built-in help, with the articles of `help_dir`.
    pub fn help(&self) -> Result<super::help::Library, String> {
        match &self.help_dir {
            Some(dir) => super::help::Library::with_overrides(dir),
            None => Ok(super::help::Library::builtin()),
        }
    }

    /// What `config check` says of a valid configuration.
    pub fn summary(&self) -> String {
        let i = &self.identity;
        let or = |p: &Option<PathBuf>, d: &str| {
            p.as_ref()
                .map_or(d.to_string(), |p| p.display().to_string())
        };
        [
            format!("seller: {}", i.seller.details()),
            format!("product: {} ({})", i.product_name, i.colour.as_str()),
            format!("public URL: {}, listening on {}", i.public_url, self.listen),
            format!("database: {}", redact(&self.database_url)),
            format!("catalog: {}", or(&self.catalog_path, "built-in")),
            format!("help: {}", or(&self.help_dir, "built-in")),
            format!(
                "emails from {}, support {}, sales {}",
                i.from, i.support, i.sales
            ),
            match &self.smtp {
                Some(m) => format!(
                    "SMTP: {}:{} ({:?} TLS{})",
                    m.host,
                    m.port,
                    m.tls,
                    m.credentials
                        .as_ref()
                        .map_or(String::new(), |c| format!(", as {}", c.0))
                ),
                None => "SMTP: none (emails stay in the outbox)".into(),
            },
            match &self.stripe {
                Some(s) => format!("payments: Stripe at {}", s.api_base),
                None => "payments: the built-in test gateway (demo only)".into(),
            },
        ]
        .join("\n")
    }
}

/// A database URL without its password.
fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_string(),
    }
}

fn parsed<T>(
    s: &Source,
    name: &str,
    parse: impl FnOnce(&str) -> Result<T, String>,
) -> Result<Option<T>, ConfigError> {
    match s.get(name) {
        Some(v) => parse(v.text.trim()).map(Some).map_err(|e| v.error(e)),
        None => Ok(None),
    }
}

fn whole(v: &source::Value) -> Result<u64, ConfigError> {
    v.text
        .trim()
        .parse()
        .map_err(|_| v.error(format!("must be a whole number, not {:?}", v.text)))
}

/// One printable line of at most `max` characters, not empty.
fn line(s: &Source, name: &str, max: usize) -> Result<Option<String>, ConfigError> {
    s.get(name).map(|v| one_line(&v, max)).transpose()
}

fn one_line(v: &source::Value, max: usize) -> Result<String, ConfigError> {
    match crate::domain::text::line(&v.text, max) {
        Ok(l) if !l.is_empty() => Ok(l.to_string()),
        _ => Err(v.error(format!(
            "must be one printable line of 1 to {max} characters"
        ))),
    }
}

/// A path that must exist (a folder when `dir`).
fn existing(s: &Source, name: &str, dir: bool) -> Result<Option<PathBuf>, ConfigError> {
    let Some(v) = s.get(name) else {
        return Ok(None);
    };
    let p = v.path();
    let shown = p.display();
    match std::fs::metadata(&p) {
        Ok(m) if m.is_dir() == dir => Ok(Some(p)),
        Ok(_) if dir => Err(v.error(format!("{shown} is not a folder"))),
        Ok(_) => Err(v.error(format!("{shown} is a folder, not a file"))),
        Err(e) => Err(v.error(format!("cannot read {shown}: {e}"))),
    }
}

fn seller(s: &Source) -> Result<Seller, ConfigError> {
    // A company's own seller takes nothing from the demo's: its address
    // and country must be given, and a VAT number or registration left out
    // is printed as none rather than the demo's.
    let own = s.set("seller.legal_name");
    if let Some(name) = own {
        for needed in ["seller.address", "seller.country"] {
            if s.set(needed).is_none() {
                return Err(name.error(format!(
                    "set {needed} too, or the demo seller's would be printed on your invoices"
                )));
            }
        }
    }
    let own_or_default = |k: &str| match own {
        Some(_) => s.set(k).cloned(),
        None => s.get(k),
    };
    let country = parsed(s, "seller.country", |t| {
        Country::parse(t).map_err(|_| {
            format!("{t:?} is not a country we can tax (FR, DE, BE, ES, IT, NL, GB, US)")
        })
    })?
    .expect("has a default");
    let vat_number = match own_or_default("seller.vat_number") {
        Some(v) => Some(
            VatNumber::parse(&v.text)
                .map_err(|_| v.error(format!("{:?} is not a valid EU VAT number", v.text)))?,
        ),
        None => None,
    };
    if let Some(v) = &vat_number
        && country.is_eu()
        && v.country_prefix() != country.code()
    {
        // Blame the key that was set, not a default left in place.
        let vat = s.get("seller.vat_number").expect("set");
        let key = match vat.origin {
            Origin::Default => s.get("seller.country").expect("set"),
            _ => vat,
        };
        return Err(key.error(format!(
            "{} is not a VAT number of seller.country {}",
            v.as_str(),
            country.code()
        )));
    }
    Ok(Seller {
        legal_name: line(s, "seller.legal_name", 200)?.expect("has a default"),
        address: line(s, "seller.address", 300)?.expect("has a default"),
        country,
        vat_number,
        registration: own_or_default("seller.registration")
            .map(|v| one_line(&v, 100))
            .transpose()?,
        invoice_prefix: parsed(s, "seller.invoice_prefix", |t| {
            if (1..=8).contains(&t.len()) && t.bytes().all(|b| b.is_ascii_alphanumeric()) {
                Ok(t.to_string())
            } else {
                Err(format!("{t:?} must be 1 to 8 letters or digits"))
            }
        })?
        .expect("has a default"),
    })
}

fn smtp(s: &Source) -> Result<Option<SmtpSettings>, ConfigError> {
    let Some(v) = s.get("smtp.url") else {
        for orphan in ["smtp.username", "smtp.password", "smtp.ca_cert"] {
            if let Some(o) = s.set(orphan) {
                return Err(o.error("is set without smtp.url"));
            }
        }
        return Ok(None);
    };
    let bad = |why: &str| v.error(format!("{:?} {why}", v.text));
    let u =
        url::Url::parse(v.text.trim()).map_err(|_| bad("is not a URL like smtp://HOST:PORT"))?;
    let host = u
        .host_str()
        .filter(|h| !h.is_empty())
        .ok_or_else(|| bad("has no host"))?
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string();
    if !u.username().is_empty() || u.password().is_some() {
        return Err(v.error("put the login in smtp.username and smtp.password, not in the URL"));
    }
    let required = match u.query_pairs().find(|(k, _)| k == "tls") {
        None => false,
        Some((_, t)) if t == "required" => true,
        Some((_, t)) if t == "opportunistic" => false,
        Some(_) => return Err(bad("has tls= other than required or opportunistic")),
    };
    let (tls, default_port) = match u.scheme() {
        "smtp" if required => (SmtpTls::Required, 587),
        "smtp" => (SmtpTls::Opportunistic, 25),
        "smtps" => (SmtpTls::Implicit, 465),
        _ => return Err(bad("must start with smtp:// or smtps://")),
    };
    let username = s.get("smtp.username");
    let password = s.get("smtp.password");
    let credentials = match (&username, &password) {
        (Some(u), Some(p)) => Some((u.text.clone(), p.text.clone())),
        (None, None) => None,
        (Some(u), None) => return Err(u.error("needs smtp.password too")),
        (None, Some(p)) => return Err(p.error("needs smtp.username too")),
    };
    // A password is never sent in the clear: with a login, STARTTLS is
    // required even when the URL did not say so.
    let tls = match (tls, &credentials) {
        (SmtpTls::Opportunistic, Some(_)) => SmtpTls::Required,
        (t, _) => t,
    };
    let extra_ca = match s.get("smtp.ca_cert") {
        Some(c) => {
            let pem = std::fs::read(c.path())
                .map_err(|e| c.error(format!("cannot read {}: {e}", c.text)))?;
            if !String::from_utf8_lossy(&pem).contains("-----BEGIN CERTIFICATE-----") {
                return Err(c.error(format!("{} is not a PEM certificate", c.text)));
            }
            Some(pem)
        }
        None => None,
    };
    Ok(Some(SmtpSettings {
        host,
        port: u.port().unwrap_or(default_port),
        tls,
        credentials,
        extra_ca,
    }))
}

/// Stripe, when `stripe.secret_key` is set: then the publishable key and
/// the webhook secret are required too.
fn stripe(s: &Source) -> Result<Option<super::payments::StripeConfig>, ConfigError> {
    let Some(secret) = s.get("stripe.secret_key") else {
        for orphan in ["stripe.publishable_key", "stripe.webhook_secret"] {
            if let Some(o) = s.set(orphan) {
                return Err(o.error("is set without stripe.secret_key"));
            }
        }
        return Ok(None);
    };
    let required = |k: &str| {
        s.get(k)
            .map(|v| v.text)
            .ok_or_else(|| secret.error(format!("needs {k} too")))
    };
    let url = |k: &str| {
        let v = s.get(k).expect("has a default");
        url::Url::parse(v.text.trim())
            .map(|_| v.text.trim().to_string())
            .map_err(|e| v.error(format!("is not a URL ({e})")))
    };
    Ok(Some(super::payments::StripeConfig {
        secret_key: secret.text.clone(),
        publishable_key: required("stripe.publishable_key")?,
        webhook_secret: required("stripe.webhook_secret")?,
        api_base: url("stripe.api_base")?.trim_end_matches('/').to_string(),
        // Stripe.js's address ends with a slash; kept as given.
        js_url: url("stripe.js_url")?,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |k| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn the_defaults_run_the_demo() {
        let c = Config::load(None, &|_| None).unwrap();
        assert_eq!(c.database_url, DEFAULT_DATABASE_URL);
        assert_eq!(c.identity.seller.invoice_prefix, "BC");
        assert_eq!(
            c.identity.seller.details(),
            "Billing Center Demo SAS, 10 rue de la Paix, 75002 Paris, France. VAT FR12345678901. SIREN 123 456 789."
        );
        assert_eq!(c.identity.public_url, "http://127.0.0.1:3000");
        assert!(c.smtp.is_none() && c.stripe.is_none() && c.catalog_path.is_none());
    }

    #[test]
    fn the_example_is_accepted() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("billing-center.toml");
        std::fs::write(&path, keys::example()).unwrap();
        let c = Config::load(Some(&path), &|_| None).unwrap();
        assert_eq!(c.identity.seller.legal_name, "Example SAS");
        assert_eq!(c.identity.public_url, "https://billing.example.com");
    }

    #[test]
    fn bad_values_name_their_key() {
        let cases: &[(&[(&str, &str)], &str)] = &[
            (
                &[("BC_SELLER_COUNTRY", "XX")],
                "BC_SELLER_COUNTRY: \"XX\" is not a country",
            ),
            (
                &[("BC_SELLER_COUNTRY", "DE")],
                "BC_SELLER_COUNTRY: FR12345678901 is not a VAT number",
            ),
            (
                &[("BC_SELLER_VAT_NUMBER", "DE123456789")],
                "BC_SELLER_VAT_NUMBER: DE123456789 is not",
            ),
            (
                &[("BC_BRAND_COLOUR", "blue")],
                "BC_BRAND_COLOUR: \"blue\" is not a colour",
            ),
            (
                &[("BC_EMAIL_FROM", "nobody")],
                "BC_EMAIL_FROM: \"nobody\" is not an address",
            ),
            (
                &[("BC_PUBLIC_URL", "ftp://x")],
                "BC_PUBLIC_URL: \"ftp://x\" is not an http(s) URL",
            ),
            (
                &[("LEPTOS_SITE_ADDR", "localhost")],
                "LEPTOS_SITE_ADDR: \"localhost\" is not an address",
            ),
            (
                &[("SMTP_URL", "mail.example.com")],
                "SMTP_URL: \"mail.example.com\"",
            ),
            (
                &[("SMTP_USERNAME", "u")],
                "SMTP_USERNAME: is set without smtp.url",
            ),
            (
                &[("SMTP_URL", "smtp://m:587"), ("SMTP_USERNAME", "u")],
                "SMTP_USERNAME: needs smtp.password",
            ),
            (
                &[("STRIPE_SECRET_KEY", "sk_test")],
                "STRIPE_SECRET_KEY: needs stripe.publishable_key",
            ),
            (
                &[("BC_GATEWAY_CONCURRENCY", "0")],
                "BC_GATEWAY_CONCURRENCY: must be at least 1",
            ),
            (
                &[("BC_TRUSTED_PROXIES", "10.0.0.0/8,nope")],
                "BC_TRUSTED_PROXIES",
            ),
            (
                &[("CATALOG_PATH", "/nonexistent/catalog.toml")],
                "CATALOG_PATH: cannot read",
            ),
            (
                &[("BC_SELLER_LOGO", "/nonexistent.png")],
                "BC_SELLER_LOGO: cannot read",
            ),
        ];
        for (vars, expected) in cases {
            let vars: &'static [(&'static str, &'static str)] =
                Box::leak(vars.to_vec().into_boxed_slice());
            let e = Config::load(None, &env(vars)).unwrap_err().to_string();
            assert!(e.starts_with(expected), "{vars:?}: {e}");
        }
    }

    #[test]
    fn a_companys_own_seller_takes_nothing_from_the_demo() {
        let e = Config::load(None, &env(&[("BC_SELLER_LEGAL_NAME", "Acme Ltd")])).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("BC_SELLER_LEGAL_NAME: set seller.address too"),
            "{e}"
        );
        let c = Config::load(
            None,
            &env(&[
                ("BC_SELLER_LEGAL_NAME", "Acme Ltd"),
                ("BC_SELLER_ADDRESS", "1 High Street, London, United Kingdom"),
                ("BC_SELLER_COUNTRY", "GB"),
            ]),
        )
        .unwrap();
        let seller = &c.identity.seller;
        assert_eq!(
            (seller.vat_number.as_ref(), seller.registration.as_ref()),
            (None, None)
        );
        assert_eq!(
            seller.details(),
            "Acme Ltd, 1 High Street, London, United Kingdom."
        );
    }

    #[test]
    fn paths_in_the_file_are_relative_to_it() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("conf/help/en")).unwrap();
        std::fs::write(
            dir.path().join("conf/catalog.toml"),
            crate::billing::catalog::DEMO_CATALOG_TOML,
        )
        .unwrap();
        let file = dir.path().join("conf/billing-center.toml");
        std::fs::write(&file, "catalog = \"catalog.toml\"\nhelp_dir = \"help\"\n").unwrap();
        let c = Config::load(Some(&file), &|_| None).unwrap();
        assert_eq!(c.catalog_path, Some(dir.path().join("conf/catalog.toml")));
        assert_eq!(c.help_dir, Some(dir.path().join("conf/help")));
        assert!(c.catalog().is_ok());
    }

    #[test]
    fn smtp_urls_choose_the_tls_and_a_login_requires_it() {
        let c = Config::load(None, &env(&[("SMTP_URL", "smtp://127.0.0.1:2525")])).unwrap();
        let m = c.smtp.unwrap();
        assert_eq!(
            (m.host.as_str(), m.port, m.tls),
            ("127.0.0.1", 2525, SmtpTls::Opportunistic)
        );
        let c = Config::load(
            None,
            &env(&[
                ("SMTP_URL", "smtp://relay.example.com"),
                ("SMTP_USERNAME", "u"),
                ("SMTP_PASSWORD", "p"),
            ]),
        )
        .unwrap();
        let m = c.smtp.unwrap();
        assert_eq!((m.port, m.tls), (25, SmtpTls::Required));
        assert!(!format!("{m:?}").contains('p') || !format!("{m:?}").contains("\"p\""));
        let c = Config::load(None, &env(&[("SMTP_URL", "smtps://relay.example.com")])).unwrap();
        assert_eq!(c.smtp.unwrap().port, 465);
        let c = Config::load(
            None,
            &env(&[("SMTP_URL", "smtp://relay.example.com?tls=required")]),
        )
        .unwrap();
        assert_eq!(c.smtp.unwrap().tls, SmtpTls::Required);
    }
}
