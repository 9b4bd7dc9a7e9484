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
use std::time::Duration;

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

    /// Runs `write` in one transaction holding SQLite's write lock,
    /// committed if it returns `Ok` (units inside it that may fail alone
    /// use savepoints). The caller holds the write turn, so the lock is
    /// normally free and taken at once, and `write` runs on this thread: its
    /// statements cannot wait then. When another connection holds it (a
    /// sqlx write outside the turn, another process), it is waited for on a
    /// blocking thread instead: that writer may need this runtime's threads
    /// to finish (blocking one here deadlocked until the busy timeout).
    pub(crate) async fn run<T: Send + 'static>(
        self: &Arc<Self>,
        write: impl FnOnce(&mut Connection) -> Result<T, DbError> + Send + 'static,
    ) -> Result<T, DbError> {
        let began = self.with(|conn| match begin(conn, Duration::ZERO) {
            Ok(()) => Ok(true),
            Err(e) if busy(&e) => Ok(false),
            Err(e) => Err(e.into()),
        })?;
        if began {
            return self.with(|conn| {
                let result = write(conn);
                finish(conn, result)
            });
        }
        self.run_blocking(write).await
    }

    /// As [`Writer::run`], but on a blocking thread in any case: for a
    /// write long enough (a billing-run batch) to hold up the other
    /// requests of this runtime's thread.
    pub(crate) async fn run_blocking<T: Send + 'static>(
        self: &Arc<Self>,
        write: impl FnOnce(&mut Connection) -> Result<T, DbError> + Send + 'static,
    ) -> Result<T, DbError> {
        let writer = self.clone();
        tokio::task::spawn_blocking(move || {
            writer.with(|conn| {
                begin(conn, BUSY_TIMEOUT)?;
                let result = write(conn);
                finish(conn, result)
            })
        })
        .await
        .map_err(|e| DbError::Query(sqlx::Error::Protocol(format!("direct write: {e}"))))?
    }

    fn with<T>(
        &self,
        write: impl FnOnce(&mut Connection) -> Result<T, DbError>,
    ) -> Result<T, DbError> {
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
        // As the pool's connections (`Db::connect`), but no busy handler:
        // a busy lock is waited for on a blocking thread (`run`). The
        // savepoints of an order group journal each page they change: in
        // memory, not in a temporary file created and deleted per group
        // (a fifth of place order's CPU, `bench/NOTES.md`). A larger page
        // cache: this connection writes most pages and keeps them valid.
        conn.execute_batch(
            "PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON;
             PRAGMA temp_store = MEMORY; PRAGMA cache_size = -16384;",
        )?;
        conn.execute_batch(super::sqlite_synchronous())?;
        conn.busy_timeout(Duration::ZERO)?;
        conn.set_prepared_statement_cache_capacity(64);
        Ok(conn)
    }
}

/// As the pool's connections (`Db::connect`).
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// `BEGIN IMMEDIATE`, waiting up to `wait` for another writer's lock.
fn begin(conn: &Connection, wait: Duration) -> rusqlite::Result<()> {
    if !conn.is_autocommit() {
        // Left open by a panic inside an earlier `write`.
        conn.execute_batch("ROLLBACK")?;
    }
    if wait.is_zero() {
        // The connection's own setting (`open`): nothing to set or undo.
        return conn.execute_batch("BEGIN IMMEDIATE");
    }
    conn.busy_timeout(wait)?;
    let began = conn.execute_batch("BEGIN IMMEDIATE");
    conn.busy_timeout(Duration::ZERO)?;
    began
}

fn busy(e: &rusqlite::Error) -> bool {
    e.sqlite_error_code() == Some(rusqlite::ErrorCode::DatabaseBusy)
}

/// Commits the transaction `run` began if `result` is `Ok`, else rolls it
/// back; a failed commit is rolled back too.
fn finish<T>(conn: &Connection, result: Result<T, DbError>) -> Result<T, DbError> {
    let end = match &result {
        Ok(_) => conn.execute_batch("COMMIT"),
        Err(_) => conn.execute_batch("ROLLBACK"),
    };
    if let Err(e) = end {
        if !conn.is_autocommit() {
            let _ = conn.execute_batch("ROLLBACK");
        }
        return Err(e.into());
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An order group's savepoints journal their pages in memory: with
    /// temporary files, each group created and deleted one (`open`).
    #[tokio::test]
    async fn savepoint_journals_stay_in_memory() {
        crate::db::sqlite_alloc::install();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.db").display().to_string();
        // Created as the pool creates it: the writer only opens it.
        Connection::open(&path).unwrap();
        let writer = Arc::new(Writer::for_file(path));
        let (store, rows) = writer
            .run(|conn| {
                conn.execute_batch("CREATE TABLE t (x BLOB)")?;
                let sp = conn.savepoint()?;
                // More than SQLite's 64 KiB before a journal spills to a file.
                for _ in 0..64 {
                    sp.execute("INSERT INTO t VALUES (zeroblob(4000))", [])?;
                }
                sp.commit()?;
                let store: i64 = conn.query_row("PRAGMA temp_store", [], |r| r.get(0))?;
                let rows: i64 = conn.query_row("SELECT COUNT(*) FROM t", [], |r| r.get(0))?;
                Ok((store, rows))
            })
            .await
            .unwrap();
        assert_eq!(store, 2, "temp_store = MEMORY");
        assert_eq!(rows, 64);
    }
}
