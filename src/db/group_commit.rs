//! Group commit on SQLite: one statement on its own (an order's claim) and
//! orders' commits.
//!
//! An order's commit is ten-odd statements and a commit behind SQLite's
//! single writer: each order in its own transaction kept place order near a
//! tenth of the bare insert however idle the rest of the machine was
//! (`bench/NOTES.md`). Writes queue here; whoever gets the write turn writes
//! every statement queued so far in one transaction, answers them, then
//! every order queued so far in another (`billing::write_orders`); each
//! falls back to one transaction per write when any of them fails, so a
//! write's result is the one it would have had alone. A write that another
//! call wrote meanwhile returns without taking the turn: each turn is a
//! hand-over between tasks, which every writer queues for.

use std::future::Future;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::Poll;

use tokio::sync::oneshot;

use super::commit::CommitError;
use super::commit::OrderWrite;
use super::commit::WriteResult;
use super::exec::Param;
use super::{Db, DbError};

/// A statement on its own and its `id`, if it returns one.
pub(crate) type Statement = (&'static str, Vec<Param<'static>>);
pub(crate) type StatementResult = Result<Option<i64>, DbError>;

#[derive(Default)]
struct Waiting {
    statements: Vec<(Statement, oneshot::Sender<StatementResult>)>,
    orders: Vec<(OrderWrite, oneshot::Sender<WriteResult>)>,
}

pub(crate) struct WriteQueue {
    waiting: Mutex<Waiting>,
    /// The database's write turn (SQLite: one writer anyway).
    turn: Arc<tokio::sync::Mutex<()>>,
    /// Groups of orders taken from the queue so far.
    groups: AtomicU64,
}

impl std::fmt::Debug for WriteQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WriteQueue").finish_non_exhaustive()
    }
}

/// Sender dropped unanswered: only if the writing task panicked.
fn crashed() -> DbError {
    DbError::Query(sqlx::Error::WorkerCrashed)
}

impl WriteQueue {
    pub(crate) fn new(turn: Arc<tokio::sync::Mutex<()>>) -> WriteQueue {
        WriteQueue {
            waiting: Mutex::new(Waiting::default()),
            turn,
            groups: AtomicU64::new(0),
        }
    }

    /// Queues the statement and waits for its result: written by this call
    /// if it is the first to get the turn after it queued, else by the
    /// call that got it first.
    pub(crate) async fn write_one(&self, db: &Db, statement: Statement) -> StatementResult {
        let (sender, result) = oneshot::channel();
        self.lock().statements.push((statement, sender));
        self.until_answered(db, result)
            .await
            .unwrap_or_else(|_| Err(crashed()))
    }

    /// As [`WriteQueue::write_one`], for an order's commit.
    pub(crate) async fn commit(&self, db: &Db, w: OrderWrite) -> WriteResult {
        let (sender, result) = oneshot::channel();
        self.lock().orders.push((w, sender));
        self.until_answered(db, result)
            .await
            .unwrap_or_else(|_| Err(CommitError::Db(crashed())))
    }

    async fn until_answered<T>(
        &self,
        db: &Db,
        mut result: oneshot::Receiver<T>,
    ) -> Result<T, oneshot::error::RecvError> {
        let turn = tokio::select! {
            biased;
            r = &mut result => return r,
            turn = self.turn.clone().lock_owned() => turn,
        };
        let Waiting { statements, orders } = std::mem::take(&mut *self.lock());
        if !(statements.is_empty() && orders.is_empty()) {
            if !orders.is_empty() {
                self.groups.fetch_add(1, Ordering::Relaxed);
            }
            let db = db.clone();
            let mut write = Box::pin(async move {
                // Answered before the orders are written (a claim's request
                // goes on to charge meanwhile), and all before the turn goes:
                // the calls waiting for it then leave its queue instead of
                // each taking it in turn.
                if !statements.is_empty() {
                    let (writes, senders): (Vec<_>, Vec<_>) = statements.into_iter().unzip();
                    for (sender, r) in senders.into_iter().zip(db.write_statements(writes).await) {
                        let _ = sender.send(r);
                    }
                }
                if !orders.is_empty() {
                    let (writes, senders): (Vec<_>, Vec<_>) = orders.into_iter().unzip();
                    for (sender, r) in senders
                        .into_iter()
                        .zip(super::commit::write_orders(&db, writes).await)
                    {
                        let _ = sender.send(r);
                    }
                }
                drop(turn);
            });
            // Queued writes belong to other requests (orders charged
            // already) and must be written even if this request goes away.
            // The direct writer normally writes them without waiting, in this
            // first poll: nothing left to cancel then. If it has to wait (the
            // lock is busy), the rest is its own task.
            let first = std::future::poll_fn(|cx| Poll::Ready(write.as_mut().poll(cx))).await;
            if first.is_pending() {
                let _ = tokio::spawn(write).await;
            }
        }
        result.await
    }

    /// Groups of orders taken from the queue so far.
    pub(crate) fn groups(&self) -> u64 {
        self.groups.load(Ordering::Relaxed)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Waiting> {
        // A panic while holding the lock cannot leave the lists half-changed.
        self.waiting.lock().unwrap_or_else(|e| e.into_inner())
    }
}
