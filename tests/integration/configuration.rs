//! `billing-center.toml` through the real binary: `config example` is a
//! file `config check` accepts; a bad value stops `serve` with one line
//! naming the file, the key and why; a configured seller and brand reach
//! the pages, the invoices and the emails, on each backend.

use std::path::Path;
use std::process::Command;

use crate::helpers::{
    backends, call, customer_mid_period, free_port, fresh_database_url, offline_state,
    serve_process, session_cookie, upgrade_order_form, wait_until_up,
};

/// Runs the binary with only `env` set from the configuration's
/// variables; (exit code, stdout, stderr).
fn run(args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_billing-center"));
    for k in billing_center::server::config::keys::KEYS {
        command.env_remove(k.env);
    }
    let out = command
        .env_remove("BC_CONFIG")
        .args(args)
        .envs(env.iter().copied())
        .env("RUST_LOG", "off")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn one_error_line(stderr: &str) -> &str {
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "one line: {stderr}");
    assert!(lines[0].starts_with("error: "), "{stderr}");
    lines[0]
}

#[test]
fn the_example_checks_and_a_bad_value_stops_serve_naming_file_key_and_reason() {
    let dir = tempfile::tempdir().unwrap();
    let (code, example, _) = run(&["config", "example"], &[]);
    assert_eq!(code, 0);
    let good = dir.path().join("billing-center.toml");
    std::fs::write(&good, &example).unwrap();
    let good_s = good.to_str().unwrap();
    let (code, out, err) = run(&["config", "check", "--config", good_s], &[]);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with(&format!("{good_s}: ok\n")), "{out}");
    assert!(
        out.contains("seller: Example SAS, 1 place de l'Example"),
        "{out}"
    );
    // BC_CONFIG names the file when --config does not.
    let (code, out, _) = run(&["config", "check"], &[("BC_CONFIG", good_s)]);
    assert_eq!(code, 0);
    assert!(out.contains("product: Example Billing"), "{out}");

    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        example.replace("country = \"FR\"", "country = \"XX\""),
    )
    .unwrap();
    let bad_s = bad.to_str().unwrap();
    for args in [
        &["config", "check", "--config", bad_s][..],
        &["serve", "--config", bad_s][..],
        &["--config", bad_s][..],
    ] {
        let (code, out, err) = run(args, &[("DATABASE_URL", "sqlite::memory:")]);
        assert_eq!(code, 1, "{args:?}: {out}{err}");
        assert_eq!(
            one_error_line(&err),
            format!(
                "error: {bad_s}: seller.country: \"XX\" is not a country we can tax (FR, DE, BE, ES, IT, NL, GB, US)"
            )
        );
    }
    // A typo is not silently ignored.
    std::fs::write(&bad, example.replace("legal_name =", "legal_nam =")).unwrap();
    let (code, _, err) = run(&["config", "check", "--config", bad_s], &[]);
    assert_eq!(code, 1);
    assert!(
        one_error_line(&err).starts_with(&format!("error: {bad_s}: seller.legal_nam: unknown key"))
    );
    // A variable wins over the file, and is named when it is wrong.
    let (code, _, err) = run(
        &["config", "check", "--config", good_s],
        &[("BC_BRAND_COLOUR", "red")],
    );
    assert_eq!(code, 1);
    assert_eq!(
        one_error_line(&err),
        "error: BC_BRAND_COLOUR: \"red\" is not a colour written #rrggbb"
    );
    // A file that is not there.
    let (code, _, err) = run(&["config", "check", "--config", "/nonexistent.toml"], &[]);
    assert_eq!(code, 1);
    assert!(
        one_error_line(&err).starts_with("error: /nonexistent.toml: "),
        "{err}"
    );
}

const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR-not-a-real-image";

fn acme_config(dir: &Path) -> std::path::PathBuf {
    let logo = dir.join("logo.png");
    std::fs::write(&logo, PNG).unwrap();
    let path = dir.join("billing-center.toml");
    std::fs::write(
        &path,
        format!(
            r##"public_url = "https://billing.acme.example/"

[seller]
legal_name = "Acme GmbH"
address = "Unter den Linden 1, 10117 Berlin, Germany"
country = "DE"
vat_number = "DE123456789"
registration = "HRB 12345 B"
invoice_prefix = "ACME"
logo = "{}"

[brand]
product_name = "Acme Billing"
colour = "#aa3300"

[email]
from = "Acme Billing <billing@acme.example>"
support = "help@acme.example"
sales = "deals@acme.example"
"##,
            logo.display()
        ),
    )
    .unwrap();
    path
}

#[tokio::test]
async fn a_configured_seller_and_brand_reach_pages_invoices_and_emails() {
    for backend in backends() {
        let dir = tempfile::tempdir().unwrap();
        let url = fresh_database_url(backend, dir.path()).await;
        let state = offline_state(&url).await;
        let (account, user) = customer_mid_period(&state.db, "Kunde", "kunde@demo.test").await;
        let cookie = session_cookie(&state.db, user, 91_000).await;
        let config = acme_config(dir.path());
        let port = free_port();
        let base = format!("http://127.0.0.1:{port}");
        let env = [("BC_CONFIG", config.display().to_string())];
        let mut server = serve_process(&url, port, &dir.path().join("server.log"), &env);
        wait_until_up(&base).await;

        let page = reqwest::get(format!("{base}/help"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(page.contains("<title>Acme Billing</title>"), "{backend:?}");
        assert!(page.contains("\"product_name\":\"Acme Billing\""));
        assert!(page.contains("src=\"/brand/logo\""));
        let css = reqwest::get(format!("{base}/brand.css"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(css.contains("--brand: #aa3300"), "{css}");
        let logo = reqwest::get(format!("{base}/brand/logo")).await.unwrap();
        assert_eq!(logo.headers()["content-type"], "image/png");
        assert_eq!(logo.bytes().await.unwrap().as_ref(), PNG);

        let client = reqwest::Client::new();
        let form = upgrade_order_form(&client, &base, &cookie).await;
        let (status, order) = call(&client, &base, &cookie, "place_order", Err(form))
            .await
            .unwrap();
        assert_eq!(status, 200, "{backend:?}: {order}");
        let number = order["invoice_number"].as_str().unwrap();
        assert!(number.starts_with("ACME-"), "{number}");
        let id = crate::helpers::newest_invoice_id(&client, &base, &cookie).await;
        let (status, invoice) = call(
            &client,
            &base,
            &cookie,
            "invoice",
            Err(vec![("id".into(), id.to_string())]),
        )
        .await
        .unwrap();
        assert_eq!(status, 200, "{invoice}");
        assert_eq!(
            invoice["seller"],
            "Acme GmbH, Unter den Linden 1, 10117 Berlin, Germany. VAT DE123456789. HRB 12345 B."
        );
        let _ = server.kill();
        let _ = server.wait();

        let mail = billing_center::db::outbox::outbox(&state.db, account)
            .await
            .unwrap();
        let receipt = &mail[0];
        assert!(receipt.subject.contains(number), "{}", receipt.subject);
        assert!(
            receipt
                .body_text
                .contains("Acme Billing: https://billing.acme.example/billing"),
            "{}",
            receipt.body_text
        );
    }
}
