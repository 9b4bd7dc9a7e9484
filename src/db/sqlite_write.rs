//! SQLite's order and billing-run writes without sqlx's connection thread.
//!
//! Under the write turn, each statement of an order's transaction through
//! sqlx was a message to the connection's thread and back: with the
//! machine busy, every hand-off waited to be scheduled, and the turn, which
//! all writers queue for, was held for that waiting (`bench/NOTES.md`,
//! session 9). Here one kept read-write connection runs those statements on
//! the calling thread, with their prepared statements cached. Only the
//! holder of the write turn uses it.

use std::sync::{Arc, Mutex};

use rusqlite::{Connection, OpenFlags};

use super::DbError;

pub(crate) struct Writer {
    path: String,
    conn: Mutex<Option<Connection>>,
}

impl std::fmt::Debug for Writer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Writer").field("path", &self.path).finish()
    }
}

impl Writer {
    /// For a database file (an in-memory one has no second connection).
    pub(crate) fn for_file(path: String) -> Writer {
        Writer {
            path,
            conn: Mutex::new(None),
        }
    }

    /// Runs `write` on the writer connection (opened on first use, after
    /// the migrations), on a blocking thread: the connection may wait for
    /// another writer's lock (busy timeout), and that writer may need this
    /// runtime's threads to finish. The caller holds the write turn.
    pub(crate) async fn run<T: Send + 'static>(
        self: &Arc<Self>,
        write: impl FnOnce(&mut Connection) -> Result<T, DbError> + Send + 'static,
    ) -> Result<T, DbError> {
        let writer = self.clone();
        tokio::task::spawn_blocking(move || writer.with(write))
            .await
            .map_err(|e| DbError::Query(sqlx::Error::Protocol(format!("direct write: {e}"))))?
    }

    fn with<T>(
        &self,
        write: impl FnOnce(&mut Connection) -> Result<T, DbError>,
    ) -> Result<T, DbError> {
        // A panic while holding it: a transaction left open is rolled back
        // by its own drop, the connection stays usable.
        let mut kept = self.conn.lock().unwrap_or_else(|e| e.into_inner());
        let conn = match &mut *kept {
            Some(conn) => conn,
            empty => empty.insert(self.open()?),
        };
        write(conn)
    }

    fn open(&self) -> Result<Connection, DbError> {
        let conn = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        // As the pool's connections (`Db::connect`).
        conn.execute_batch(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;",
        )?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        conn.set_prepared_statement_cache_capacity(64);
        Ok(conn)
    }
}
