//! The one place where internal errors become user-safe ones: the cause goes
//! to the log, the user gets a clear sentence.

use crate::db::DbError;
use crate::error::AppError;

impl From<DbError> for AppError {
    fn from(e: DbError) -> Self {
        tracing::error!(error = %e, "database error");
        AppError::Internal
    }
}
