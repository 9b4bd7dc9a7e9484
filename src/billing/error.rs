//! The engine's one error type. Every variant carries what the UI needs to
//! say what is wrong; `Display` is the English, user-safe message.

use serde::{Deserialize, Serialize};

use super::money::Currency;
use super::state::{Event, SubscriptionStatus};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum BillingError {
    #[error("Unknown product \"{product}\".")]
    UnknownProduct { product: String },
    #[error("Unknown level \"{level}\" for {product}.")]
    UnknownLevel { product: String, level: String },
    #[error("{level} is not sold online: contact sales.")]
    NotSoldOnline { product: String, level: String },
    #[error("Seats must be between {min} and {max} for {product}; got {got}.")]
    SeatsOutOfRange {
        product: String,
        min: u32,
        max: u32,
        got: i64,
    },
    #[error("This change ({change}) is not allowed for {product}.")]
    ChangeNotAllowed { product: String, change: String },
    #[error("Amounts in {found} cannot be mixed with {expected}.")]
    CurrencyMismatch { expected: Currency, found: Currency },
    #[error("Unknown currency \"{code}\".")]
    UnknownCurrency { code: String },
    #[error("\"{text}\" is not a valid amount.")]
    InvalidAmount { text: String },
    #[error("Unknown billing frequency \"{code}\".")]
    UnknownFrequency { code: String },
    #[error("We do not bill customers in country \"{country}\" yet.")]
    UnsupportedCountry { country: String },
    #[error("\"{text}\" is not a well-formed VAT number.")]
    InvalidVatNumber { text: String },
    #[error("Subscription {id} was not found.")]
    UnknownSubscription { id: crate::domain::SubscriptionId },
    #[error("You already have a {product} subscription.")]
    AlreadySubscribed { product: String },
    #[error("This subscription is already in your cart.")]
    DuplicateCartItem { product: String },
    #[error("A {status} subscription cannot do this ({event}).")]
    InvalidTransition {
        status: SubscriptionStatus,
        event: Event,
    },
    #[error(
        "Your account is a Corporate account: changes are made with your dedicated representative."
    )]
    CorporateAccount,
    #[error(
        "This subscription ended on {on}: it can no longer be renewed by removing the cancellation. Reactivate it to subscribe again."
    )]
    TermEnded { on: chrono::NaiveDate },
    #[error("Your cart is empty.")]
    EmptyCart,
    #[error("That date is out of range.")]
    DateOutOfRange,
    /// A stored invoice whose net, VAT and total do not follow from its
    /// lines and credit: never printed as if they did.
    #[error("This invoice's figures do not add up. Contact support.")]
    InconsistentInvoice,
}
