//! What billing-center keeps of the payment provider's side: each account's
//! customer there, and the provider events (webhooks) already handled.

use super::error::DbError;
use super::exec::{Param, owned};
use super::pool::Db;
use crate::domain::ids::AccountId;

/// The account's customer at the provider, if it has one yet.
pub async fn gateway_customer(db: &Db, account: AccountId) -> Result<Option<String>, DbError> {
    let row = db
        .read_row(
            "SELECT gateway_customer FROM accounts WHERE id = $1",
            Param::from(account),
            |r| Ok(r.opt_text("gateway_customer")?),
        )
        .await?;
    Ok(row.flatten())
}

/// Stores `customer` as the account's unless it has one already; the one
/// it has afterwards (two first setups at once keep the first).
pub async fn keep_gateway_customer(
    db: &Db,
    account: AccountId,
    customer: &str,
) -> Result<Option<String>, DbError> {
    {
        let _turn = db.write_turn().await;
        sqlx::query(
            "UPDATE accounts SET gateway_customer = $1 WHERE id = $2 AND gateway_customer IS NULL",
        )
        .bind(customer)
        .bind(account)
        .execute(&db.pool)
        .await?;
    }
    gateway_customer(db, account).await
}

/// The account whose customer at the provider is `customer`.
pub async fn account_of_customer(db: &Db, customer: &str) -> Result<Option<AccountId>, DbError> {
    db.read_row(
        "SELECT id FROM accounts WHERE gateway_customer = $1",
        owned(customer),
        |r| Ok(AccountId::new(r.int("id")?)),
    )
    .await
}

/// Whether the event `id` was handled already.
pub async fn event_handled(db: &Db, id: &str) -> Result<bool, DbError> {
    let row = db
        .read_row(
            "SELECT id FROM gateway_events WHERE id = $1",
            owned(id),
            |r| Ok(r.text("id")?),
        )
        .await?;
    Ok(row.is_some())
}

/// Marks the event `id` handled; false when it already was.
pub async fn mark_event_handled(db: &Db, id: &str, kind: &str) -> Result<bool, DbError> {
    let _turn = db.write_turn().await;
    let done = sqlx::query(
        "INSERT INTO gateway_events (id, kind, received_at) VALUES ($1, $2, $3)
         ON CONFLICT (id) DO NOTHING",
    )
    .bind(id)
    .bind(kind)
    .bind(super::row::now_text())
    .execute(&db.pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// This installation's random id (migration 0012).
pub async fn installation_id(db: &Db) -> Result<String, DbError> {
    let (id,): (String,) = sqlx::query_as("SELECT id FROM installation")
        .fetch_one(&db.pool)
        .await?;
    Ok(id)
}
