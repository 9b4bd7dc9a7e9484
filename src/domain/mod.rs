//! Parse-don't-validate newtypes shared by the browser (instant feedback) and
//! the server (the check that counts).

pub mod address;
pub mod email;
pub mod ids;
pub mod payment;
pub mod text;

pub use address::Address;
pub use email::Email;
pub use ids::{
    AccountId, ApiKeyId, EmailId, InvoiceId, OrderId, PaymentId, SubscriptionId, UserId,
};
pub use payment::{CardNumber, Expiry, Iban};
