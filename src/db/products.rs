//! Products mirrored from the catalog, and the trial requests of the
//! skeleton slice.

use sqlx::Row;

use super::error::DbError;
use super::pool::Db;
use crate::billing::{Catalog, Frequency};

#[derive(Clone, Debug, PartialEq)]
pub struct ProductRecord {
    pub code: String,
    pub name: String,
    pub currency: String,
    pub monthly_from_minor: i64,
    pub trials_started: i64,
}

/// Upserts every catalog product so the table matches the file.
pub async fn sync_from_catalog(db: &Db, catalog: &Catalog) -> Result<(), DbError> {
    let mut tx = db.pool.begin().await?;
    for (position, p) in catalog.products.iter().enumerate() {
        let from = p
            .online_levels()
            .filter_map(|l| p.online_price(&l.code, Frequency::Monthly).ok())
            .map(|m| m.to_minor())
            .min()
            .unwrap_or(0);
        sqlx::query(
            "INSERT INTO products (code, name, position, currency, monthly_from_minor, catalog_version)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (code) DO UPDATE SET name = excluded.name, position = excluded.position,
               currency = excluded.currency, monthly_from_minor = excluded.monthly_from_minor,
               catalog_version = excluded.catalog_version",
        )
        .bind(&p.code)
        .bind(&p.name)
        .bind(position as i64)
        .bind(catalog.currency.code())
        .bind(from)
        .bind(i64::from(catalog.version))
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

pub async fn list(db: &Db) -> Result<Vec<ProductRecord>, DbError> {
    let rows = sqlx::query(
        "SELECT p.code, p.name, p.currency, p.monthly_from_minor,
                (SELECT COUNT(*) FROM trial_requests t WHERE t.product_code = p.code) AS trials
         FROM products p ORDER BY p.position",
    )
    .fetch_all(&db.pool)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(ProductRecord {
                code: r.try_get("code")?,
                name: r.try_get("name")?,
                currency: r.try_get("currency")?,
                monthly_from_minor: r.try_get("monthly_from_minor")?,
                trials_started: r.try_get("trials")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(DbError::from)
}

/// Records a trial start; `None` when the product does not exist.
pub async fn start_trial(db: &Db, product_code: &str) -> Result<Option<i64>, DbError> {
    let mut tx = db.pool.begin().await?;
    let exists: Option<(String,)> = sqlx::query_as("SELECT code FROM products WHERE code = $1")
        .bind(product_code)
        .fetch_optional(&mut *tx)
        .await?;
    if exists.is_none() {
        return Ok(None);
    }
    sqlx::query("INSERT INTO trial_requests (product_code, created_at) VALUES ($1, $2)")
        .bind(product_code)
        .bind(super::row::now_text())
        .execute(&mut *tx)
        .await?;
    let (count,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM trial_requests WHERE product_code = $1")
            .bind(product_code)
            .fetch_one(&mut *tx)
            .await?;
    tx.commit().await?;
    Ok(Some(count))
}
