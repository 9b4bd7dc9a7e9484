//! `billing-center backup FILE` / `restore FILE`.
//!
//! SQLite: `VACUUM INTO`, a consistent copy taken online (the server keeps
//! running); restore checks the copy's integrity, then replaces the database
//! file (with the server stopped). PostgreSQL: `pg_dump`/`pg_restore` in the
//! custom format, the tools of the server's own package.

use std::path::Path;
use std::process::Command;

use super::startup::StartupError;
use crate::db::{Backend, Db};

fn pg_tool(name: &str) -> String {
    // Debian puts the versioned tools outside PATH; prefer the newest.
    let mut dirs: Vec<_> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path().join("bin").join(name))
        .filter(|p| p.exists())
        .collect();
    dirs.sort();
    dirs.pop()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| name.to_string())
}

fn run_tool(mut c: Command, what: &str) -> Result<(), StartupError> {
    let out = c
        .output()
        .map_err(|e| StartupError::Usage(format!("{what}: {e}")))?;
    if out.status.success() {
        Ok(())
    } else {
        let err = String::from_utf8_lossy(&out.stderr);
        Err(StartupError::Usage(format!(
            "{what} failed: {}",
            crate::db::redact(err.lines().next().unwrap_or(""))
        )))
    }
}

pub async fn backup(url: &str, to: &Path) -> Result<(), StartupError> {
    if to.exists() {
        return Err(StartupError::Usage(format!(
            "{} already exists: choose a new file",
            to.display()
        )));
    }
    let db = Db::connect(url).await?;
    match db.backend {
        Backend::Sqlite => crate::db::backup_sqlite(&db, &to.display().to_string())
            .await
            .map_err(StartupError::from),
        Backend::Postgres => {
            let mut c = Command::new(pg_tool("pg_dump"));
            c.args(["--format=custom", "--no-owner", "--file"])
                .arg(to)
                .arg(url);
            run_tool(c, "pg_dump")
        }
    }
}

pub async fn restore(url: &str, from: &Path) -> Result<(), StartupError> {
    if !from.exists() {
        return Err(StartupError::Usage(format!("{} not found", from.display())));
    }
    if url.starts_with("postgres") {
        let mut c = Command::new(pg_tool("pg_restore"));
        c.args(["--clean", "--if-exists", "--no-owner", "--dbname"])
            .arg(url)
            .arg(from);
        return run_tool(c, "pg_restore");
    }
    // Check the copy before it replaces anything.
    let copy = Db::connect(&format!("sqlite://{}", from.display())).await?;
    crate::db::check_sqlite(&copy).await?;
    copy.pool.close().await;
    let target = crate::db::sqlite_path(url).ok_or_else(|| {
        StartupError::Usage("restore needs a sqlite://PATH or postgres:// URL".into())
    })?;
    for suffix in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{target}{suffix}"));
    }
    std::fs::copy(from, &target)
        .map_err(|e| StartupError::Usage(format!("cannot write {target}: {e}")))?;
    Ok(())
}
