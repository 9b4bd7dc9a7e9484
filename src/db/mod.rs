//! The data layer: the only place with SQL. One code path for SQLite and
//! PostgreSQL through sqlx's `Any` driver (`$n` placeholders, money as
//! BIGINT minor units, dates as ISO text, booleans as 0/1 integers), with one
//! migration directory per backend under the same version numbers.

pub mod accounts;
pub mod audit;
pub mod carts;
pub mod commit;
pub mod credit;
mod exec;
mod group_commit;
pub mod invoices;
pub mod orders;
pub mod outbox;
pub mod payment_methods;
pub mod payments;
pub mod products;
pub mod sessions;
pub mod subscriptions;
pub mod support;

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{AnyConnection, AnyPool, Connection, Executor};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The database handle every repository function takes.
#[derive(Clone, Debug)]
pub struct Db {
    pub pool: AnyPool,
    pub backend: Backend,
    /// SQLite's single writer, taken in this process: see [`Db::write_turn`].
    writer: std::sync::Arc<tokio::sync::Mutex<()>>,
    /// SQLite: claims and orders waiting for their commit (`group_commit`).
    queue: std::sync::Arc<group_commit::WriteQueue>,
}

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error(
        "DATABASE_URL has an unsupported scheme in \"{0}\" (use sqlite://PATH or postgres://…)"
    )]
    UnknownScheme(String),
    #[error("cannot create the SQLite database at {path}: {cause}")]
    SqlitePath { path: String, cause: String },
    #[error("cannot connect to the database at {target}: {cause}")]
    Connect { target: String, cause: String },
    #[error("database migration failed: {0}")]
    Migrate(String),
    #[error("database error: {0}")]
    Query(#[from] sqlx::Error),
    /// A transient error met by a group of orders written together
    /// (`group_commit`), as each of them receives it.
    #[error("database unavailable: {0}")]
    Unavailable(String),
}

