//! Group commit of orders (SQLite).
//!
//! An order's commit is ten-odd statements and a commit behind SQLite's
//! single writer: each order in its own transaction kept place order near a
//! tenth of the bare insert however idle the rest of the machine was
//! (`bench/NOTES.md`). Orders queue here; whoever gets the write turn writes
//! every order queued so far in one transaction (`billing::write_orders`,
//! which falls back to one transaction per order when any of them fails)
//! and hands each its own result.

use std::future::Future;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::Poll;

use tokio::sync::oneshot;

use super::billing::{CommitError, OrderWrite, WriteResult};
use super::{Db, DbError};

type Waiting = (OrderWrite, oneshot::Sender<WriteResult>);

pub(crate) struct OrderQueue {
    waiting: Mutex<Vec<Waiting>>,
    /// The database's write turn (SQLite: one writer anyway).
    turn: Arc<tokio::sync::Mutex<()>>,
    /// Groups taken from the queue so far.
    groups: AtomicU64,
}

impl std::fmt::Debug for OrderQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OrderQueue").finish_non_exhaustive()
    }
}

/// An order's result; its sender dropped unanswered only if the writing
/// task panicked.
fn answered(r: Result<WriteResult, oneshot::error::RecvError>) -> WriteResult {
    r.unwrap_or(Err(CommitError::Db(DbError::Query(
        sqlx::Error::WorkerCrashed,
    ))))
}

impl OrderQueue {
    pub(crate) fn new(turn: Arc<tokio::sync::Mutex<()>>) -> OrderQueue {
        OrderQueue {
            waiting: Mutex::new(Vec::new()),
            turn,
            groups: AtomicU64::new(0),
        }
    }

    /// Queues `w` and waits for its result: written by this call if it is
    /// the first to get the turn after `w` queued, else by the call that
    /// got it first.
    pub(crate) async fn commit(&self, db: &Db, w: OrderWrite) -> WriteResult {
        let (sender, mut result) = oneshot::channel();
        self.lock().push((w, sender));
        // Written by another call's group meanwhile: done, without taking
        // the turn only to find the queue empty (each turn is a hand-over
        // between tasks, and every writer queues for it).
        let turn = tokio::select! {
            biased;
            r = &mut result => return answered(r),
            turn = self.turn.clone().lock_owned() => turn,
        };
        let group = std::mem::take(&mut *self.lock());
        if !group.is_empty() {
            self.groups.fetch_add(1, Ordering::Relaxed);
            let db = db.clone();
            let mut write = Box::pin(async move {
                let (writes, senders): (Vec<_>, Vec<_>) = group.into_iter().unzip();
                let results = super::billing::write_orders(&db, writes).await;
                // Answered before the turn goes: the orders waiting for it
                // leave its queue instead of each taking it in turn.
                for (sender, r) in senders.into_iter().zip(results) {
                    let _ = sender.send(r);
                }
                drop(turn);
            });
            // The group holds other requests' orders, charged already, which
            // must be written even if this request goes away. The direct
            // writer normally writes it without waiting, in this first poll:
            // nothing left to cancel then. If it has to wait (the lock is
            // busy), the rest is its own task.
            let first = std::future::poll_fn(|cx| Poll::Ready(write.as_mut().poll(cx))).await;
            if first.is_pending() {
                let _ = tokio::spawn(write).await;
            }
        }
        answered(result.await)
    }

    /// Groups taken from the queue so far.
    pub(crate) fn groups(&self) -> u64 {
        self.groups.load(Ordering::Relaxed)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Waiting>> {
        // A panic while holding the lock cannot leave the list half-changed.
        self.waiting.lock().unwrap_or_else(|e| e.into_inner())
    }
}
