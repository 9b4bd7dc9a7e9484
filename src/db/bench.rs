//! The baseline of the place-order benchmark: one bare `INSERT` per request
//! through the app's own pool; and its floor, a write transaction of as
//! many one-row statements as an order's commit. Mounted only with
//! `BC_BENCH_ENDPOINTS=1`.

use super::{Db, DbError};

pub async fn ensure_table(db: &Db) -> Result<(), DbError> {
    sqlx::query("CREATE TABLE IF NOT EXISTS bench_rows (at TEXT NOT NULL)")
        .execute(&db.pool)
        .await?;
    Ok(())
}

pub async fn insert_row(db: &Db) -> Result<(), DbError> {
    sqlx::query("INSERT INTO bench_rows (at) VALUES ($1)")
        .bind(super::now_text())
        .execute(&db.pool)
        .await?;
    Ok(())
}

/// Statements in an order's write transaction (subscription, invoice
/// counter, invoice, lines, payment, credit, order, cart, outbox, audit).
pub const ORDER_STATEMENTS: usize = 10;

/// One write transaction of [`ORDER_STATEMENTS`] one-row inserts, queued
/// for the write turn like an order's commit: what an order costs the
/// database before any of its own work.
pub async fn insert_transaction(db: &Db) -> Result<(), DbError> {
    let _turn = db.write_turn().await;
    let mut tx = db.pool.begin().await?;
    for _ in 0..ORDER_STATEMENTS {
        sqlx::query("INSERT INTO bench_rows (at) VALUES ($1)")
            .bind(super::now_text())
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(())
}
