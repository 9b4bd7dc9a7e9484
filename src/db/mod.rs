//! The data layer: the only place with SQL. One code path for SQLite and
//! PostgreSQL through sqlx's `Any` driver (`$n` placeholders, money as
//! BIGINT minor units, dates as ISO text, booleans as 0/1 integers), with one
//! migration directory per backend under the same version numbers.

pub mod accounts;
pub mod api;
pub mod audit;
mod backend;
pub mod carts;
pub mod commit;
pub mod credit;
pub mod due;
mod error;
mod exec;
pub mod gateway;
mod group_commit;
pub mod invoices;
pub mod orders;
pub mod outbox;
pub mod payment_methods;
pub mod payments;
mod pool;
pub mod portal_links;
pub mod products;
mod row;
pub mod sessions;
pub mod subscriptions;
pub mod support;
pub mod user_tokens;
pub mod webhooks;
pub mod writes;

pub use backend::{Backend, SQLITE_TRADE_DURABILITY, redact, sqlite_path};
pub use error::DbError;
pub use pool::{Db, WriteTx, backup_sqlite, check_sqlite, count, ping};
pub use row::{instant_text, now_text};
