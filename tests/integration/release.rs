//! The release binary alone (`TEST_RELEASE_BIN`, which `make test` builds
//! with `cargo leptos build --release`): copied into an empty directory
//! with only a configuration file, it creates its SQLite database, serves
//! the portal with the client embedded and precompressed, and a billing
//! contact signs in and downloads an invoice. Skipped without the variable
//! unless `BC_REQUIRE_RELEASE` is set.

use std::path::PathBuf;
use std::process::{Command, Stdio};

use crate::helpers::{free_port, wait_until_up};

fn release_bin() -> Option<PathBuf> {
    match std::env::var("TEST_RELEASE_BIN") {
        Ok(p) if !p.is_empty() => Some(PathBuf::from(p)),
        _ if std::env::var("BC_REQUIRE_RELEASE").is_ok() => {
            panic!("BC_REQUIRE_RELEASE is set but TEST_RELEASE_BIN is not")
        }
        _ => None,
    }
}

/// The binary in `dir`, with no variable but PATH and HOME: nothing of
/// this checkout can reach it.
fn alone(dir: &std::path::Path, args: &[&str]) -> Command {
    let mut c = Command::new(dir.join("billing-center"));
    c.current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("RUST_LOG", "warn")
        .args(args);
    c
}

/// The first match of `/pkg/billing-center.<hash><ext>` in `html`.
fn asset(html: &str, ext: &str) -> String {
    let start = html
        .find("/pkg/billing-center.")
        .and_then(|_| {
            html.match_indices("/pkg/billing-center.")
                .map(|(i, _)| i)
                .find(|i| {
                    html[*i..]
                        .split('"')
                        .next()
                        .unwrap_or_default()
                        .ends_with(ext)
                })
        })
        .unwrap_or_else(|| panic!("no {ext} in the page"));
    html[start..].split('"').next().unwrap().to_string()
}

#[tokio::test]
async fn the_release_binary_runs_alone_from_an_empty_directory() {
    let Some(bin) = release_bin() else {
        eprintln!("skipped: TEST_RELEASE_BIN is not set");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(&bin, dir.path().join("billing-center")).unwrap();
    let port = free_port();
    let (code, example) = {
        let out = alone(dir.path(), &["config", "example"]).output().unwrap();
        (out.status.code(), String::from_utf8(out.stdout).unwrap())
    };
    assert_eq!(code, Some(0));
    let config = example
        .replace(
            "database_url = \"sqlite://data/billing-center.db\"",
            "database_url = \"sqlite://billing.db\"",
        )
        .replace(
            "public_url = \"https://billing.example.com\"",
            &format!("public_url = \"http://127.0.0.1:{port}\"\nlisten = \"127.0.0.1:{port}\""),
        );
    std::fs::write(dir.path().join("billing-center.toml"), config).unwrap();
    let seeded = alone(
        dir.path(),
        &["--config", "billing-center.toml", "seed-demo"],
    )
    .output()
    .unwrap();
    assert!(
        seeded.status.success(),
        "{}",
        String::from_utf8_lossy(&seeded.stderr)
    );
    let mut server = alone(dir.path(), &["--config", "billing-center.toml", "serve"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    wait_until_up(&base).await;
    let client = reqwest::Client::new();

    let page = client.get(format!("{base}/login")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("<title>Example Billing</title>"));
    let (wasm, js, css) = (
        asset(&html, ".wasm"),
        asset(&html, ".js"),
        asset(&html, ".css"),
    );
    let raw = client
        .get(format!("{base}{wasm}"))
        .header("Accept-Encoding", "identity")
        .send()
        .await
        .unwrap();
    assert!(raw.headers().get("content-encoding").is_none());
    let raw = raw.bytes().await.unwrap();
    assert!(raw.starts_with(b"\0asm"), "the WebAssembly module");
    let br = client
        .get(format!("{base}{wasm}"))
        .header("Accept-Encoding", "gzip, deflate, br")
        .send()
        .await
        .unwrap();
    assert_eq!(br.headers()["content-encoding"], "br");
    assert_eq!(
        br.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    let br = br.bytes().await.unwrap();
    // The bytes the benchmark's client-size table reports as served.
    let site = std::env::var("TEST_RELEASE_SITE")
        .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/target/site").into());
    let built = std::fs::read(format!("{site}{wasm}.br")).unwrap();
    assert_eq!(br.len(), built.len(), "served brotli = the built .br");
    let mut decoded = Vec::new();
    brotli_decompressor::BrotliDecompress(&mut br.as_ref(), &mut decoded).unwrap();
    assert_eq!(decoded, raw.as_ref(), "the brotli decodes to the module");
    for file in [&js, &css] {
        let r = client
            .get(format!("{base}{file}"))
            .header("Accept-Encoding", "br")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{file}");
        assert_eq!(r.headers()["content-encoding"], "br", "{file}");
    }

    // A billing contact signs in and downloads an invoice.
    let signed = client
        .post(format!("{base}/api/sign_in"))
        .header("Accept", "application/json")
        .form(&[
            ("email", "corporate@demo.test"),
            ("password", "billing-demo"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(signed.status(), 200);
    let cookie = signed.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let id = crate::helpers::newest_invoice_id(&client, &base, &cookie).await;
    let pdf = client
        .get(format!("{base}/billing/invoices/{id}/pdf"))
        .header("Cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(pdf.headers()["content-type"], "application/pdf");
    assert!(pdf.bytes().await.unwrap().starts_with(b"%PDF-"));
    let _ = server.kill();
    let _ = server.wait();
    assert!(
        dir.path().join("billing.db").exists(),
        "the database beside the binary"
    );
}
