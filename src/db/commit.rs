//! The unit of work of orders and renewals: everything one order (or one
//! renewal of the billing run) writes, in one transaction, all or nothing.
//! On SQLite, orders that arrive while another group is being written are
//! written together in the next transaction (`group_commit`).

use crate::billing::{InvoiceStatus, SubscriptionStatus};
use crate::domain::EventType;
use crate::domain::ids::{AccountId, InvoiceId, SubscriptionId};

use super::backend::Backend;
use super::credit::{self, move_credit};
use super::error::DbError;
use super::exec::Exec;
use super::group_commit::{GroupWriter, Statement, StatementResult, WriteTurn};
use super::invoices::insert_invoices;
use super::outbox::enqueue_emails;
use super::pool::Db;
use super::subscriptions::{insert_subscriptions, update_subscriptions};
use super::webhooks::{self, EventWrite};
use super::writes::{
    AttemptStatus, CommitError, InvoiceWrite, OrderWrite, SubscriptionWrite, WriteResult,
};
use super::{audit, carts, orders, payments};

/// Writes an order; returns the invoice (id, number). On SQLite, orders
/// that arrive while another group is being written are written together
/// in the next transaction (`group_commit`), each with the result it would
/// have had alone.
pub async fn commit_order(db: &Db, w: OrderWrite) -> WriteResult {
    match db.backend {
        // Row locks let PostgreSQL's orders commit side by side: behind one
        // turn, grouped, they measured no faster (`bench/NOTES.md`).
        Backend::Postgres => {
            let turn = db.write_turn().await;
            let mut results = write_orders(db, &turn, vec![w]).await;
            results.pop().unwrap_or(Ok(None))
        }
        Backend::Sqlite => db.queue.commit(db, w).await,
    }
}

/// Writes orders under the write turn (on SQLite the queued ones, on
/// PostgreSQL one at a time): all in one transaction when each of
/// them goes through; otherwise (one stale, one claim lost, a database
/// error that is not transient) that transaction is rolled back and each
/// order is written in its own, so one order's failure is its own alone.
async fn write_orders(db: &Db, _turn: &WriteTurn, writes: Vec<OrderWrite>) -> Vec<WriteResult> {
    if writes.len() > 1 {
        match write_together(db, &writes).await {
            Ok(results) if results.iter().all(Result::is_ok) => return results,
            Ok(_) => {}
            // The database is away or busy: each order alone would wait for
            // it again (SQLite's busy timeout, PostgreSQL's reconnection),
            // under the turn. Each is answered "try again".
            Err(e) if e.is_transient() => return unavailable(writes.len(), &e),
            Err(e) => tracing::warn!(
                "a group of {} orders is written one by one: {e}",
                writes.len()
            ),
        }
    }
    let mut results = Vec::with_capacity(writes.len());
    for w in &writes {
        results.push(match write_together(db, std::slice::from_ref(w)).await {
            Ok(mut r) => r.pop().unwrap_or(Ok(None)),
            Err(e) => Err(e.into()),
        });
    }
    results
}

/// The same transient error for each of `n` orders.
fn unavailable(n: usize, e: &dyn std::fmt::Display) -> Vec<WriteResult> {
    let e = e.to_string();
    (0..n)
        .map(|_| Err(CommitError::Db(DbError::Unavailable(e.clone()))))
        .collect()
}

/// `writes` in one transaction, committed only if each goes through.
async fn write_together(db: &Db, writes: &[OrderWrite]) -> Result<Vec<WriteResult>, DbError> {
    let mut tx = db.pool.begin().await?;
    let results = commit_writes(&mut tx, writes).await?;
    match results.iter().all(Result::is_ok) {
        true => tx.commit().await?,
        false => tx.rollback().await?,
    }
    Ok(results)
}

/// Writes the billing run's steps in one transaction. Each write holds one
/// subscription, written first: a stale one has written nothing and is
/// reported as such while the others go ahead.
pub async fn commit_batch(db: &Db, writes: Vec<OrderWrite>) -> Result<Vec<WriteResult>, DbError> {
    let _turn = db.write_turn().await;
    debug_assert!(writes.iter().all(|w| w.subscriptions.len() == 1));
    let mut tx = db.pool.begin().await?;
    let results = commit_writes(&mut tx, &writes).await?;
    tx.commit().await?;
    Ok(results)
}

