//! The baseline of the place-order benchmark: one bare `INSERT` per request
//! through the app's own pool. Mounted only with `BC_BENCH_ENDPOINTS=1`.

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
