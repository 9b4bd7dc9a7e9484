//! What server functions return to pages. Amounts are already formatted or
//! are engine types (Decimal as strings on the wire).

use crate::domain::{InvoiceId, SubscriptionId};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::billing::quote::AccountTerms;
use crate::billing::{Action, CartItem, Catalog, SubscriptionSnapshot, SubscriptionStatus};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CurrentUser {
    pub name: String,
    pub email: String,
    pub account_name: String,
    pub is_billing_contact: bool,
    pub corporate: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Representative {
    pub name: String,
    pub email: String,
    pub phone: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubscriptionCard {
    pub id: SubscriptionId,
    pub version: i64,
    pub product: String,
    pub product_name: String,
    pub level_name: String,
    pub seats: u32,
    pub frequency: String,
    pub status: SubscriptionStatus,
    pub status_label: String,
    /// "Trial ends Dec 1, 2026", "Current period Nov 26, 2026 – Dec 25, 2026"…
    pub dates: String,
    /// "Renews on … for €154.80", or none.
    pub renewal: Option<String>,
    /// "From 1 Dec 2026: Lite × 3, €212.40": a change waiting for the end of
    /// the term, with the renewal it makes.
    pub scheduled_change: Option<String>,
    /// What the cancellation dialog states, when the card offers Cancel.
    pub cancel_terms: Option<CancelTerms>,
    pub actions: Vec<Action>,
}

/// A cancellation at the end of the term, as the dialog states it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CancelTerms {
    /// The last day of access, written in the page's language.
    pub last_day: String,
    /// The renewal that will not be charged (VAT included) and its date.
    pub amount: String,
    pub renewal_date: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BillingOverview {
    pub account_name: String,
    pub corporate: bool,
    pub representative: Option<Representative>,
    pub cards: Vec<SubscriptionCard>,
    pub cart_count: usize,
    /// (URL, site name) of the seller's application, when a portal link
    /// opened this session.
    pub back_to: Option<(String, String)>,
}

/// What the plan editor needs to quote in the browser with no round trip.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EditorContext {
    pub catalog: Catalog,
    pub account: AccountTerms,
    pub subscriptions: Vec<SubscriptionSnapshot>,
    pub cart: Vec<CartItem>,
    pub today: NaiveDate,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentMethodView {
    pub kind: String,
    /// "Visa •••• 4242, expires 12/30"
    pub label: String,
}

/// A payment method being saved, as the browser needs it to hand the card
/// or IBAN to the provider itself.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PaymentSetupView {
    /// `stripe`, or `demo` (the built-in test gateway).
    pub provider: String,
    /// Stripe's publishable key and Stripe.js's address.
    pub publishable_key: Option<String>,
    pub js_url: Option<String>,
    pub setup_id: String,
    pub client_secret: String,
    /// The SEPA Direct Debit mandate to show and accept, in the page's
    /// language; and the account holder's name and email it names.
    pub mandate: String,
    pub holder: String,
    pub email: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CheckoutView {
    /// Stripe's publishable key and Stripe.js's address, when Stripe is
    /// the provider: a payment the bank wants confirmed is confirmed here.
    pub stripe: Option<(String, String)>,
    pub quote: crate::billing::Quote,
    /// Created when the order page is rendered, not per click.
    pub idempotency_key: String,
    /// Binds the key to the cart this page shows.
    pub cart_digest: String,
    pub payment_method: Option<PaymentMethodView>,
    pub email: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderResult {
    pub invoice_id: Option<InvoiceId>,
    pub invoice_number: Option<String>,
    pub total: String,
    pub email: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoiceRow {
    pub id: InvoiceId,
    pub number: String,
    pub issued_on: String,
    pub period: String,
    pub total: String,
    pub status: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoicePage {
    pub rows: Vec<InvoiceRow>,
    /// Pass as `before` for the next page.
    pub next: Option<InvoiceId>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoiceLineView {
    pub description: String,
    pub seats: i64,
    pub unit: String,
    pub amount: String,
    pub period: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoiceDetail {
    pub id: InvoiceId,
    pub number: String,
    pub issued_on: String,
    pub seller: String,
    pub buyer: String,
    pub lines: Vec<InvoiceLineView>,
    /// Σ of the lines.
    pub subtotal: String,
    /// Credit taken off the subtotal, shown negative; `None` without.
    pub credit_applied: Option<String>,
    pub net: String,
    pub vat_label: String,
    pub vat: String,
    pub total: String,
    /// What the lines sum below zero, kept as account credit.
    pub carried_forward: Option<String>,
    pub tax_mention: Option<String>,
    pub status: String,
}

/// A payment the bank wants the customer to confirm (3-D Secure).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingPaymentView {
    pub publishable_key: String,
    pub js_url: String,
    pub client_secret: String,
    pub amount: String,
    /// Confirmed already: nothing left to do.
    pub done: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailView {
    pub to: String,
    pub subject: String,
    pub body: String,
    pub sent: bool,
}

/// What the pages show of the configured identity (`server::identity`),
/// carried to the browser in the page like its texts (`ui::site`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SiteInfo {
    pub product_name: String,
    pub support_email: String,
    pub sales_email: String,
    /// A logo is served at `/brand/logo`.
    pub has_logo: bool,
}
