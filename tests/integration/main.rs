//! One integration-test binary. Every test runs against a fresh database on
//! each backend: SQLite always, PostgreSQL when `TEST_POSTGRES_URL` is set
//! (the README's test command starts a throwaway server and sets it;
//! `BC_REQUIRE_POSTGRES=1` turns its absence into a failure).

mod helpers;

mod accounts;
mod backup;
mod billing_run;
mod command_line;
mod configuration;
mod corporate;
mod crash;
mod data_protection;
mod db_faults;
mod documents;
mod email;
mod gateway_calls;
mod hostile;
mod languages;
mod layers;
mod operations;
mod operator_api;
mod orders;
mod passwords;
mod providers;
mod release;
mod shutdown;
mod skeleton;
mod soak;
mod startup_errors;
mod stripe;
mod time_travel;
mod webhooks;
