pub mod error;
pub mod summary;
