//! Group commit of orders (and, on a SQLite file, of their claims).
//!
//! An order's commit is ten-odd statements and a commit behind a single
//! writer (SQLite's lock, or here the order turn): each order in its own
//! transaction kept place order near a tenth of the bare insert however idle
//! the rest of the machine was (`bench/NOTES.md`). Orders queue here; whoever
//! gets the turn writes every order queued so far in one transaction
//! (`billing::write_group`, which falls back to one transaction per order
//! when any of them fails) and hands each its own result. On a SQLite file
//! the claims of new orders queue here too and share that transaction (each
//! in its own savepoint): every commit rewrites the hot pages of each table
//! it touched into the WAL, so fewer commits are less to write.

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::oneshot;

use super::billing::{Claim, CommitError, OrderWrite, WriteResult};
use super::{Db, DbError};

pub(crate) type ClaimResult = Result<Option<i64>, DbError>;

enum Waiting {
    // Boxed: an order is several times a claim's size.
    Order(Box<OrderWrite>, oneshot::Sender<WriteResult>),
    Claim(Claim, oneshot::Sender<ClaimResult>),
}

pub(crate) struct OrderQueue {
    waiting: Mutex<Vec<Waiting>>,
    /// On SQLite the database's write turn (one writer anyway); on
    /// PostgreSQL the orders' own.
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
        self.lock().push(Waiting::Order(Box::new(w), sender));
        self.lead(db).await;
        result.await.unwrap_or(Err(CommitError::Db(crashed())))
    }

    /// Queues a claim (SQLite file only) and waits for it, committed.
    pub(crate) async fn claim(&self, db: &Db, c: Claim) -> ClaimResult {
        let (sender, result) = oneshot::channel();
        self.lock().push(Waiting::Claim(c, sender));
        self.lead(db).await;
        result.await.unwrap_or_else(|_| Err(crashed()))
    }

    /// Takes the turn, then writes what is queued, if anything is left.
    async fn lead(&self, db: &Db) {
        let turn = self.turn.clone().lock_owned().await;
        let group = std::mem::take(&mut *self.lock());
        if group.is_empty() {
            return;
        }
        self.groups.fetch_add(1, Ordering::Relaxed);
        let db = db.clone();
        // Its own task: the group holds other requests' orders, charged
        // already, which must be written even if this request goes away.
        let _ = tokio::spawn(async move {
            let mut orders = Vec::new();
            let mut order_senders = Vec::new();
            let mut claims = Vec::new();
            let mut claim_senders = Vec::new();
            for w in group {
                match w {
                    Waiting::Order(w, s) => {
                        orders.push(*w);
                        order_senders.push(s);
                    }
                    Waiting::Claim(c, s) => {
                        claims.push(c);
                        claim_senders.push(s);
                    }
                }
            }
            let (claimed, written) = super::billing::write_group(&db, claims, orders).await;
            drop(turn);
            for (sender, r) in claim_senders.into_iter().zip(claimed) {
                let _ = sender.send(r);
            }
            for (sender, r) in order_senders.into_iter().zip(written) {
                let _ = sender.send(r);
            }
        })
        .await;
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

/// The writing task panicked: its results never came.
fn crashed() -> DbError {
    DbError::Query(sqlx::Error::WorkerCrashed)
}
