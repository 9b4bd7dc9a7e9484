//! The statements of a write transaction, whichever driver runs them: the
//! order and billing-run writes are written once against [`Exec`], and run
//! through sqlx (PostgreSQL, in-memory SQLite) or, on a SQLite file,
//! through the direct writer connection (`sqlite_write`), where each
//! statement is a call on the calling thread instead of a round trip to
//! sqlx's connection thread (`bench/NOTES.md`, session 9).

use std::borrow::Cow;
use std::future::Future;

use rusqlite::types::Value;
use sqlx::{Any, Transaction};

use super::{Backend, Columns, DbError};

/// A bound value; text borrowed where it can be (an email's bodies are
/// not copied to be bound).
#[derive(Clone)]
pub(crate) enum Param<'a> {
    Int(Option<i64>),
    Text(Option<Cow<'a, str>>),
}

/// Borrowed text.
pub(crate) fn text(v: &str) -> Param<'_> {
    Param::Text(Some(Cow::Borrowed(v)))
}

/// Owned text (a value moved to another thread).
pub(crate) fn owned(v: &str) -> Param<'static> {
    Param::Text(Some(Cow::Owned(v.to_string())))
}

/// Borrowed optional text.
pub(crate) fn opt_text(v: &Option<String>) -> Param<'_> {
    Param::Text(v.as_deref().map(Cow::Borrowed))
}

/// An open transaction. Its futures never wait on the direct writer, which
/// is how that one runs them on a plain thread ([`run_ready`]).
pub(crate) trait Exec {
    type Row: Columns;
    fn backend(&self) -> Backend;
    /// Runs `sql`; the rows it changed.
    fn execute<'q>(
        &mut self,
        sql: &'q str,
        params: Vec<Param<'q>>,
    ) -> impl Future<Output = Result<u64, DbError>>;
    /// The rows `sql` returns.
    fn fetch<'q>(
        &mut self,
        sql: &'q str,
        params: Vec<Param<'q>>,
    ) -> impl Future<Output = Result<Vec<Self::Row>, DbError>>;
}

pub(crate) fn bind<'q>(
    mut q: sqlx::query::Query<'q, Any, sqlx::any::AnyArguments<'q>>,
    params: impl IntoIterator<Item = Param<'q>>,
) -> sqlx::query::Query<'q, Any, sqlx::any::AnyArguments<'q>> {
    for p in params {
        q = match p {
            Param::Int(v) => q.bind(v),
            Param::Text(None) => q.bind(None::<&str>),
            Param::Text(Some(Cow::Borrowed(v))) => q.bind(v),
            Param::Text(Some(Cow::Owned(v))) => q.bind(v),
        };
    }
    q
}

impl Exec for Transaction<'_, Any> {
    type Row = sqlx::any::AnyRow;

    fn backend(&self) -> Backend {
        match self.backend_name() {
            "SQLite" => Backend::Sqlite,
            _ => Backend::Postgres,
        }
    }

    async fn execute<'q>(&mut self, sql: &'q str, params: Vec<Param<'q>>) -> Result<u64, DbError> {
        let done = bind(sqlx::query(sql), params).execute(&mut **self).await?;
        Ok(done.rows_affected())
    }

    async fn fetch<'q>(
        &mut self,
        sql: &'q str,
        params: Vec<Param<'q>>,
    ) -> Result<Vec<Self::Row>, DbError> {
        Ok(bind(sqlx::query(sql), params)
            .fetch_all(&mut **self)
            .await?)
    }
}

/// A row read on the direct writer, owned (the statement is reset after).
pub(crate) struct OwnedRow {
    names: std::sync::Arc<[String]>,
    values: Vec<Value>,
}

impl OwnedRow {
    fn get(&self, col: &str) -> Result<&Value, sqlx::Error> {
        self.names
            .iter()
            .position(|n| n == col)
            .map(|i| &self.values[i])
            .ok_or_else(|| sqlx::Error::ColumnNotFound(col.into()))
    }
}

fn mismatch(col: &str, v: &Value) -> sqlx::Error {
    sqlx::Error::ColumnDecode {
        index: col.into(),
        source: format!("unexpected {:?}", v.data_type()).into(),
    }
}

impl Columns for OwnedRow {
    fn text(&self, col: &str) -> Result<String, sqlx::Error> {
        match self.get(col)? {
            Value::Text(s) => Ok(s.clone()),
            v => Err(mismatch(col, v)),
        }
    }
    fn opt_text(&self, col: &str) -> Result<Option<String>, sqlx::Error> {
        match self.get(col)? {
            Value::Null => Ok(None),
            _ => self.text(col).map(Some),
        }
    }
    fn int(&self, col: &str) -> Result<i64, sqlx::Error> {
        match self.get(col)? {
            Value::Integer(i) => Ok(*i),
            v => Err(mismatch(col, v)),
        }
    }
    fn opt_int(&self, col: &str) -> Result<Option<i64>, sqlx::Error> {
        match self.get(col)? {
            Value::Null => Ok(None),
            _ => self.int(col).map(Some),
        }
    }
}

