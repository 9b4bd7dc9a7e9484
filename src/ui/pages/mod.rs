pub mod auth;
pub mod cart;
pub mod checkout;
pub mod home;
pub mod invoices;
pub mod not_found;
pub mod plan;
pub mod subscriptions;
