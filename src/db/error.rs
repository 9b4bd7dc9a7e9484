//! The data layer's one error type.

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
    /// A stored value that does not read as its type: a corrupt row is an
    /// error naming where it is, never a default.
    #[error("bad value {value:?} in {table}.{column} (row {row}): {reason}")]
    BadValue {
        table: &'static str,
        column: &'static str,
        row: i64,
        value: String,
        reason: String,
    },
    /// A transient error met by a group of orders written together
    /// (`group_commit`), as each of them receives it.
    #[error("database unavailable: {0}")]
    Unavailable(String),
}

impl DbError {
    /// A unique index refused the row (PostgreSQL 23505; SQLite 2067, or
    /// 1555 for a primary key).
    pub fn is_unique_violation(&self) -> bool {
        match self {
            DbError::Query(sqlx::Error::Database(d)) => {
                d.is_unique_violation()
                    || matches!(d.code().as_deref(), Some("23505" | "2067" | "1555"))
            }
            _ => false,
        }
    }

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
