//! The baseline of the place-order benchmark: one bare `INSERT` per request
//! through the app's own write path; and a reference, a write transaction of
//! as many one-row statements as an order's commit through the pool (what
//! each order cost before group commit). Mounted only with
//! `BC_BENCH_ENDPOINTS=1`.

use super::{Db, DbError};

pub async fn ensure_table(db: &Db) -> Result<(), DbError> {
    sqlx::query("CREATE TABLE IF NOT EXISTS bench_rows (at TEXT NOT NULL)")
        .execute(&db.pool)
        .await?;
    Ok(())
}

/// Through the app's own write path for one-statement writes (an order's
/// claim's): the write turn, then the direct writer on a SQLite file.
pub async fn insert_row(db: &Db) -> Result<(), DbError> {
    db.write_one(
        "INSERT INTO bench_rows (at) VALUES ($1)",
        vec![super::exec::owned(&super::now_text())],
    )
    .await?;
    Ok(())
}

/// Statements in an order's write transaction (subscription, invoice
/// counter, invoice, lines, payment, credit, order, cart, outbox, audit).
pub const ORDER_STATEMENTS: usize = 10;

/// One write transaction of [`ORDER_STATEMENTS`] one-row inserts through
/// the pool, queued for the write turn: what an order's commit cost the
/// database, before any of its own work, when each order had its own
/// transaction on sqlx (it was the floor under place order until session 9).
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
