//! SQLite's hottest reads without sqlx's connection thread.
//!
//! Every signed-in request first reads its session (and a billing page its
//! subscriptions and cart, in the same statement). Through sqlx each such
//! read is a message to the connection's own thread and back, plus a ping
//! when the connection returns to the pool: futex wake-ups and context
//! switches costing more CPU than the statement itself (`bench/NOTES.md`).
//! Here the statement runs on the calling thread, on a read-only connection
//! kept with its prepared statements. It is an indexed lookup in a local
//! file (tens of microseconds; WAL readers never wait for the writer), so
//! it runs inline rather than through `spawn_blocking`, whose hand-off is
//! the cost being removed. Writes and every other read stay on sqlx.

use std::sync::Mutex;

use rusqlite::{Connection, OpenFlags};

use super::DbError;

/// Idle read-only connections to one SQLite file, opened on demand.
pub(crate) struct Readers {
    path: String,
    idle: Mutex<Vec<Connection>>,
}

/// More idle connections than this are closed: a connection is busy only
/// for the length of a statement, so a tokio worker rarely needs two.
const KEEP: usize = 8;

impl std::fmt::Debug for Readers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Readers").field("path", &self.path).finish()
    }
}

impl Readers {
    /// For a database file (an in-memory database has none: a second
    /// connection would not see it).
    pub(crate) fn for_file(path: String) -> Readers {
        Readers {
            path,
            idle: Mutex::new(Vec::new()),
        }
    }

    /// Runs `read` on an idle connection (opening one when none is idle).
    pub(crate) fn read<T>(
        &self,
        read: impl FnOnce(&Connection) -> Result<T, DbError>,
    ) -> Result<T, DbError> {
        let idle = self.lock().pop();
        let conn = match idle {
            Some(conn) => conn,
            None => self.open()?,
        };
        let out = read(&conn);
        let mut idle = self.lock();
        if idle.len() < KEEP {
            idle.push(conn);
        }
        out
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Connection>> {
        // A panic while holding the lock cannot leave the list half-changed.
        self.idle.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn open(&self) -> Result<Connection, DbError> {
        let conn = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        // As the pool's connections: a checkpoint's brief lock is waited for.
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        conn.set_prepared_statement_cache_capacity(16);
        Ok(conn)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(readers: &Readers) -> i64 {
        readers
            .read(|c| Ok(c.query_row("SELECT COUNT(*) FROM t", [], |r| r.get(0))?))
            .unwrap()
    }

    /// A kept connection answers the next read with what was committed
    /// since (no snapshot held between reads), and is reused, not reopened.
    #[test]
    fn kept_connections_see_each_commit() {
        // Before any connection of this process (see `sqlite_alloc`'s test).
        crate::db::sqlite_alloc::install();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.db").display().to_string();
        let writer = Connection::open(&path).unwrap();
        writer
            .execute_batch("PRAGMA journal_mode = WAL; CREATE TABLE t (x INTEGER);")
            .unwrap();
        let readers = Readers::for_file(path);
        assert_eq!(count(&readers), 0);
        writer.execute("INSERT INTO t VALUES (1)", []).unwrap();
        assert_eq!(count(&readers), 1);
        assert_eq!(readers.lock().len(), 1, "one connection, kept");
        let e = readers
            .read(|c| Ok(c.execute("INSERT INTO t VALUES (2)", [])?))
            .unwrap_err();
        assert!(matches!(e, DbError::Read(_)), "read-only: {e}");
        assert_eq!(count(&readers), 1);
    }

    /// SQLite busy or locked is "try again later" (a 503), as through sqlx.
    #[test]
    fn busy_and_locked_are_transient() {
        let fail = |code| {
            DbError::Read(rusqlite::Error::SqliteFailure(
                rusqlite::ffi::Error::new(code),
                None,
            ))
        };
        assert!(fail(rusqlite::ffi::SQLITE_BUSY).is_transient());
        assert!(fail(rusqlite::ffi::SQLITE_LOCKED).is_transient());
        assert!(!fail(rusqlite::ffi::SQLITE_CORRUPT).is_transient());
        assert!(!DbError::Read(rusqlite::Error::InvalidQuery).is_transient());
    }
}
