//! Values as stored: how a row's columns are read, and how instants are
//! written.

use super::error::DbError;

/// A result row's columns by name.
pub(crate) trait Columns {
    fn text(&self, col: &str) -> Result<String, sqlx::Error>;
    fn opt_text(&self, col: &str) -> Result<Option<String>, sqlx::Error>;
    fn int(&self, col: &str) -> Result<i64, sqlx::Error>;
    fn opt_int(&self, col: &str) -> Result<Option<i64>, sqlx::Error>;
}

/// The text of `column` of `table`'s row `r` read as `T` by `parse`; a
/// value that does not parse is [`DbError::BadValue`] with the row's `id`
/// (or `id_column`'s).
pub(super) fn parsed<T, E: std::fmt::Display>(
    r: &(impl Columns + ?Sized),
    (table, id_column): (&'static str, &str),
    column: &'static str,
    parse: impl FnOnce(&str) -> Result<T, E>,
) -> Result<T, DbError> {
    let value = r.text(column)?;
    parse(&value).map_err(|e| DbError::BadValue {
        table,
        column,
        row: r.int(id_column).unwrap_or(-1),
        value,
        reason: e.to_string(),
    })
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

/// Current UTC instant as RFC 3339 text (how instants are stored).
pub fn now_text() -> String {
    instant_text(chrono::Utc::now())
}

/// An instant as stored: fixed-width RFC 3339, so text order is time order.
pub fn instant_text(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}
