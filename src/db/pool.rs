//! The database handle: the connection pool, the migrations, and SQLite's
//! write turn.

use std::time::Duration;

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{AnyConnection, AnyPool, Connection, Executor};

use super::backend::{Backend, normalize, redact, sqlite_synchronous};
use super::error::DbError;
use super::exec;
use super::group_commit::{Statement, StatementResult, WriteQueue, WriteTurn};
use super::row::Columns;

/// The database handle every repository function takes.
#[derive(Clone, Debug)]
pub struct Db {
    pub pool: AnyPool,
    pub backend: Backend,
    /// SQLite: claims and orders waiting for their commit (`group_commit`).
    pub(super) queue: std::sync::Arc<WriteQueue>,
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
        let queue = std::sync::Arc::new(WriteQueue::new(backend == Backend::Sqlite));
        Ok(Db {
            pool,
            backend,
            queue,
        })
    }

    /// The write turn (`WriteTurn`): on SQLite writers queue for it in
    /// order instead of in SQLite's busy handler, which sleeps 1, 2, 5,
    /// 10… ms between tries.
    pub(crate) async fn write_turn(&self) -> WriteTurn {
        self.queue.turn().await
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
        // PostgreSQL: one autocommitted statement, no transaction around it.
        first_id(&exec::Exec::fetch(&mut &self.pool, sql, params).await?)
    }

    /// Statements of several callers, under the write turn: in one
    /// transaction when each goes
    /// through, else each in its own, so each result is the one it
    /// would have had alone. A transient error answers each "try again".
    pub(crate) async fn write_statements(
        &self,
        _turn: &WriteTurn,
        statements: Vec<Statement>,
    ) -> Vec<StatementResult> {
        use exec::Exec;
        let run = |statements: Vec<Statement>| async move {
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

    /// A transaction under the write turn, for a change of several
    /// statements that commits with its record (an API write and its
    /// idempotent answer).
    pub async fn begin_write(&self) -> Result<WriteTx, DbError> {
        let turn = self.write_turn().await;
        Ok(WriteTx {
            tx: self.pool.begin().await?,
            _turn: turn,
        })
    }

    pub async fn migrate(&self) -> Result<(), DbError> {
        let result = match self.backend {
            Backend::Sqlite => sqlx::migrate!("migrations/sqlite").run(&self.pool).await,
            Backend::Postgres => sqlx::migrate!("migrations/postgres").run(&self.pool).await,
        };
        result.map_err(|e| DbError::Migrate(e.to_string()))
    }
}

/// See [`Db::begin_write`]; dropped without `commit`, it rolls back.
pub struct WriteTx {
    pub(super) tx: sqlx::Transaction<'static, sqlx::Any>,
    _turn: WriteTurn,
}

impl WriteTx {
    pub async fn commit(self) -> Result<(), DbError> {
        Ok(self.tx.commit().await?)
    }
}

/// The `id` column of the first of `rows`, if any.
pub(super) fn first_id(rows: &[impl Columns]) -> Result<Option<i64>, DbError> {
    Ok(rows.first().map(|r| r.int("id")).transpose()?)
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

/// Counts rows of a table for tests and checks (fixed table names only).
pub async fn count(db: &Db, table: &'static str) -> Result<i64, DbError> {
    let (n,): (i64,) = sqlx::query_as(&format!("SELECT COUNT(*) FROM {table}"))
        .fetch_one(&db.pool)
        .await?;
    Ok(n)
}
