//! Every setting of `billing-center.toml`, with the environment variable
//! that overrides it: one table drives the file's validation, the
//! environment, `config example` and the README's list.

/// How a key's value is written in the file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Text,
    Number,
    /// A list of strings; in the environment, comma separated.
    List,
    Bool,
}

#[derive(Debug)]
pub struct Key {
    /// `section.name` as in the file.
    pub name: &'static str,
    /// The environment variable that overrides the file.
    pub env: &'static str,
    pub kind: Kind,
    /// What `config example` writes; `None`: the key is shown commented
    /// out with `default` (an optional setting).
    pub example: Option<&'static str>,
    /// The value used when neither the file nor the environment sets it
    /// (shown in the example's comment); empty: unset.
    pub default: &'static str,
    pub doc: &'static str,
}

const fn key(
    name: &'static str,
    env: &'static str,
    kind: Kind,
    (example, default): (Option<&'static str>, &'static str),
    doc: &'static str,
) -> Key {
    Key {
        name,
        env,
        kind,
        example,
        default,
        doc,
    }
}

use Kind::*;

/// The demo seller's identity: the defaults, so that `make run` needs no
/// file; a company replaces all of it.
pub const DEMO_LEGAL_NAME: &str = "Billing Center Demo SAS";

pub const KEYS: &[Key] = &[
    // Where it runs.
    key(
        "public_url",
        "BC_PUBLIC_URL",
        Text,
        (Some("https://billing.example.com"), ""),
        "The address customers reach the billing center at (links in emails and portal links). Default: http:// and the listen address.",
    ),
    key(
        "listen",
        "LEPTOS_SITE_ADDR",
        Text,
        (None, "127.0.0.1:3000"),
        "The address and port the server listens on (behind a reverse proxy: a loopback address).",
    ),
    key(
        "database_url",
        "DATABASE_URL",
        Text,
        (
            Some("sqlite://data/billing-center.db"),
            "sqlite://data/billing-center.db",
        ),
        "sqlite://PATH (created if absent) or postgres://USER:PASSWORD@HOST:PORT/DB.",
    ),
    key(
        "catalog",
        "CATALOG_PATH",
        Text,
        (None, ""),
        "The product catalog (TOML, see catalog.toml in the sources). Default: the built-in demo catalog.",
    ),
    key(
        "help_dir",
        "BC_HELP_DIR",
        Text,
        (None, ""),
        "A folder with en/ and fr/ Markdown articles (SLUG.md) that replace or add to the built-in help.",
    ),
    // The seller, as printed on invoices and mandates.
    key(
        "seller.legal_name",
        "BC_SELLER_LEGAL_NAME",
        Text,
        (Some("Example SAS"), DEMO_LEGAL_NAME),
        "The seller's legal name, on invoices and SEPA mandates.",
    ),
    key(
        "seller.address",
        "BC_SELLER_ADDRESS",
        Text,
        (
            Some("1 place de l'Example, 75001 Paris, France"),
            "10 rue de la Paix, 75002 Paris, France",
        ),
        "The seller's postal address, on one line, on invoices.",
    ),
    key(
        "seller.country",
        "BC_SELLER_COUNTRY",
        Text,
        (Some("FR"), "FR"),
        "The seller's country (ISO code): VAT is reverse-charged to EU businesses of other countries.",
    ),
    key(
        "seller.vat_number",
        "BC_SELLER_VAT_NUMBER",
        Text,
        (Some("FR12345678901"), "FR12345678901"),
        "The seller's VAT number, on invoices.",
    ),
    key(
        "seller.registration",
        "BC_SELLER_REGISTRATION",
        Text,
        (Some("SIREN 123 456 789"), "SIREN 123 456 789"),
        "The company registration (SIREN, HRB, company number…), on invoices.",
    ),
    key(
        "seller.invoice_prefix",
        "BC_SELLER_INVOICE_PREFIX",
        Text,
        (None, "BC"),
        "Invoice numbers are PREFIX-000001, one gapless series per prefix: change it only for a new series.",
    ),
    key(
        "seller.logo",
        "BC_SELLER_LOGO",
        Text,
        (None, ""),
        "A PNG, JPEG or SVG file (at most 512 KB) shown in the pages' header, served at /brand/logo.",
    ),
    // The brand the customers see.
    key(
        "brand.product_name",
        "BC_PRODUCT_NAME",
        Text,
        (Some("Example Billing"), "Billing Center"),
        "The name shown in the pages' header and title and in the emails.",
    ),
    key(
        "brand.colour",
        "BC_BRAND_COLOUR",
        Text,
        (Some("#0b5cd5"), "#0b5cd5"),
        "The brand colour of links and buttons, as #rrggbb (keep it dark enough for white text).",
    ),
    // Email.
    key(
        "email.from",
        "BC_EMAIL_FROM",
        Text,
        (
            Some("Example Billing <billing@example.com>"),
            "Billing Center <billing@billing-center.example>",
        ),
        "The From of every email: an address the SMTP relay may send as, with a display name.",
    ),
    key(
        "email.support",
        "BC_SUPPORT_EMAIL",
        Text,
        (
            Some("support@example.com"),
            "support@billing-center.example",
        ),
        "Where support requests from the portal are sent.",
    ),
    key(
        "email.sales",
        "BC_SALES_EMAIL",
        Text,
        (Some("sales@example.com"), "sales@billing-center.example"),
        "Offered for the levels sold by contract only.",
    ),
    key(
        "smtp.url",
        "SMTP_URL",
        Text,
        (None, ""),
        "smtp://HOST:PORT (STARTTLS when the server offers it), smtp://HOST:PORT?tls=required, or smtps://HOST:PORT (implicit TLS). Unset: emails stay in the outbox, shown at /billing/mailbox.",
    ),
    key(
        "smtp.username",
        "SMTP_USERNAME",
        Text,
        (None, ""),
        "The relay's login (AUTH PLAIN or LOGIN, only over TLS).",
    ),
    key(
        "smtp.password",
        "SMTP_PASSWORD",
        Text,
        (None, ""),
        "The relay's password.",
    ),
    key(
        "smtp.ca_cert",
        "BC_SMTP_CA_CERT",
        Text,
        (None, ""),
        "A PEM file of the certificate authority to trust for the relay, besides the system's (a private relay).",
    ),
    // Payments.
    key(
        "stripe.secret_key",
        "STRIPE_SECRET_KEY",
        Text,
        (None, ""),
        "Stripe's secret key (sk_…). Unset: the built-in test gateway, for demos only.",
    ),
    key(
        "stripe.publishable_key",
        "STRIPE_PUBLISHABLE_KEY",
        Text,
        (None, ""),
        "Stripe's publishable key (pk_…), required with the secret key.",
    ),
    key(
        "stripe.webhook_secret",
        "STRIPE_WEBHOOK_SECRET",
        Text,
        (None, ""),
        "The signing secret (whsec_…) of the webhook endpoint PUBLIC_URL/webhooks/stripe, required with the secret key.",
    ),
    key(
        "stripe.api_base",
        "STRIPE_API_BASE",
        Text,
        (None, "https://api.stripe.com"),
        "Stripe's API, or a Stripe-protocol test server.",
    ),
    key(
        "stripe.js_url",
        "STRIPE_JS_URL",
        Text,
        (None, "https://js.stripe.com/v3/"),
        "Where the pages load Stripe.js from.",
    ),
    key(
        "payments.concurrency",
        "BC_GATEWAY_CONCURRENCY",
        Number,
        (None, "8"),
        "How many charges the billing run has in flight at once.",
    ),
    key(
        "payments.rate_limit",
        "BC_GATEWAY_RATE_LIMIT",
        Number,
        (None, ""),
        "Calls a second to the gateway at most (default: 100 with Stripe, its live limit; none with the test gateway; 0: none).",
    ),
    // Security.
    key(
        "security.trusted_proxies",
        "BC_TRUSTED_PROXIES",
        List,
        (None, ""),
        "The reverse proxies (addresses or CIDRs) whose Forwarded / X-Forwarded-For name the client, e.g. [\"127.0.0.1\"].",
    ),
    key(
        "security.return_origins",
        "BC_RETURN_ORIGINS",
        List,
        (None, ""),
        "The origins a portal link's return_url may lead to, e.g. [\"https://app.example.com\"].",
    ),
    // Outgoing webhooks.
    key(
        "webhooks.timeout_ms",
        "BC_WEBHOOK_TIMEOUT_MS",
        Number,
        (None, "10000"),
        "How long a delivery may take.",
    ),
    key(
        "webhooks.retry_base_ms",
        "BC_WEBHOOK_RETRY_BASE_MS",
        Number,
        (None, "10000"),
        "The wait before the first retry, doubling up to 6 hours, for 3 days.",
    ),
    key(
        "webhooks.poll_ms",
        "BC_WEBHOOK_POLL_MS",
        Number,
        (None, "1000"),
        "How often each server looks for deliveries due.",
    ),
    // Operations.
    key(
        "metrics.listen",
        "BC_METRICS_ADDR",
        Text,
        (None, ""),
        "Serve Prometheus metrics at http://ADDRESS/metrics, on this listener only (e.g. 127.0.0.1:9100). Unset: no metrics.",
    ),
];

