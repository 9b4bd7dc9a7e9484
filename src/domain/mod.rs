//! Parse-don't-validate newtypes shared by the browser (instant feedback) and
//! the server (the check that counts).

pub mod address;
pub mod email;
pub mod event;
pub mod ids;
pub mod payment;
pub mod text;

pub use address::Address;
pub use email::Email;
pub use event::EventType;
pub use ids::{
    AccountId, ApiKeyId, DeliveryId, EmailId, InvoiceId, OrderId, PaymentId, SubscriptionId,
    UserId, WebhookEndpointId,
};
pub use payment::{CardNumber, Expiry, Iban};
