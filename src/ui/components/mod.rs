pub mod error;
pub mod payment_form;
pub mod summary;
