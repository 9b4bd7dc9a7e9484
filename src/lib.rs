//! billing-center: a self-service billing center.
//!
//! - `billing`: the billing rules, pure, shared by server and browser
//! - `api`: server functions and the types they exchange (both targets)
//! - `ui`: Leptos components and pages (both targets)
//! - `server`, `db`: server-only (axum, configuration, SQL)
//!
//! Layers import downward only: `billing` ← `db` ← `server` ← `api` ←
//! `ui`. This root is the one place that hands the UI to the server
//! ([`site`]).

pub mod api;
pub mod billing;
pub mod domain;
pub mod error;
pub mod i18n;
pub mod ui;

#[cfg(feature = "ssr")]
pub mod db;
#[cfg(feature = "ssr")]
pub mod server;

/// The pages the server renders: the UI, handed to the server layer.
#[cfg(feature = "ssr")]
pub fn site() -> server::startup::Site {
    use leptos::prelude::IntoAny;
    server::startup::Site {
        routes: || leptos_axum::generate_route_list(ui::App),
        shell: |options| ui::shell(options).into_any(),
        operator_api: api::v1::router,
    }
}

#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(ui::App);
}