impl DbError {
    /// The database was out of reach or too busy, not wrong: a PostgreSQL
    /// server restarting or unreachable (connection errors, SQLSTATE class
    /// 08 and 57P0x), the pool out of connections, SQLite still locked by
    /// another writer after the busy timeout. The statement did not run;
    /// the same request later will work.
    pub fn is_transient(&self) -> bool {
        if let DbError::Unavailable(_) = self {
            return true;
        }
        let DbError::Query(e) = self else {
            return false;
        };
        match e {
            sqlx::Error::Io(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::WorkerCrashed
            | sqlx::Error::Tls(_) => true,
            sqlx::Error::Database(d) => {
                let code = d.code().unwrap_or_default();
                // SQLite: 5 SQLITE_BUSY (and its extended codes), 6 LOCKED.
                code.starts_with("08")
                    || matches!(
                        &*code,
                        "57P01" | "57P02" | "57P03" | "5" | "6" | "261" | "517"
                    )
            }
            _ => false,
        }
    }
}

impl Db {
    /// Opens (creating the SQLite file if needed) and checks the connection.
    pub async fn connect(url: &str) -> Result<Db, DbError> {
        install_default_drivers();
        let (backend, url) = normalize(url)?;
        let target = redact(&url);
        let max = if backend == Backend::Sqlite { 8 } else { 16 };
        // One direct connection first: the pool would only report "timed out",
        // the driver says why (refused, unknown host, bad password…).
        let probe =
            tokio::time::timeout(Duration::from_secs(10), AnyConnection::connect(&url)).await;
        let fail = |cause: String| match backend {
            Backend::Sqlite => DbError::SqlitePath {
                path: target.clone(),
                cause,
            },
            Backend::Postgres => DbError::Connect {
                target: target.clone(),
                cause,
            },
        };
        match probe {
            Err(_) => return Err(fail("no answer within 10 s".into())),
            Ok(Err(e)) => return Err(fail(short(&e))),
            Ok(Ok(conn)) => {
                let _ = conn.close().await;
            }
        }
        let pool = AnyPoolOptions::new()
            .max_connections(max)
            .acquire_timeout(Duration::from_secs(10))
            // An embedded file cannot drop a connection: no ping (a round
            // trip to the connection's thread) before every query. A
            // PostgreSQL connection can die idle, and is tested.
            .test_before_acquire(backend == Backend::Postgres)
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        // WAL: readers never wait for the writer. The
                        // durability (`sqlite_synchronous`). busy_timeout
                        // lets concurrent writers queue instead of failing
                        // with SQLITE_BUSY.
                        conn.execute("PRAGMA journal_mode = WAL").await?;
                        conn.execute(sqlite_synchronous()).await?;
                        conn.execute("PRAGMA busy_timeout = 10000").await?;
                        conn.execute("PRAGMA foreign_keys = ON").await?;
                    }
                    Ok(())
                })
            })
            .connect(&url)
            .await
            .map_err(|e| fail(short(&e)))?;
        let writer = std::sync::Arc::new(tokio::sync::Mutex::new(()));
        let queue = std::sync::Arc::new(group_commit::WriteQueue::new(writer.clone()));
        Ok(Db {
            pool,
            backend,
            writer,
            queue,
        })
    }

    /// On SQLite, the turn of a write transaction: writers queue here in
    /// order instead of in SQLite's busy handler, which sleeps 1, 2, 5,
    /// 10… ms between tries (place order had a p99 of 116 ms at 8
    /// connections). Take it before checking out a connection, never while
    /// holding one (the queue would hold the pool). PostgreSQL locks rows.
    pub(crate) async fn write_turn(&self) -> Option<tokio::sync::MutexGuard<'_, ()>> {
        match self.backend {
            Backend::Sqlite => Some(self.writer.lock().await),
            Backend::Postgres => None,
        }
    }

    /// The first row of `sql` (one `$1` parameter), mapped by `map`.
    pub(crate) async fn read_row<T>(
        &self,
        sql: &str,
        param: exec::Param<'_>,
        map: impl Fn(&dyn Columns) -> Result<T, DbError>,
    ) -> Result<Option<T>, DbError> {
        let row = exec::bind(sqlx::query(sql), [param])
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(|row| map(row)).transpose()
    }

    /// Every row of `sql`, mapped by `map`.
    pub(crate) async fn read_rows<T: Send + 'static>(
        &self,
        sql: String,
        params: Vec<exec::Param<'static>>,
        map: fn(&dyn Columns) -> Result<T, DbError>,
    ) -> Result<Vec<T>, DbError> {
        let rows = exec::bind(sqlx::query(&sql), params)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(|row| map(row)).collect()
    }

    /// One statement on its own, under the write turn; on SQLite grouped
    /// with the statements queued with it (`group_commit`). The `id` its
    /// first row returns, if any.
    pub(crate) async fn write_one(
        &self,
        sql: &'static str,
        params: Vec<exec::Param<'static>>,
    ) -> Result<Option<i64>, DbError> {
        if self.backend == Backend::Sqlite {
            return self.queue.write_one(self, (sql, params)).await;
        }
        first_id(&exec::Exec::fetch(&mut &self.pool, sql, params).await?)
    }

    /// Statements of several callers, the caller holding the write turn
    /// (`group_commit`, on SQLite): in one transaction when each goes
    /// through, else each in its own, so each result is the one it
    /// would have had alone. A transient error answers each "try again".
    pub(crate) async fn write_statements(
        &self,
        statements: Vec<group_commit::Statement>,
    ) -> Vec<group_commit::StatementResult> {
        use exec::Exec;
        let run = |statements: Vec<group_commit::Statement>| async move {
            let mut tx = self.pool.begin().await?;
            let mut out = Vec::with_capacity(statements.len());
            for (sql, params) in statements {
                out.push(first_id(&tx.fetch(sql, params).await?)?);
            }
            tx.commit().await?;
            Ok::<_, DbError>(out)
        };
        let n = statements.len();
        if n > 1 {
            match run(statements.clone()).await {
                Ok(ids) => return ids.into_iter().map(Ok).collect(),
                Err(e) if e.is_transient() => {
                    let e = e.to_string();
                    return (0..n)
                        .map(|_| Err(DbError::Unavailable(e.clone())))
                        .collect();
                }
                Err(e) => tracing::warn!("{n} statements are written one by one: {e}"),
            }
        }
        let mut out = Vec::with_capacity(n);
        for statement in statements {
            out.push(
                run(vec![statement])
                    .await
                    .map(|mut ids| ids.pop().flatten()),
            );
        }
        out
    }

    /// How many groups orders have been committed in so far on SQLite: fewer
    /// than the orders when they arrived together (`group_commit`). A group
    /// is one transaction unless one of its orders failed.
    pub fn order_groups(&self) -> u64 {
        self.queue.groups()
    }

    pub async fn migrate(&self) -> Result<(), DbError> {
        let result = match self.backend {
            Backend::Sqlite => sqlx::migrate!("migrations/sqlite").run(&self.pool).await,
            Backend::Postgres => sqlx::migrate!("migrations/postgres").run(&self.pool).await,
        };
        result.map_err(|e| DbError::Migrate(e.to_string()))
    }
}

/// The variable that trades a committed order's survival of a power cut
/// for speed; unset, SQLite syncs the WAL at every commit.
pub const SQLITE_TRADE_DURABILITY: &str = "BC_SQLITE_TRADE_DURABILITY_FOR_SPEED";

