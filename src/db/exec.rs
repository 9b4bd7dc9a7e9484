//! The statements of a write, in a transaction or on the pool: the order
//! and billing-run writes are written once against [`Exec`].

use std::borrow::Cow;
use std::future::Future;

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

/// An open transaction, or the pool (each statement commits).
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
