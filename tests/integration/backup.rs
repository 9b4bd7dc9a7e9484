//! `billing-center backup` / `restore` on both backends: a backup taken while
//! the app runs restores into an empty database with every invoice.

use std::process::Command;

use crate::helpers::{TestApp, backends, fresh_database_url};

async fn invoice_numbers(db: &billing_center::db::Db) -> Vec<String> {
    sqlx::query_as::<_, (String,)>("SELECT number FROM invoices ORDER BY number")
        .fetch_all(&db.pool)
        .await
        .unwrap()
        .into_iter()
        .map(|(n,)| n)
        .collect()
}

fn cli(url: &str, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_billing-center"))
        .args(args)
        .env("DATABASE_URL", url)
        .env("RUST_LOG", "off")
        .output()
        .unwrap()
}

#[tokio::test]
async fn a_backup_restores_every_invoice() {
    for backend in backends() {
        let app = TestApp::spawn_seeded(backend).await;
        let before = invoice_numbers(&app.db).await;
        assert!(before.len() >= 5, "{before:?}");
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("backup.bin");
        let file = file.to_str().unwrap();
        let out = cli(&app.url, &["backup", file]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        // A second backup to the same file is refused, not overwritten.
        let again = cli(&app.url, &["backup", file]);
        assert!(!again.status.success());
        assert!(String::from_utf8_lossy(&again.stderr).starts_with("error: "));

        // Restore into an empty database.
        let target = fresh_database_url(backend, dir.path()).await;
        let out = cli(&target, &["restore", file]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let restored = billing_center::db::Db::connect(&target).await.unwrap();
        assert_eq!(invoice_numbers(&restored).await, before, "{backend:?}");
        // The restored database is usable by the app (migrations are current).
        restored.migrate().await.unwrap();

        // A file that is not a backup is refused with one line.
        let junk = dir.path().join("junk.db");
        std::fs::write(&junk, b"not a database").unwrap();
        let out = cli(&target, &["restore", junk.to_str().unwrap()]);
        assert!(!out.status.success());
        assert_eq!(String::from_utf8_lossy(&out.stderr).lines().count(), 1);
    }
}
