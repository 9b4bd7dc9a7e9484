//! A bad DATABASE_URL, an unreachable server or an unwritable file: one clear
//! line and a non-zero exit from the real binary, never a panic.

use std::process::Command;

fn run_migrate(database_url: &str) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_billing-center"))
        .arg("migrate")
        .env("DATABASE_URL", database_url)
        .env(
            "CATALOG_PATH",
            concat!(env!("CARGO_MANIFEST_DIR"), "/catalog.toml"),
        )
        .env("RUST_LOG", "off")
        .output()
        .expect("run billing-center");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn assert_one_clear_line(stderr: &str, needle: &str) {
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "exactly one line, got: {stderr}");
    assert!(lines[0].starts_with("error: "), "{stderr}");
    assert!(lines[0].contains(needle), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn unknown_scheme() {
    let (code, err) = run_migrate("mysql://localhost/db");
    assert_ne!(code, 0);
    assert_one_clear_line(&err, "unsupported scheme");
}

#[test]
fn unreachable_postgres() {
    // Port 1 on loopback: nothing listens there.
    let (code, err) = run_migrate("postgres://u:secret@127.0.0.1:1/db");
    assert_ne!(code, 0);
    assert_one_clear_line(
        &err,
        "cannot connect to the database at postgres://u:***@127.0.0.1:1/db",
    );
    assert!(!err.contains("secret"), "password leaked: {err}");
}

#[test]
fn unwritable_sqlite_path() {
    let (code, err) = run_migrate("sqlite:///proc/billing-center/x.db");
    assert_ne!(code, 0);
    assert_one_clear_line(
        &err,
        "cannot create the SQLite database at /proc/billing-center/x.db",
    );
}

#[test]
fn bad_catalog_refuses_to_start() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("catalog.toml");
    std::fs::write(
        &path,
        billing_center::billing::catalog::DEMO_CATALOG_TOML.replacen(
            "max_seats = 50",
            "max_seats = 0",
            1,
        ),
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_billing-center"))
        .arg("migrate")
        .env(
            "DATABASE_URL",
            format!("sqlite://{}/db.sqlite", dir.path().display()),
        )
        .env("CATALOG_PATH", &path)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_ne!(out.status.code(), Some(0));
    assert_one_clear_line(&err, "product webinar, field min_seats");
    assert!(err.contains("catalog.toml"));
}

#[test]
fn failing_migration_is_reported() {
    // A database whose schema history claims a migration we do not have.
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("db.sqlite");
    let url = format!("sqlite://{}", db.display());
    let (code, _) = run_migrate(&url);
    assert_eq!(code, 0);
    let conn = Command::new("python3")
        .arg("-c")
        .arg(format!(
            "import sqlite3; c=sqlite3.connect('{}'); c.execute(\"INSERT INTO _sqlx_migrations VALUES (9999,'future',CURRENT_TIMESTAMP,1,x'00',0)\"); c.commit()",
            db.display()
        ))
        .status()
        .unwrap();
    assert!(conn.success());
    let (code, err) = run_migrate(&url);
    assert_ne!(code, 0);
    assert_one_clear_line(&err, "migration failed");
}

#[test]
fn unknown_command_and_help() {
    let out = Command::new(env!("CARGO_BIN_EXE_billing-center"))
        .arg("--help")
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("DATABASE_URL"));
    let out = Command::new(env!("CARGO_BIN_EXE_billing-center"))
        .arg("frobnicate")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}
