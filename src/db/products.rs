//! Products mirrored from the catalog (subscriptions refer to them).

use super::error::DbError;
use super::pool::Db;
use crate::billing::{Catalog, Frequency};

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