/// `synchronous = FULL`: in WAL mode, NORMAL syncs only at checkpoints, so
/// the last commits (an order already charged) can roll back after a power
/// cut. NORMAL only when `BC_SQLITE_TRADE_DURABILITY_FOR_SPEED=1`.
pub(crate) fn sqlite_synchronous() -> &'static str {
    match std::env::var(SQLITE_TRADE_DURABILITY).as_deref() {
        Ok("1") => "PRAGMA synchronous = NORMAL",
        _ => "PRAGMA synchronous = FULL",
    }
}

/// The `id` column of the first of `rows`, if any.
fn first_id(rows: &[impl Columns]) -> Result<Option<i64>, DbError> {
    Ok(rows.first().map(|r| r.int("id")).transpose()?)
}

/// A result row's columns by name.
pub(crate) trait Columns {
    fn text(&self, col: &str) -> Result<String, sqlx::Error>;
    fn opt_text(&self, col: &str) -> Result<Option<String>, sqlx::Error>;
    fn int(&self, col: &str) -> Result<i64, sqlx::Error>;
    fn opt_int(&self, col: &str) -> Result<Option<i64>, sqlx::Error>;
}

impl Columns for sqlx::any::AnyRow {
    fn text(&self, col: &str) -> Result<String, sqlx::Error> {
        sqlx::Row::try_get(self, col)
    }
    fn opt_text(&self, col: &str) -> Result<Option<String>, sqlx::Error> {
        sqlx::Row::try_get(self, col)
    }
    fn int(&self, col: &str) -> Result<i64, sqlx::Error> {
        sqlx::Row::try_get(self, col)
    }
    fn opt_int(&self, col: &str) -> Result<Option<i64>, sqlx::Error> {
        sqlx::Row::try_get(self, col)
    }
}

/// Validates the scheme and, for SQLite, makes sure the directory exists and
/// the file will be created (`mode=rwc`).
fn normalize(url: &str) -> Result<(Backend, String), DbError> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Ok((Backend::Postgres, url.to_string()));
    }
    let Some(rest) = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
    else {
        return Err(DbError::UnknownScheme(redact(url)));
    };
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    if path.is_empty() || path == ":memory:" {
        return Ok((Backend::Sqlite, url.to_string()));
    }
    if let Some(dir) = Path::new(path)
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
    {
        std::fs::create_dir_all(dir).map_err(|e| DbError::SqlitePath {
            path: path.to_string(),
            cause: e.to_string(),
        })?;
    }
    let query = if query.contains("mode=") {
        query.to_string()
    } else if query.is_empty() {
        "mode=rwc".to_string()
    } else {
        format!("{query}&mode=rwc")
    };
    Ok((Backend::Sqlite, format!("sqlite://{path}?{query}")))
}

/// Hides a password in a URL before it reaches a message or a log line.
pub fn redact(url: &str) -> String {
    match url::Url::from_str(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_string(),
    }
}

/// The first line of a driver error, without sqlx's debug wrapping.
fn short(e: &sqlx::Error) -> String {
    e.to_string().lines().next().unwrap_or_default().to_string()
}

/// One round trip to the database (health checks).
pub async fn ping(db: &Db) -> Result<(), DbError> {
    sqlx::query("SELECT 1").execute(&db.pool).await?;
    Ok(())
}

/// Current UTC instant as RFC 3339 text (how instants are stored).
pub fn now_text() -> String {
    instant_text(chrono::Utc::now())
}

/// An instant as stored: fixed-width RFC 3339, so text order is time order.
pub fn instant_text(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// A consistent copy of a live SQLite database (`VACUUM INTO`).
pub async fn backup_sqlite(db: &Db, to: &str) -> Result<(), DbError> {
    sqlx::query("VACUUM INTO $1")
        .bind(to)
        .execute(&db.pool)
        .await?;
    Ok(())
}

/// Fails unless SQLite's integrity check passes.
pub async fn check_sqlite(db: &Db) -> Result<(), DbError> {
    let (result,): (String,) = sqlx::query_as("PRAGMA integrity_check")
        .fetch_one(&db.pool)
        .await?;
    if result == "ok" {
        Ok(())
    } else {
        Err(DbError::Query(sqlx::Error::Protocol(format!(
            "integrity check: {result}"
        ))))
    }
}

/// The file path of a `sqlite://PATH` URL.
pub fn sqlite_path(url: &str) -> Option<String> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or(rest);
    (!path.is_empty() && path != ":memory:").then(|| path.to_string())
}

/// Counts rows of a table for tests and checks (fixed table names only).
pub async fn count(db: &Db, table: &'static str) -> Result<i64, DbError> {
    let (n,): (i64,) = sqlx::query_as(&format!("SELECT COUNT(*) FROM {table}"))
        .fetch_one(&db.pool)
        .await?;
    Ok(n)
}