/// Writes orders or billing-run steps into `tx`. The subscriptions go
/// first, under their version checks (a stale one drops its own write
/// only); the rows they add (invoices, lines, payments, emails, audit) then
/// go in one multi-row statement per table: seven statements per renewal
/// made the billing run mostly round trips. Writes first: on SQLite the
/// transaction then takes the write lock at once instead of failing to
/// upgrade a read lock under contention.
async fn commit_writes(
    tx: &mut impl Exec,
    writes: &[OrderWrite],
) -> Result<Vec<WriteResult>, DbError> {
    let now = super::row::now_text();
    let mut results: Vec<WriteResult> = writes.iter().map(|_| Ok(None)).collect();
    let mut kept: Vec<(usize, &OrderWrite)> = writes.iter().enumerate().collect();
    // The billing run's credit first, before its subscriptions (whose rows
    // its lock already holds, so the lock order stays subscriptions then
    // accounts): a renewal whose credit an order spent meanwhile writes
    // nothing and is refunded, the others go ahead.
    let mut run_credits: Vec<(AccountId, usize)> = kept
        .iter()
        .filter(|(_, w)| w.order.is_none() && w.credit_delta_minor != 0)
        .map(|(i, w)| (w.account_id, *i))
        .collect();
    run_credits.sort_unstable();
    for (_, i) in run_credits {
        let w = &writes[i];
        if !move_credit(tx, w.account_id, w.credit_delta_minor).await? {
            results[i] = Err(CommitError::Stale);
        }
    }
    kept.retain(|(i, _)| results[*i].is_ok());
    // Updates of every write in one statement, each under its version check;
    // a write whose update missed is stale. Several writes in one call hold
    // one subscription each (`commit_batch`), so a stale one wrote nothing;
    // orders with a stale one are rolled back and written alone
    // (`write_orders`).
    let updates: Vec<(AccountId, &SubscriptionWrite)> = kept
        .iter()
        .flat_map(|(_, w)| w.subscriptions.iter().map(|s| (w.account_id, s)))
        .filter(|(_, s)| s.existing.is_some())
        .collect();
    let updated = update_subscriptions(tx, &updates, &now).await?;
    let mut fresh = Vec::with_capacity(kept.len());
    for (i, w) in kept {
        let stale = w
            .subscriptions
            .iter()
            .any(|s| s.existing.is_some_and(|(id, _)| !updated.contains(&id)));
        let inserted = match stale {
            true => None,
            false => insert_subscriptions(tx, w.account_id, &w.subscriptions, &now).await?,
        };
        match inserted {
            Some(ids) => fresh.push((i, w, ids)),
            None => results[i] = Err(CommitError::Stale),
        }
    }
    let mut kept = fresh;
    // What does not need the invoice goes first: on PostgreSQL the invoice
    // counter's row stays locked from its numbering to the commit, and
    // every order waits for it, so as few round trips as can follow it do.
    // Accounts in id order: two batches that change the same accounts'
    // credit lock them in the same order, so neither waits for the other
    // in a cycle (the counter no longer serializes them).
    let mut credits: Vec<(AccountId, usize)> = kept
        .iter()
        .filter(|(_, w, _)| w.order.is_some() && w.credit_delta_minor != 0)
        .map(|(i, w, _)| (w.account_id, *i))
        .collect();
    credits.sort_unstable();
    for (_, i) in credits {
        let w = &writes[i];
        if !move_credit(tx, w.account_id, w.credit_delta_minor).await? {
            results[i] = Err(CommitError::Stale);
        }
    }
    kept.retain(|(i, _, _)| results[*i].is_ok());
    let mut audits = Vec::with_capacity(kept.len());
    for (_, w, _) in &kept {
        if w.order.is_some() {
            carts::clear_in(tx, w.account_id).await?;
        }
        audits.push(audit::Entry {
            account_id: w.account_id,
            user_id: w.user_id,
            action: if w.order.is_some() {
                "order"
            } else {
                "billing_run"
            },
            detail: &w.audit,
        });
    }
    audit::record(tx, &audits, &now).await?;
    let mut invoices = {
        let issued: Vec<(AccountId, &InvoiceWrite)> = kept
            .iter()
            .filter_map(|(_, w, _)| w.invoice.as_ref().map(|inv| (w.account_id, inv)))
            .collect();
        insert_invoices(tx, &issued, &now).await?.into_iter()
    };
    let mut paid = Vec::new();
    let mut movements = Vec::new();
    let mut attempts = Vec::new();
    let mut emails = Vec::with_capacity(kept.len());
    let mut events = Vec::with_capacity(kept.len() * 3);
    for (i, w, new_ids) in kept {
        let invoice = match &w.invoice {
            Some(_) => invoices.next(),
            None => None,
        };
        let invoice_id = invoice.as_ref().map(|(id, _)| *id);
        if let Some((order_id, lease)) = &w.order {
            // Only the holder of the claim may complete the order; a lost
            // claim rolls back all of it (`write_orders`).
            if !orders::complete(tx, (*order_id, lease), invoice_id).await? {
                results[i] = Err(CommitError::ClaimLost);
                continue;
            }
        }
        if let (Some(reference), Some(invoice_id), Some(inv)) =
            (&w.payment_ref, invoice_id, &w.invoice)
        {
            paid.push(payments::Paid {
                account_id: w.account_id,
                invoice_id,
                amount_minor: inv.total.to_minor(),
                currency: inv.total.currency().code(),
                reference,
            });
        }
        attempts.extend(w.attempt.as_ref());
        if w.credit_delta_minor != 0 {
            movements.push(credit::Movement {
                account_id: w.account_id,
                invoice_id,
                delta: w.credit_delta_minor,
            });
        }
        emails.push((
            Some(w.account_id),
            (w.email)(invoice.as_ref().map(|(id, n)| (*id, n.as_str()))),
        ));
        events.extend(events_of(w, &new_ids, invoice.as_ref()));
        results[i] = Ok(invoice);
    }
    payments::record_all(tx, &paid, &attempts, &now).await?;
    credit::record(tx, &movements, &now).await?;
    let emails: Vec<_> = emails.iter().map(|(a, e)| (*a, e)).collect();
    enqueue_emails(tx, &emails, &now).await?;
    webhooks::record_in(tx, &events, &now).await?;
    Ok(results)
}

