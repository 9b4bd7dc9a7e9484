//! The account's credit: its balance, which never goes below zero, and
//! the ledger of its movements.

use super::error::DbError;
use super::exec::{Exec, Param, multi_row, text};
use crate::domain::ids::{AccountId, InvoiceId};

/// Moves `delta` into the account's credit unless that would take it below
/// zero; false when it would (the credit was spent meanwhile).
pub(super) async fn move_credit(
    tx: &mut impl Exec,
    account_id: AccountId,
    delta: i64,
) -> Result<bool, DbError> {
    let moved = tx
        .execute(
            "UPDATE accounts SET credit_balance_minor = credit_balance_minor + $1
             WHERE id = $2 AND credit_balance_minor + $1 >= 0",
            vec![Param::Int(Some(delta)), Param::from(account_id)],
        )
        .await?;
    Ok(moved == 1)
}

/// One movement of an account's credit: created when positive (an invoice
/// whose lines sum below zero), applied when negative.
pub(super) struct Movement {
    pub account_id: AccountId,
    pub invoice_id: Option<InvoiceId>,
    pub delta: i64,
}

/// The ledger rows of `movements`, in one statement.
pub(super) async fn record(
    tx: &mut impl Exec,
    movements: &[Movement],
    now: &str,
) -> Result<(), DbError> {
    let mut params = Vec::with_capacity(movements.len() * 5);
    for m in movements {
        params.extend([
            Param::from(m.account_id),
            Param::from(m.invoice_id),
            Param::Int(Some(m.delta)),
            text(if m.delta > 0 { "created" } else { "applied" }),
            text(now),
        ]);
    }
    multi_row(
        tx,
        "INSERT INTO credit_movements (account_id, invoice_id, amount_minor, reason, created_at)",
        5,
        "",
        params,
    )
    .await?;
    Ok(())
}
