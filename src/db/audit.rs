//! The audit log: who did what to an account.

use super::error::DbError;
use super::exec::{Exec, Param, multi_row, text};
use super::pool::Db;
use crate::domain::ids::{AccountId, UserId};

pub async fn audit(
    db: &Db,
    account_id: AccountId,
    user_id: UserId,
    action: &str,
    detail: &str,
) -> Result<(), DbError> {
    let entry = Entry {
        account_id,
        user_id: Some(user_id),
        action,
        detail,
    };
    record(&mut &db.pool, &[entry], &super::row::now_text()).await
}

/// One line of the audit log written with an order or a renewal.
pub(super) struct Entry<'a> {
    pub account_id: AccountId,
    pub user_id: Option<UserId>,
    pub action: &'a str,
    pub detail: &'a str,
}

/// `entries` in one statement.
pub(super) async fn record(
    tx: &mut impl Exec,
    entries: &[Entry<'_>],
    now: &str,
) -> Result<(), DbError> {
    let mut params = Vec::with_capacity(entries.len() * 5);
    for e in entries {
        params.extend([
            Param::from(e.account_id),
            Param::from(e.user_id),
            text(e.action),
            text(e.detail),
            text(now),
        ]);
    }
    multi_row(
        tx,
        "INSERT INTO audit_log (account_id, user_id, action, detail, created_at)",
        5,
        "",
        params,
    )
    .await?;
    Ok(())
}

/// An entry made by the system (a provider's event), not by a user.
pub async fn audit_system(
    db: &Db,
    account_id: AccountId,
    action: &str,
    detail: &str,
) -> Result<(), DbError> {
    let entry = Entry {
        account_id,
        user_id: None,
        action,
        detail,
    };
    record(&mut &db.pool, &[entry], &super::row::now_text()).await
}
