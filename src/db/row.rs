//! Values as stored: how a row's columns are read, and how instants are
//! written.

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

/// Current UTC instant as RFC 3339 text (how instants are stored).
pub fn now_text() -> String {
    instant_text(chrono::Utc::now())
}

/// An instant as stored: fixed-width RFC 3339, so text order is time order.
pub fn instant_text(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}
