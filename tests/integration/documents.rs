//! Invoice PDFs (opened with an independent reader, pypdf) and the CSV
//! export of the invoice history, in both languages, with access checks.

use billing_center::billing::{Currency, Money};
use billing_center::i18n::Lang;
use billing_center::server::billing_run::{AsOf, run};
use chrono::Duration;
use serde_json::Value;

use crate::helpers::{Session, TestApp, backends};

/// Text of a PDF as pypdf extracts it; panics if pypdf cannot parse it.
pub(crate) fn pdf_text(bytes: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("invoice.pdf");
    std::fs::write(&path, bytes).unwrap();
    let out = std::process::Command::new("python3")
        .args([
            "-c",
            "import sys, pypdf\nr = pypdf.PdfReader(sys.argv[1], strict=True)\nprint('\\n'.join(p.extract_text() for p in r.pages))",
        ])
        .arg(&path)
        .output()
        .expect("python3 with pypdf (installed by make test)");
    assert!(
        out.status.success(),
        "pypdf could not read the PDF: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

async fn get(s: &Session, path: &str, lang: &str) -> reqwest::Response {
    s.client
        .get(format!("{}{path}", s.base))
        .header("Accept-Language", lang)
        .send()
        .await
        .unwrap()
}

async fn first_invoice(app: &TestApp, s: &Session) -> (i64, String, i64) {
    let page: Value = s.ok("invoices", &[]).await;
    let id = page["rows"][0]["id"].as_i64().expect("an invoice");
    let (number, total): (String, i64) =
        sqlx::query_as("SELECT number, total_minor FROM invoices WHERE id = $1")
            .bind(id)
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    (id, number, total)
}

/// pypdf renders no-break spaces as they are; compare on plain spaces.
pub(crate) fn plain(s: &str) -> String {
    s.replace(['\u{a0}', '\u{202f}'], " ")
}

#[tokio::test]
async fn invoice_pdf_in_french_and_english_with_legal_mentions() {
    for backend in backends() {
        let app = TestApp::spawn_seeded(backend).await;
        let s = app.sign_in("pending@demo.test").await;
        let (id, number, total) = first_invoice(&app, &s).await;
        let path = format!("/billing/invoices/{id}/pdf");

        let r = get(&s, &path, "fr-FR,fr;q=0.9").await;
        assert_eq!(r.status(), 200, "{backend:?}");
        assert_eq!(r.headers()["content-type"], "application/pdf");
        assert!(
            r.headers()["content-disposition"]
                .to_str()
                .unwrap()
                .contains(&format!("{number}.pdf"))
        );
        let text = plain(&pdf_text(&r.bytes().await.unwrap()));
        let total_fr = plain(&Lang::Fr.money(Money::from_minor(total, Currency::Eur)));
        for expected in [
            format!("Facture {number}"),
            "Vendeur".into(),
            "Billing Center Demo SAS".into(),
            "Client".into(),
            "Pending SAS".into(),
            "Date d'émission".into(),
            "TVA (20 %)".into(),
            "Total TTC".into(),
            total_fr.clone(),
            "Pénalités de retard".into(),
        ] {
            assert!(text.contains(&expected), "missing {expected:?} in:\n{text}");
        }

        let r = get(&s, &format!("{path}?lang=en"), "fr").await;
        let text = plain(&pdf_text(&r.bytes().await.unwrap()));
        let total_en = Lang::En.money(Money::from_minor(total, Currency::Eur));
        for expected in [
            format!("Invoice {number}"),
            "Seller".into(),
            "VAT (20%)".into(),
            "Total due (incl. VAT)".into(),
            total_en,
        ] {
            assert!(text.contains(&expected), "missing {expected:?} in:\n{text}");
        }
        assert!(!text.contains("Reverse charge"));

        // Someone else's invoice, a bad id, a non-billing contact, nobody.
        let other = app.sign_in("active@demo.test").await;
        assert_eq!(get(&other, &path, "en").await.status(), 404);
        assert_eq!(
            get(&s, "/billing/invoices/abc/pdf", "en").await.status(),
            404
        );
        let member = app.sign_in("member@demo.test").await;
        let r = get(&member, &path, "en").await;
        assert_eq!(r.status(), 403);
        assert!(r.text().await.unwrap().contains("trial@demo.test"));
        let r = get(&app.anonymous(), &path, "en").await;
        assert_eq!(r.status(), 303);
        assert_eq!(r.headers()["location"], "/login");
    }
}

#[tokio::test]
async fn reverse_charge_invoice_pdf_carries_the_mention() {
    for backend in backends() {
        let app = TestApp::spawn_seeded(backend).await;
        // Active GmbH (DE, VAT number) renews within a month: a real invoice.
        let today = billing_center::server::clock::local_date(chrono::Utc::now(), "Europe/Paris");
        run(&app.state(), AsOf::Date(today + Duration::days(31)))
            .await
            .unwrap();
        let s = app.sign_in("active@demo.test").await;
        let (id, _, _) = first_invoice(&app, &s).await;
        let path = format!("/billing/invoices/{id}/pdf");
        let text = plain(&pdf_text(
            &get(&s, &path, "en").await.bytes().await.unwrap(),
        ));
        assert!(text.contains("Reverse charge"), "{text}");
        assert!(text.contains("VAT number: DE123456789"), "{text}");
        assert!(text.contains("VAT (0%)"), "{text}");
        let text = plain(&pdf_text(
            &get(&s, &format!("{path}?lang=fr"), "en")
                .await
                .bytes()
                .await
                .unwrap(),
        ));
        assert!(text.contains("Autoliquidation"), "{text}");
    }
}

#[tokio::test]
async fn csv_export_lists_every_invoice_with_a_translated_header() {
    for backend in backends() {
        let app = TestApp::spawn_seeded(backend).await;
        let s = app.sign_in("corporate@demo.test").await;
        let r = get(&s, "/billing/invoices.csv", "fr-FR").await;
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["content-type"], "text/csv; charset=utf-8");
        let bytes = r.bytes().await.unwrap();
        assert!(
            bytes.starts_with(b"\xEF\xBB\xBF"),
            "a UTF-8 byte-order mark first"
        );
        let csv = String::from_utf8(bytes[3..].to_vec()).unwrap();
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(
            lines[0],
            "Date;Numéro;Début de période;Fin de période;Sous-total HT;Avoir déduit;HT;TVA;TTC;Avoir reporté;Devise;Statut"
        );
        let (count,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM invoices i JOIN users u ON u.account_id = i.account_id
             WHERE u.email = 'corporate@demo.test'",
        )
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
        assert_eq!(lines.len() as i64, count + 1);
        assert!(lines[1].ends_with(";EUR;À payer"), "{}", lines[1]);
        let (newest_total,): (i64,) = sqlx::query_as(
            "SELECT i.total_minor FROM invoices i JOIN users u ON u.account_id = i.account_id
             WHERE u.email = 'corporate@demo.test' ORDER BY i.id DESC LIMIT 1",
        )
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
        let total = Money::from_minor(newest_total, Currency::Eur).plain();
        assert!(
            lines[1].contains(&format!(";{};0,00;EUR;", total.replace('.', ","))),
            "{}",
            lines[1]
        );

        let csv = get(&s, "/billing/invoices.csv", "en-US")
            .await
            .text()
            .await
            .unwrap();
        assert!(
            csv.starts_with(
                "\u{feff}Date,Number,Period start,Period end,Subtotal,Credit applied,Net,VAT,Total,Credit carried forward,Currency,Status\r\n"
            )
        );
        assert!(
            csv.lines()
                .nth(1)
                .unwrap()
                .contains(&format!(",{total},0.00,EUR,"))
        );

        assert_eq!(
            get(&app.anonymous(), "/billing/invoices.csv", "en")
                .await
                .status(),
            303
        );
    }
}

/// Names in Polish, Danish and Greek print as typed (an embedded Unicode
/// font), read back by pypdf; a script the font lacks prints as `?`, and
/// the file stays a valid PDF/A.
#[tokio::test]
async fn names_in_polish_danish_and_greek_print_as_typed() {
    let app = TestApp::spawn_seeded(backends()[0]).await;
    let s = app.sign_in("pending@demo.test").await;
    let (id, _, _) = first_invoice(&app, &s).await;
    for name in [
        "Łukasz Wiśniewski sp. z o.o.",
        "Ørsted A/S, Ærøskøbing",
        "Παπαδόπουλος Α.Ε.",
        "Ёлка ООО",
    ] {
        sqlx::query("UPDATE invoices SET buyer_name = $1 WHERE id = $2")
            .bind(name)
            .bind(id)
            .execute(&app.db.pool)
            .await
            .unwrap();
        let r = get(&s, &format!("/billing/invoices/{id}/pdf"), "en").await;
        assert_eq!(r.status(), 200);
        let bytes = r.bytes().await.unwrap();
        let text = pdf_text(&bytes);
        assert!(text.contains(name), "{name} not in:\n{text}");
        let raw = String::from_utf8_lossy(&bytes);
        assert!(
            raw.contains("pdfaid:part>3<") || raw.contains("pdfaid:part=\"3\""),
            "PDF/A-3"
        );
    }
}
