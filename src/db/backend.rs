//! Which database a URL names, and the settings each backend runs with.

use std::path::Path;
use std::str::FromStr;

use super::error::DbError;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
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

/// Validates the scheme and, for SQLite, makes sure the directory exists and
/// the file will be created (`mode=rwc`).
pub(super) fn normalize(url: &str) -> Result<(Backend, String), DbError> {
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

/// The file path of a `sqlite://PATH` URL.
pub fn sqlite_path(url: &str) -> Option<String> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or(rest);
    (!path.is_empty() && path != ":memory:").then(|| path.to_string())
}
