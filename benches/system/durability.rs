//! What the figures sit on, printed at the top of the report: the live
//! durability settings of each backend and the disk's fsync latency.

use std::io::Write;
use std::time::Instant;

use billing_center::db::Backend;

use crate::{Settings, fixtures, name};

/// One line per backend with its settings as the database reports them,
/// and the latency of a 4 KiB write + fdatasync in the directory the
/// SQLite files are created in.
pub async fn header(s: &Settings) -> String {
    let mut out = String::from("## What the figures sit on\n\n");
    for backend in s.backends() {
        let dir = tempfile::tempdir().unwrap();
        let (_, db) = fixtures::fresh(backend, dir.path(), s.pg.as_deref()).await;
        let settings = match backend {
            Backend::Sqlite => {
                let (mode,): (String,) = sqlx::query_as("PRAGMA journal_mode")
                    .fetch_one(&db.pool)
                    .await
                    .unwrap();
                let (sync,): (i64,) = sqlx::query_as("PRAGMA synchronous")
                    .fetch_one(&db.pool)
                    .await
                    .unwrap();
                let sync = match sync {
                    0 => "OFF",
                    1 => "NORMAL",
                    2 => "FULL",
                    3 => "EXTRA",
                    _ => "?",
                };
                format!("journal_mode = {mode}, synchronous = {sync}")
            }
            Backend::Postgres => {
                let mut shown = Vec::new();
                for setting in ["fsync", "synchronous_commit", "full_page_writes"] {
                    let (v,): (String,) = sqlx::query_as(&format!("SHOW {setting}"))
                        .fetch_one(&db.pool)
                        .await
                        .unwrap();
                    shown.push(format!("{setting} = {v}"));
                }
                shown.join(", ")
            }
        };
        out.push_str(&format!("- {}: {settings}\n", name(backend)));
    }
    let (p50, p99) = fsync_latency_us(&std::env::temp_dir(), 300);
    out.push_str(&format!(
        "- disk ({}): 4 KiB write + fdatasync, p50 {p50} µs, p99 {p99} µs (300 in a row)\n",
        std::env::temp_dir().display()
    ));
    out
}

/// p50 and p99 of `n` appends of 4 KiB, each followed by fdatasync.
fn fsync_latency_us(dir: &std::path::Path, n: usize) -> (u128, u128) {
    let path = dir.join(format!("bench-fsync-{}", std::process::id()));
    let mut file = std::fs::File::create(&path).unwrap();
    let block = [7u8; 4096];
    let mut times: Vec<u128> = (0..n)
        .map(|_| {
            let t = Instant::now();
            file.write_all(&block).unwrap();
            file.sync_data().unwrap();
            t.elapsed().as_micros()
        })
        .collect();
    let _ = std::fs::remove_file(&path);
    times.sort_unstable();
    (times[n / 2], times[n * 99 / 100])
}
