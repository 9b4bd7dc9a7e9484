//! Group commit of orders (SQLite).
//!
//! An order's commit is ten-odd statements and a commit behind SQLite's
//! single writer: each order in its own transaction kept place order near a
//! tenth of the bare insert however idle the rest of the machine was
//! (`bench/NOTES.md`). Orders queue here; whoever gets the write turn writes
//! every order queued so far in one transaction (`billing::write_orders`,
//! which falls back to one transaction per order when any of them fails)
//! and hands each its own result.

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

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
        let (sender, result) = oneshot::channel();
        self.lock().push((w, sender));
        let turn = self.turn.clone().lock_owned().await;
        let group = std::mem::take(&mut *self.lock());
        if !group.is_empty() {
            self.groups.fetch_add(1, Ordering::Relaxed);
            let db = db.clone();
            // Its own task: the group holds other requests' orders, charged
            // already, which must be written even if this request goes away.
            let _ = tokio::spawn(async move {
                let (writes, senders): (Vec<_>, Vec<_>) = group.into_iter().unzip();
                let results = super::billing::write_orders(&db, writes).await;
                drop(turn);
                for (sender, r) in senders.into_iter().zip(results) {
                    let _ = sender.send(r);
                }
            })
            .await;
        }
        // Dropped unanswered only if the writing task panicked.
        result.await.unwrap_or(Err(CommitError::Db(DbError::Query(
            sqlx::Error::WorkerCrashed,
        ))))
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