pub fn find(name: &str) -> Option<&'static Key> {
    KEYS.iter().find(|k| k.name == name)
}

/// A commented `billing-center.toml` that `config check` accepts: the
/// identity to replace, the optional keys commented out with their default.
pub fn example() -> String {
    let mut out = String::from(
        "# billing-center.toml: `billing-center --config FILE` or BC_CONFIG=FILE.\n\
         # Every key can also be set by the environment variable named above it,\n\
         # which wins over the file. Check a file with `billing-center config check`.\n",
    );
    let mut section = "";
    for k in KEYS {
        let (table, name) = k.name.split_once('.').unwrap_or(("", k.name));
        if table != section {
            section = table;
            out.push_str(&format!("\n[{table}]\n"));
        }
        out.push('\n');
        for line in wrap(k.doc, 76) {
            out.push_str(&format!("# {line}\n"));
        }
        out.push_str(&format!("# env: {}\n", k.env));
        match (k.example, k.default) {
            (Some(v), _) => out.push_str(&format!("{name} = {}\n", literal(k.kind, v))),
            (None, "") => out.push_str(&format!("# {name} = \n")),
            (None, d) => out.push_str(&format!("# {name} = {}\n", literal(k.kind, d))),
        }
    }
    out
}

fn literal(kind: Kind, value: &str) -> String {
    match kind {
        Number | Bool => value.to_string(),
        List => format!(
            "[{}]",
            value
                .split(',')
                .map(|v| quoted(v.trim()))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Text => quoted(value),
    }
}

fn quoted(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = vec![String::new()];
    for word in text.split_whitespace() {
        let last = lines.last_mut().expect("one line at least");
        if !last.is_empty() && last.len() + 1 + word.len() > width {
            lines.push(word.to_string());
        } else {
            if !last.is_empty() {
                last.push(' ');
            }
            last.push_str(word);
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_variables_are_unique_and_top_level_keys_come_first() {
        let mut names: Vec<_> = KEYS.iter().map(|k| k.name).collect();
        let mut envs: Vec<_> = KEYS.iter().map(|k| k.env).collect();
        names.sort();
        names.dedup();
        envs.sort();
        envs.dedup();
        assert_eq!(names.len(), KEYS.len());
        assert_eq!(envs.len(), KEYS.len());
        // A bare key after a [table] header would land in that table.
        let first_dotted = KEYS.iter().position(|k| k.name.contains('.')).unwrap();
        assert!(KEYS[first_dotted..].iter().all(|k| k.name.contains('.')));
    }

    #[test]
    fn the_example_is_valid_toml_with_every_key_once() {
        let table: toml::Table = example().parse().expect("the example parses");
        assert_eq!(table["seller"]["legal_name"].as_str(), Some("Example SAS"));
        let text = example();
        for k in KEYS {
            let name = k.name.rsplit('.').next().unwrap();
            assert!(
                text.contains(&format!("\n{name} = ")) || text.contains(&format!("\n# {name} = ")),
                "{} missing",
                k.name
            );
            assert!(text.contains(&format!("# env: {}\n", k.env)));
        }
    }

    #[test]
    fn the_readme_lists_every_key_with_its_variable() {
        let readme = include_str!("../../../README.md");
        for k in KEYS {
            assert!(
                readme.contains(&format!("| `{}` | `{}` |", k.name, k.env)),
                "README's configuration table lacks {}",
                k.name
            );
        }
    }
}
