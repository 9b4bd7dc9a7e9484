//! The operator's commands (`billing-center account|user|webhook …`) on
//! each backend: a real process on a fresh database.

use std::process::Command;

use billing_center::db::Db;

use crate::helpers::{backends, fresh_database_url};

/// Runs the binary on `url`; (exit code, stdout, stderr).
fn run(url: &str, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_billing-center"))
        .args(args)
        .env("DATABASE_URL", url)
        .env(
            "CATALOG_PATH",
            concat!(env!("CARGO_MANIFEST_DIR"), "/catalog.toml"),
        )
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

const GOOD: &str = "name,country,contact_email,contact_name,city,external_id,vat_number\n\
Acme,FR,boss@acme.example,Ana,Paris,acme-1,FR40303265045\n\
\"Globex, Inc.\",DE,ceo@globex.example,Gus,Berlin,,\n";

#[tokio::test]
async fn an_import_is_all_or_nothing_and_names_each_bad_row() {
    for backend in backends() {
        let dir = tempfile::tempdir().unwrap();
        let url = fresh_database_url(backend, dir.path()).await;
        let bad = dir.path().join("bad.csv");
        std::fs::write(
            &bad,
            format!("{GOOD}Initech,ZZ,peter@initech.example,Peter,,,\n,FR,x@x.example,X,,,\n"),
        )
        .unwrap();
        let (code, _, err) = run(&url, &["account", "import", bad.to_str().unwrap()]);
        assert_eq!(code, 1, "{err}");
        assert!(err.contains("line 4, country:"), "{err}");
        assert!(err.contains("line 5, name:"), "{err}");
        assert!(err.contains("2 problem(s)"), "{err}");
        let db = Db::connect(&url).await.unwrap();
        assert_eq!(billing_center::db::count(&db, "accounts").await.unwrap(), 0);

        let good = dir.path().join("good.csv");
        std::fs::write(&good, GOOD).unwrap();
        let (code, out, err) = run(
            &url,
            &["account", "import", good.to_str().unwrap(), "--invite"],
        );
        assert_eq!(code, 0, "{err}");
        assert!(out.contains("2 account(s) created"), "{out}");
        let (acme, _) = billing_center::db::accounts::find_login(&db, "boss@acme.example")
            .await
            .unwrap()
            .unwrap();
        assert!(acme.is_billing_contact);
        let account = billing_center::db::accounts::find_account(&db, acme.account_id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(account.external_id.as_deref(), Some("acme-1"));
        assert_eq!(account.address.city, "Paris");
        let mail = billing_center::db::outbox::outbox(&db, acme.account_id)
            .await
            .unwrap();
        assert_eq!(mail.len(), 1, "the invitation");
        assert!(
            mail[0].body_text.contains("/invitation/"),
            "{}",
            mail[0].body_text
        );

        // The same file again: its emails and id exist now; nothing more.
        let (code, _, err) = run(&url, &["account", "import", good.to_str().unwrap()]);
        assert_eq!(code, 1);
        assert!(
            err.contains("good.csv: line 2, contact_email: a user with this email exists"),
            "{err}"
        );
        assert!(err.contains("line 2, external_id"), "{err}");
        assert_eq!(billing_center::db::count(&db, "accounts").await.unwrap(), 2);
    }
}

#[tokio::test]
async fn accounts_users_and_webhooks_are_made_from_the_command_line() {
    for backend in backends() {
        let dir = tempfile::tempdir().unwrap();
        let url = fresh_database_url(backend, dir.path()).await;
        let (code, out, err) = run(
            &url,
            &[
                "account",
                "create",
                "--name",
                "Hooli",
                "--country",
                "FR",
                "--contact-email",
                "gavin@hooli.example",
                "--contact-name",
                "Gavin",
                "--time-zone",
                "Europe/Paris",
                "--language",
                "fr",
            ],
        );
        assert_eq!(code, 0, "{err}");
        assert!(out.contains("1 account(s) created"), "{out}");
        let (code, _, err) = run(
            &url,
            &[
                "account",
                "create",
                "--name",
                "Bad",
                "--country",
                "FR",
                "--contact-email",
                "x@x.example",
                "--contact-name",
                "X",
                "--time-zone",
                "Mars/Olympus",
            ],
        );
        assert_eq!(code, 1);
        assert_eq!(
            err.trim(),
            "error: time_zone: is not an IANA time zone (e.g. Europe/Paris)"
        );

        let db = Db::connect(&url).await.unwrap();
        let (gavin, _) = billing_center::db::accounts::find_login(&db, "gavin@hooli.example")
            .await
            .unwrap()
            .unwrap();
        let account = gavin.account_id.to_string();
        let (code, out, err) = run(
            &url,
            &[
                "user",
                "invite",
                "--account",
                &account,
                "--email",
                "jared@hooli.example",
                "--name",
                "Jared",
            ],
        );
        assert_eq!(code, 0, "{err}");
        assert!(
            out.contains("invitation emailed to jared@hooli.example"),
            "{out}"
        );
        let users = billing_center::db::accounts::users_of(&db, gavin.account_id)
            .await
            .unwrap();
        assert_eq!(users.len(), 2);
        let mail = billing_center::db::outbox::outbox(&db, gavin.account_id)
            .await
            .unwrap();
        assert_eq!(mail[0].to_addr, "jared@hooli.example");
        // In the account's language.
        assert!(mail[0].body_text.contains("/invitation/"));
        let (code, _, err) = run(
            &url,
            &[
                "user",
                "invite",
                "--account",
                "999",
                "--email",
                "a@b.example",
            ],
        );
        assert_eq!((code, err.trim()), (1, "error: no account 999"));

        let (code, out, err) = run(
            &url,
            &[
                "webhook",
                "add",
                "https://app.example.com/hooks",
                "--events",
                "invoice.paid,subscription.created",
            ],
        );
        assert_eq!(code, 0, "{err}");
        let secret = out.lines().last().unwrap();
        assert!(secret.starts_with("whsec_"), "{out}");
        let (code, _, err) = run(
            &url,
            &[
                "webhook",
                "add",
                "https://app.example.com/",
                "--events",
                "invoice.payed",
            ],
        );
        assert_eq!(code, 1);
        assert!(
            err.contains("unknown event type \"invoice.payed\""),
            "{err}"
        );
        let (_, list, _) = run(&url, &["webhook", "list"]);
        assert!(
            list.contains(
                "https://app.example.com/hooks\tinvoice.paid,subscription.created\tactive"
            ),
            "{list}"
        );
        let (code, out, _) = run(&url, &["webhook", "remove", "1"]);
        assert_eq!((code, out.trim()), (0, "webhook endpoint 1 removed"));
        let (code, _, err) = run(&url, &["webhook", "remove", "1"]);
        assert_eq!(code, 1, "{err}");
    }
}

#[test]
fn every_command_says_what_it_does() {
    let url = "sqlite:///nonexistent/never-opened.db";
    let (code, out, _) = run(url, &["--help"]);
    assert_eq!(code, 0);
    for command in [
        "serve",
        "migrate",
        "seed-demo",
        "bill",
        "backup",
        "restore",
        "api-key",
        "webhook",
        "account",
        "user",
    ] {
        assert!(out.contains(&format!("  {command} ")), "{command} in {out}");
    }
    for args in [
        &["account", "import", "--help"][..],
        &["account", "create", "--help"],
        &["user", "invite", "--help"],
        &["webhook", "add", "--help"],
        &["api-key", "create", "--help"],
        &["bill", "--help"],
    ] {
        let (code, out, err) = run(url, args);
        assert_eq!(code, 0, "{args:?}: {err}");
        assert!(
            out.lines().next().is_some_and(|l| l.len() > 20),
            "{args:?}: {out}"
        );
    }
    let (_, out, _) = run(url, &["account", "import", "--help"]);
    assert!(
        out.contains("contact_email") && out.contains("all or nothing"),
        "{out}"
    );
}