/// Binds `params` to `$1…` by name (a number may repeat or come out of
/// order) or to anonymous `?` by position.
pub(crate) fn bind_direct<'p>(
    stmt: &mut rusqlite::CachedStatement<'_>,
    params: impl IntoIterator<Item = Param<'p>>,
) -> Result<(), DbError> {
    let named = stmt.parameter_name(1).is_some_and(|n| n.starts_with('$'));
    for (i, p) in params.into_iter().enumerate() {
        let index = match named {
            true => stmt
                .parameter_index(&format!("${}", i + 1))?
                .ok_or_else(|| rusqlite::Error::InvalidParameterName(format!("${}", i + 1)))?,
            false => i + 1,
        };
        match p {
            Param::Int(v) => stmt.raw_bind_parameter(index, v)?,
            Param::Text(v) => stmt.raw_bind_parameter(index, v.as_deref())?,
        }
    }
    Ok(())
}

/// The direct writer's connection: inside the transaction `Writer::run`
/// holds (or a savepoint of it, through `&*savepoint`), or in autocommit.
impl Exec for &rusqlite::Connection {
    type Row = OwnedRow;

    fn backend(&self) -> Backend {
        Backend::Sqlite
    }

    async fn execute<'q>(&mut self, sql: &'q str, params: Vec<Param<'q>>) -> Result<u64, DbError> {
        let mut stmt = self.prepare_cached(sql)?;
        bind_direct(&mut stmt, params)?;
        Ok(stmt.raw_execute()? as u64)
    }

    async fn fetch<'q>(
        &mut self,
        sql: &'q str,
        params: Vec<Param<'q>>,
    ) -> Result<Vec<OwnedRow>, DbError> {
        let mut stmt = self.prepare_cached(sql)?;
        bind_direct(&mut stmt, params)?;
        let names: std::sync::Arc<[String]> =
            stmt.column_names().into_iter().map(String::from).collect();
        let mut rows = stmt.raw_query();
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            let values = (0..names.len())
                .map(|i| row.get::<_, Value>(i))
                .collect::<Result<_, _>>()?;
            out.push(OwnedRow {
                names: names.clone(),
                values,
            });
        }
        Ok(out)
    }
}

/// The pool outside a transaction: each statement commits.
impl Exec for &sqlx::AnyPool {
    type Row = sqlx::any::AnyRow;

    fn backend(&self) -> Backend {
        match self.connect_options().database_url.scheme() {
            "sqlite" => Backend::Sqlite,
            _ => Backend::Postgres,
        }
    }

    async fn execute<'q>(&mut self, sql: &'q str, params: Vec<Param<'q>>) -> Result<u64, DbError> {
        let done = bind(sqlx::query(sql), params).execute(*self).await?;
        Ok(done.rows_affected())
    }

    async fn fetch<'q>(
        &mut self,
        sql: &'q str,
        params: Vec<Param<'q>>,
    ) -> Result<Vec<Self::Row>, DbError> {
        Ok(bind(sqlx::query(sql), params).fetch_all(*self).await?)
    }
}

/// A direct write that waited ([`run_ready`]): a bug, never a user's fault.
pub(crate) fn waited(what: &str) -> DbError {
    DbError::Query(sqlx::Error::Protocol(format!(
        "a direct SQLite write of {what} waited"
    )))
}

/// Runs a future that never waits (the direct writer's statements) to its
/// end on this thread; `None` if it waited, which would be a bug in the
/// caller: reported, not spun on.
pub(crate) fn run_ready<T>(f: impl Future<Output = T>) -> Option<T> {
    let mut f = std::pin::pin!(f);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    match f.as_mut().poll(&mut cx) {
        std::task::Poll::Ready(out) => Some(out),
        std::task::Poll::Pending => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `$n` bind by number wherever and however often they appear (SQLite
    /// numbers parameters by first appearance); `?` by position.
    #[test]
    fn direct_parameters_bind_by_number_and_rows_decode_strictly() {
        // Before any connection of this process (see `sqlite_alloc`'s test).
        crate::db::sqlite_alloc::install();
        let mut conn = rusqlite::Connection::open_in_memory().unwrap();
        let sp = conn.savepoint().unwrap();
        let mut tx = &*sp;
        let rows = run_ready(tx.fetch(
            "SELECT $2 AS b, $1 AS a, $2 || $1 AS ba, $3 AS n",
            vec![text("x"), text("y"), Param::Int(None)],
        ))
        .unwrap()
        .unwrap();
        assert_eq!(rows[0].text("b").unwrap(), "y");
        assert_eq!(rows[0].text("a").unwrap(), "x");
        assert_eq!(rows[0].text("ba").unwrap(), "yx");
        assert_eq!(rows[0].opt_int("n").unwrap(), None);
        assert!(rows[0].int("a").is_err(), "text is not read as a number");
        assert!(rows[0].text("missing").is_err());
        let rows = run_ready(tx.fetch(
            "SELECT ? + ? AS s",
            vec![Param::Int(Some(2)), Param::Int(Some(40))],
        ))
        .unwrap()
        .unwrap();
        assert_eq!(rows[0].int("s").unwrap(), 42);
        run_ready(Exec::execute(&mut tx, "CREATE TABLE t (x INTEGER)", vec![]))
            .unwrap()
            .unwrap();
        let n = run_ready(Exec::execute(
            &mut tx,
            "INSERT INTO t VALUES ($1), ($1)",
            vec![Param::Int(Some(7))],
        ))
        .unwrap()
        .unwrap();
        assert_eq!(n, 2, "rows changed");
    }
}
