//! The statements of a write, in a transaction or on the pool: the order
//! and billing-run writes are written once against [`Exec`].

use std::borrow::Cow;
use std::future::Future;

use sqlx::{Any, Transaction};

use super::backend::Backend;
use super::error::DbError;
use super::row::Columns;

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

/// An optional date, as stored (ISO text).
pub(crate) fn opt_date(v: Option<chrono::NaiveDate>) -> Param<'static> {
    Param::Text(v.map(|d| Cow::Owned(d.to_string())))
}

/// An optional amount, in minor units.
pub(crate) fn opt_minor(v: Option<crate::billing::Money>) -> Param<'static> {
    Param::Int(v.map(crate::billing::Money::to_minor))
}

/// Entity ids bind as their integer keys.
macro_rules! id_params {
    ($($id:ty),*) => {$(
        impl From<$id> for Param<'_> {
            fn from(id: $id) -> Self {
                Param::Int(Some(id.get()))
            }
        }
        impl From<Option<$id>> for Param<'_> {
            fn from(id: Option<$id>) -> Self {
                Param::Int(id.map(<$id>::get))
            }
        }
    )*};
}

use crate::domain::ids::{
    AccountId, ApiKeyId, DeliveryId, EmailId, InvoiceId, OrderId, PaymentId, SubscriptionId,
    UserId, WebhookEndpointId,
};
id_params!(
    AccountId,
    UserId,
    SubscriptionId,
    OrderId,
    InvoiceId,
    EmailId,
    ApiKeyId,
    PaymentId,
    WebhookEndpointId,
    DeliveryId
);

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

/// `$from, …` for `count` parameters.
pub(super) fn placeholders(from: usize, count: usize) -> String {
    (from..from + count)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Under SQLite's default limit of 32,766 bound parameters (PostgreSQL's
/// is 65,535).
const MAX_PARAMS: usize = 30_000;

/// `{head} VALUES (…), (…){tail}` over `params`, `cols` to a row, in as few
/// statements as the parameter limit allows; the rows `tail` returns.
pub(super) async fn multi_row<E: Exec>(
    tx: &mut E,
    head: &str,
    cols: usize,
    tail: &str,
    params: Vec<Param<'_>>,
) -> Result<Vec<E::Row>, DbError> {
    debug_assert_eq!(params.len() % cols, 0);
    // Anonymous `?` on SQLite: sqlx looks every `$n` up by name, a linear
    // scan each in SQLite (quadratic in the parameters of a statement, 39 %
    // of a billing run's samples with 2,300 parameters per statement).
    let anonymous =
        (tx.backend() == Backend::Sqlite).then(|| format!("({})", vec!["?"; cols].join(", ")));
    let row = |r: usize| match &anonymous {
        Some(row) => row.clone(),
        None => format!("({})", placeholders(r * cols + 1, cols)),
    };
    let mut out = Vec::new();
    let mut params = params.into_iter().peekable();
    while params.peek().is_some() {
        let chunk: Vec<Param<'_>> = params.by_ref().take(MAX_PARAMS / cols * cols).collect();
        let values = (0..chunk.len() / cols)
            .map(row)
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!("{head} VALUES {values}{tail}");
        out.extend(tx.fetch(&sql, chunk).await?);
    }
    Ok(out)
}
