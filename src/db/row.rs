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
    table: (&'static str, &str),
    column: &'static str,
    parse: impl FnOnce(&str) -> Result<T, E>,
) -> Result<T, DbError> {
    let value = r.text(column)?;
    parse(&value).map_err(|e| bad(r, table, column, value, e.to_string()))
}

/// [`parsed`] for a nullable column: NULL is `None`.
pub(super) fn opt_parsed<T, E: std::fmt::Display>(
    r: &(impl Columns + ?Sized),
    table: (&'static str, &str),
    column: &'static str,
    parse: impl FnOnce(&str) -> Result<T, E>,
) -> Result<Option<T>, DbError> {
    match r.opt_text(column)? {
        None => Ok(None),
        Some(value) => parse(&value)
            .map(Some)
            .map_err(|e| bad(r, table, column, value, e.to_string())),
    }
}

/// A nullable ISO date column.
pub(super) fn opt_date(
    r: &(impl Columns + ?Sized),
    table: (&'static str, &str),
    column: &'static str,
) -> Result<Option<chrono::NaiveDate>, DbError> {
    opt_parsed(r, table, column, |v| v.parse::<chrono::NaiveDate>())
}

/// A stored value that breaks a rule spanning columns (half a period).
pub(super) fn bad_value(
    r: &(impl Columns + ?Sized),
    table: (&'static str, &str),
    column: &'static str,
    value: impl std::fmt::Debug,
    reason: &str,
) -> DbError {
    bad(r, table, column, format!("{value:?}"), reason.to_string())
}

/// [`DbError::BadValue`] for `column` of the row `r`, named by its
/// `id_column`.
fn bad(
    r: &(impl Columns + ?Sized),
    (table, id_column): (&'static str, &str),
    column: &'static str,
    value: String,
    reason: String,
) -> DbError {
    DbError::BadValue {
        table,
        column,
        row: r.int(id_column).unwrap_or(-1),
        value,
        reason,
    }
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

/// Entity ids bind and decode as the integer keys they are stored as.
macro_rules! stored_as_integer {
    ($($id:ty),*) => {$(
        impl sqlx::Type<sqlx::Any> for $id {
            fn type_info() -> sqlx::any::AnyTypeInfo {
                <i64 as sqlx::Type<sqlx::Any>>::type_info()
            }
            fn compatible(ty: &sqlx::any::AnyTypeInfo) -> bool {
                <i64 as sqlx::Type<sqlx::Any>>::compatible(ty)
            }
        }
        impl<'q> sqlx::Encode<'q, sqlx::Any> for $id {
            fn encode_by_ref(
                &self,
                buf: &mut <sqlx::Any as sqlx::Database>::ArgumentBuffer<'q>,
            ) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
                <i64 as sqlx::Encode<'q, sqlx::Any>>::encode_by_ref(&self.get(), buf)
            }
        }
        impl<'r> sqlx::Decode<'r, sqlx::Any> for $id {
            fn decode(value: sqlx::any::AnyValueRef<'r>) -> Result<Self, sqlx::error::BoxDynError> {
                <i64 as sqlx::Decode<'r, sqlx::Any>>::decode(value).map(<$id>::new)
            }
        }
    )*};
}

use crate::domain::ids::{
    AccountId, ApiKeyId, DeliveryId, EmailId, InvoiceId, OrderId, PaymentId, SubscriptionId,
    UserId, WebhookEndpointId,
};
stored_as_integer!(
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
