//! Server functions and the types they exchange. Compiled for both targets:
//! the browser gets a typed client stub, the server the implementation.

pub mod auth;
pub mod billing;
pub mod corporate;
pub mod help;
pub mod types;
#[cfg(feature = "ssr")]
pub mod v1;
