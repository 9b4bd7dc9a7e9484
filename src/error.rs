//! The error every server function returns. It crosses the network, so it
//! only carries user-safe text; causes are logged on the server where the
//! internal errors are mapped (`server::error`).

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

use crate::billing::BillingError;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    /// A billing rule refused the request; the message says which.
    #[error("{0}")]
    Billing(BillingError),
    #[error("{0}")]
    Invalid(String),
    #[error("Not found.")]
    NotFound,
    #[error("Please sign in.")]
    Unauthorized,
    /// Billing is for the billing contact only; says who that is.
    #[error("Your billing contact is {name} ({email}).")]
    NotBillingContact { name: String, email: String },
    #[error("Too many sign-in attempts. Try again in {minutes} minutes.")]
    TooManyAttempts { minutes: i64 },
    /// The order summary changed since the page was shown (prices, state).
    #[error(
        "Your order summary has changed: please review the new total before placing the order."
    )]
    QuoteChanged,
    #[error(
        "This subscription changed in another window. Reload the page to see its current state."
    )]
    Stale,
    #[error("{0}")]
    Payment(String),
    /// The bank asks the customer to authenticate the payment (3-D
    /// Secure): the page hands `client_secret` to the provider's script,
    /// then places the order again under the same key.
    #[error("Your bank asks you to confirm this payment (3-D Secure).")]
    ActionRequired { client_secret: String },
    #[error("Something went wrong on our side. Please try again in a moment.")]
    Internal,
    /// The database is briefly out of reach (restarting, or too busy): the
    /// request changed nothing and can simply be sent again.
    #[error(
        "The service is briefly unavailable. Nothing was changed: please try again in a moment."
    )]
    Unavailable,
    /// Transport problems seen by the browser (server unreachable, bad reply).
    #[error("We could not reach the server. Check your connection and try again.")]
    Network(String),
}

impl From<BillingError> for AppError {
    fn from(e: BillingError) -> Self {
        AppError::Billing(e)
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            ServerFnErrorErr::Args(_) | ServerFnErrorErr::MissingArg(_) => {
                AppError::Invalid("The form was incomplete or malformed.".into())
            }
            // On the server this is a request body that did not decode (a JSON
            // argument); in the browser, a reply that did not.
            ServerFnErrorErr::Deserialization(_) if cfg!(feature = "ssr") => {
                AppError::Invalid("The form was incomplete or malformed.".into())
            }
            other => AppError::Network(other.to_string()),
        }
    }
}
