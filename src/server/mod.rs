//! Server-only code: configuration, shared state, the HTTP app and the
//! command line. Nothing here is compiled into the WASM client.

pub mod cli;
pub mod config;
pub mod error;
pub mod startup;
pub mod state;
