//! SQLite's write turn, and group commit under it.
//!
//! SQLite has one writer, and with `synchronous = FULL` every commit waits
//! for the disk. Writes queue here; whoever gets the turn writes every
//! statement queued so far (orders' claims) in one transaction, answers
//! them, then every order queued so far in another (`commit::write_orders`);
//! each falls back to one transaction per write when any of them fails, so
//! a write's result is the one it would have had alone. A write that
//! another call wrote meanwhile returns without taking the turn. Measured
//! with durable commits, place order with it against one transaction per
//! order: 1,000–1,090 against 470–510 orders/s at 8 connections, 1,600–1,930
//! against 430–550 at 32 (docs/RELIABILITY.md).

use std::future::Future;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::Poll;

use tokio::sync::{OwnedMutexGuard, oneshot};

use super::error::DbError;
use super::exec::Param;
use super::writes::{CommitError, OrderWrite, WriteResult};

/// A statement on its own and its `id`, if it returns one.
pub(crate) type Statement = (&'static str, Vec<Param<'static>>);
pub(crate) type StatementResult = Result<Option<i64>, DbError>;

/// Proof that its holder has the database's write turn: on SQLite the one
/// writer's, on PostgreSQL nothing to hold (rows lock). Only
/// [`WriteQueue::turn`] makes one, so a function that takes a `&WriteTurn`
/// cannot be called without the turn. Take it before checking out a
/// connection, never while holding one (waiting writers would hold the
/// pool).
pub(crate) struct WriteTurn {
    _held: Option<OwnedMutexGuard<()>>,
}

/// What writes a group under the turn: the database (`commit`).
pub(crate) trait GroupWriter: Clone + Send + Sync + 'static {
    fn statements(
        &self,
        turn: &WriteTurn,
        statements: Vec<Statement>,
    ) -> impl Future<Output = Vec<StatementResult>> + Send;
    fn orders(
        &self,
        turn: &WriteTurn,
        orders: Vec<OrderWrite>,
    ) -> impl Future<Output = Vec<WriteResult>> + Send;
}

#[derive(Default)]
struct Waiting {
    statements: Vec<(Statement, oneshot::Sender<StatementResult>)>,
    orders: Vec<(OrderWrite, oneshot::Sender<WriteResult>)>,
}

pub(crate) struct WriteQueue {
    waiting: Mutex<Waiting>,
    /// `None` when the database has row locks instead (PostgreSQL).
    turn: Option<Arc<tokio::sync::Mutex<()>>>,
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
    /// `single_writer`: SQLite, whose writers take turns here.
    pub(crate) fn new(single_writer: bool) -> WriteQueue {
        WriteQueue {
            waiting: Mutex::new(Waiting::default()),
            turn: single_writer.then(|| Arc::new(tokio::sync::Mutex::new(()))),
            groups: AtomicU64::new(0),
        }
    }

    /// Waits for the write turn (at once on PostgreSQL).
    pub(crate) async fn turn(&self) -> WriteTurn {
        WriteTurn {
            _held: match &self.turn {
                Some(turn) => Some(turn.clone().lock_owned().await),
                None => None,
            },
        }
    }

    /// Queues the statement and waits for its result: written by this call
    /// if it is the first to get the turn after it queued, else by the
    /// call that got it first.
    pub(crate) async fn write_one(
        &self,
        writer: &impl GroupWriter,
        statement: Statement,
    ) -> StatementResult {
        let (sender, result) = oneshot::channel();
        self.lock().statements.push((statement, sender));
        self.until_answered(writer, result)
            .await
            .unwrap_or_else(|_| Err(crashed()))
    }

    /// As [`WriteQueue::write_one`], for an order's commit.
    pub(crate) async fn commit(&self, writer: &impl GroupWriter, w: OrderWrite) -> WriteResult {
        let (sender, result) = oneshot::channel();
        self.lock().orders.push((w, sender));
        self.until_answered(writer, result)
            .await
            .unwrap_or_else(|_| Err(CommitError::Db(crashed())))
    }

    async fn until_answered<T>(
        &self,
        writer: &impl GroupWriter,
        mut result: oneshot::Receiver<T>,
    ) -> Result<T, oneshot::error::RecvError> {
        let turn = tokio::select! {
            biased;
            r = &mut result => return r,
            turn = self.turn() => turn,
        };
        let Waiting { statements, orders } = std::mem::take(&mut *self.lock());
        if !(statements.is_empty() && orders.is_empty()) {
            if !orders.is_empty() {
                self.groups.fetch_add(1, Ordering::Relaxed);
            }
            let writer = writer.clone();
            let mut write = Box::pin(async move {
                // Answered before the orders are written (a claim's request
                // goes on to charge meanwhile), and all before the turn goes:
                // the calls waiting for it then leave its queue instead of
                // each taking it in turn.
                if !statements.is_empty() {
                    let (writes, senders): (Vec<_>, Vec<_>) = statements.into_iter().unzip();
                    let results = writer.statements(&turn, writes).await;
                    for (sender, r) in senders.into_iter().zip(results) {
                        let _ = sender.send(r);
                    }
                }
                if !orders.is_empty() {
                    let (writes, senders): (Vec<_>, Vec<_>) = orders.into_iter().unzip();
                    let results = writer.orders(&turn, writes).await;
                    for (sender, r) in senders.into_iter().zip(results) {
                        let _ = sender.send(r);
                    }
                }
                drop(turn);
            });
            // Queued writes belong to other requests (orders charged
            // already) and must be written even if this request goes away:
            // what is not done in this first poll finishes as its own task.
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
