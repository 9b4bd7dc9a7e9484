//! Cart items: what a billing contact is about to order.

use super::error::DbError;
use super::exec::{Exec, Param};
use super::pool::Db;
use crate::domain::ids::AccountId;

/// Cart items as (product, JSON of the engine's `CartItem`), oldest first.
pub async fn cart(db: &Db, account_id: AccountId) -> Result<Vec<(String, String)>, DbError> {
    Ok(sqlx::query_as(
        "SELECT product, item_json FROM cart_items WHERE account_id = $1 ORDER BY id",
    )
    .bind(account_id)
    .fetch_all(&db.pool)
    .await?)
}

/// Adds or replaces the cart item for `product`.
pub async fn put_cart_item(
    db: &Db,
    account_id: AccountId,
    product: &str,
    item_json: &str,
) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO cart_items (account_id, product, item_json, created_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (account_id, product) DO UPDATE SET item_json = excluded.item_json",
    )
    .bind(account_id)
    .bind(product)
    .bind(item_json)
    .bind(super::row::now_text())
    .execute(&db.pool)
    .await?;
    Ok(())
}

pub async fn remove_cart_item(
    db: &Db,
    account_id: AccountId,
    product: &str,
) -> Result<(), DbError> {
    sqlx::query("DELETE FROM cart_items WHERE account_id = $1 AND product = $2")
        .bind(account_id)
        .bind(product)
        .execute(&db.pool)
        .await?;
    Ok(())
}

pub async fn clear_cart(db: &Db, account_id: AccountId) -> Result<(), DbError> {
    sqlx::query("DELETE FROM cart_items WHERE account_id = $1")
        .bind(account_id)
        .execute(&db.pool)
        .await?;
    Ok(())
}

/// Empties the cart inside an order's transaction.
pub(super) async fn clear_in(tx: &mut impl Exec, account_id: AccountId) -> Result<(), DbError> {
    tx.execute(
        "DELETE FROM cart_items WHERE account_id = $1",
        vec![Param::from(account_id)],
    )
    .await?;
    Ok(())
}