/// What the seller's application hears of one written order or billing-run
/// step, in order: its subscriptions (`new_ids`: those it created), then
/// its invoice, then a declined charge.
fn events_of(
    w: &OrderWrite,
    new_ids: &[SubscriptionId],
    invoice: Option<&(InvoiceId, String)>,
) -> Vec<EventWrite> {
    let mut new_ids = new_ids.iter();
    let mut events = Vec::new();
    for s in &w.subscriptions {
        let (id, kind) = match s.existing {
            None => match new_ids.next() {
                Some(id) => (*id, EventType::SubscriptionCreated),
                None => continue,
            },
            Some((id, _)) => match s.status {
                SubscriptionStatus::Expired | SubscriptionStatus::TrialExpired => {
                    (id, EventType::SubscriptionExpired)
                }
                _ => (id, EventType::SubscriptionUpdated),
            },
        };
        let data = s.record(id, w.account_id).object(s.status);
        events.push(EventWrite::new(kind, w.account_id, data));
    }
    if let (Some(inv), Some((id, number))) = (&w.invoice, invoice) {
        let data = inv.record(*id, number).object(w.account_id);
        events.push(EventWrite::new(
            EventType::InvoiceCreated,
            w.account_id,
            data.clone(),
        ));
        if inv.status == InvoiceStatus::Paid {
            events.push(EventWrite::new(EventType::InvoicePaid, w.account_id, data));
        }
    }
    if let Some(a) = w
        .attempt
        .as_ref()
        .filter(|a| a.status == AttemptStatus::Failed)
    {
        let data = a.object();
        events.push(EventWrite::new(
            EventType::PaymentFailed,
            w.account_id,
            data,
        ));
    }
    events
}

/// Seeds a historical paid invoice (demo data, or a credit note) through the
/// same numbering, with the credit it creates or uses.
pub async fn insert_paid_invoice(
    db: &Db,
    account_id: AccountId,
    inv: &InvoiceWrite,
) -> Result<(InvoiceId, String), CommitError> {
    let now = super::row::now_text();
    let mut tx = db.pool.begin().await.map_err(DbError::from)?;
    let mut out = insert_invoices(&mut tx, &[(account_id, inv)], &now).await?;
    // A credit note (lines below zero) creates the credit it is for.
    let lines: i64 = inv.lines.iter().map(|l| l.amount.to_minor()).sum();
    let delta = (-lines).max(0) - inv.credit_applied.to_minor();
    if delta != 0 {
        if !move_credit(&mut tx, account_id, delta).await? {
            return Err(CommitError::Stale);
        }
        let movement = credit::Movement {
            account_id,
            invoice_id: out.first().map(|(id, _)| *id),
            delta,
        };
        credit::record(&mut tx, &[movement], &now).await?;
    }
    tx.commit().await?;
    out.pop()
        .ok_or(CommitError::Db(DbError::Query(sqlx::Error::RowNotFound)))
}

/// Group commit writes with the database's own statements and orders.
impl GroupWriter for Db {
    fn statements(
        &self,
        turn: &WriteTurn,
        statements: Vec<Statement>,
    ) -> impl std::future::Future<Output = Vec<StatementResult>> + Send {
        self.write_statements(turn, statements)
    }

    fn orders(
        &self,
        turn: &WriteTurn,
        orders: Vec<OrderWrite>,
    ) -> impl std::future::Future<Output = Vec<WriteResult>> + Send {
        write_orders(self, turn, orders)
    }
}
