//! Email delivery to a real SMTP server (aiosmtpd from PyPI, writing a
//! maildir), including an outage: nothing is lost.

use std::process::{Child, Command};

use billing_center::server::mailer::Mailer;
use serde_json::{Value, json};

use crate::helpers::{TestApp, backends, free_port};

/// A real SMTP server storing what it receives in `dir` (a maildir);
/// stopped when dropped, also when a test fails.
struct Sink(Child);

impl Drop for Sink {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn smtp_sink(port: u16, dir: &std::path::Path) -> Sink {
    let sink = Sink(
        Command::new("python3")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .args([
                "-m",
                "aiosmtpd",
                "-n",
                "-l",
                &format!("127.0.0.1:{port}"),
                "-c",
                "aiosmtpd.handlers.Mailbox",
            ])
            .arg(dir)
            .spawn()
            .expect("python3 -m aiosmtpd (pip install aiosmtpd)"),
    );
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return sink;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    panic!("SMTP sink did not start");
}

/// The invoice `number` attached as its PDF, and a link to its page on
/// the public URL.
fn assert_carries_its_invoice(mail: &str, number: &str) {
    assert!(mail.contains("Content-Type: application/pdf"), "{mail}");
    assert!(
        mail.contains(&format!("filename=\"{number}.pdf\"")),
        "{number}: {mail}"
    );
    // Quoted-printable without its soft line breaks.
    let flat = mail.replace("=\r\n", "").replace("=\n", "");
    assert!(flat.contains("%PDF-") || flat.contains("JVBERi0"), "{mail}");
    assert!(flat.contains("/billing/invoices/"), "{mail}");
}

fn received(dir: &std::path::Path) -> Vec<String> {
    std::fs::read_dir(dir.join("new"))
        .map(|entries| {
            entries
                .filter_map(|e| std::fs::read_to_string(e.ok()?.path()).ok())
                .collect()
        })
        .unwrap_or_default()
}

async fn place_an_order(app: &TestApp) -> String {
    let s = app.sign_in("trial@demo.test").await;
    let o: Value = s.ok("overview", &[]).await;
    let id = o["cards"][0]["id"].as_i64().unwrap();
    s.json("put_cart_item", json!({"item": {"type": "subscribe", "subscription_id": id, "product": "webinar", "plan": {"level": "standard", "seats": 1, "frequency": "monthly"}}, "replace": true})).await;
    crate::helpers::browser_saves_card(&s, "4242424242424242", "12/30")
        .await
        .unwrap();
    let c: Value = s.ok("checkout", &[]).await;
    let r: Value = s
        .form(
            "place_order",
            &[
                ("key", c["idempotency_key"].as_str().unwrap()),
                ("expected_total", "154.80"),
                ("cart_digest", c["cart_digest"].as_str().unwrap()),
            ],
        )
        .await
        .json()
        .await
        .unwrap();
    r["invoice_number"].as_str().unwrap().to_string()
}

/// The mailer `serve` would make of these settings (variables of the
/// configuration), with the defaults for the rest.
pub fn mailer(vars: &[(&str, &str)]) -> Mailer {
    let config = billing_center::server::config::Config::load(None, &|k| {
        vars.iter()
            .find(|(n, _)| *n == k)
            .map(|(_, v)| v.to_string())
    })
    .unwrap();
    Mailer::new(config.smtp.as_ref().unwrap(), &config.identity.from).unwrap()
}

#[tokio::test]
async fn the_confirmation_email_reaches_the_smtp_server_even_after_an_outage() {
    for backend in backends() {
        let app = TestApp::spawn_seeded(backend).await;
        let number = place_an_order(&app).await;
        let port = free_port();
        let mailer = mailer(&[("SMTP_URL", &format!("smtp://127.0.0.1:{port}"))]);
        let now = chrono::Utc::now();

        // SMTP down: the attempt fails and the email stays in the outbox.
        let d = mailer.deliver_pending(&app.db, now).await.unwrap();
        assert_eq!((d.sent, d.failed), (0, 1), "{backend:?}");
        // Not retried before its backoff…
        let d = mailer.deliver_pending(&app.db, now).await.unwrap();
        assert_eq!((d.sent, d.failed), (0, 0));

        // …and delivered once the server is back.
        let dir = tempfile::tempdir().unwrap();
        // A path that does not exist yet: the handler creates the maildir.
        let maildir = dir.path().join("maildir");
        let sink = smtp_sink(port, &maildir);
        let d = mailer
            .deliver_pending(&app.db, now + chrono::Duration::minutes(2))
            .await
            .unwrap();
        let (last_error,): (Option<String>,) =
            sqlx::query_as("SELECT last_error FROM email_outbox ORDER BY id DESC LIMIT 1")
                .fetch_one(&app.db.pool)
                .await
                .unwrap();
        assert_eq!((d.sent, d.failed), (1, 0), "{last_error:?}");
        let mails = received(&maildir);
        drop(sink);
        assert_eq!(mails.len(), 1);
        assert!(
            mails[0].contains(&format!(
                "Subject: Confirmation de votre commande : facture {number}"
            )),
            "{}",
            mails[0]
        );
        assert!(mails[0].contains("To: trial@demo.test"));
        assert_carries_its_invoice(&mails[0], &number);
        assert!(
            mails[0].contains("Total TTC: 154,80=C2=A0=E2=82=AC")
                || mails[0].contains("Total TTC: 154,80\u{a0}€"),
            "{}",
            mails[0]
        );
        // Sent once: a further run sends nothing.
        assert_eq!(
            mailer
                .deliver_pending(&app.db, now + chrono::Duration::hours(2))
                .await
                .unwrap()
                .sent,
            0
        );
    }
}

/// SMTP down for a whole month-end run: every renewal receipt waits in the
/// outbox through repeated failed attempts, then each one arrives exactly
/// once when the server is back.
#[tokio::test]
async fn smtp_down_for_a_whole_billing_run_then_every_email_arrives_once() {
    use crate::helpers::{active_monthly, online_account_with_card};
    use billing_center::db::subscriptions;
    use billing_center::server::billing_run::{AsOf, run};
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let today = billing_center::server::clock::local_date(chrono::Utc::now(), "Europe/Paris");
        let start = today.checked_sub_months(chrono::Months::new(1)).unwrap();
        for i in 0..40 {
            let (a, _) = online_account_with_card(
                &app.db,
                &format!("Outage {i}"),
                &format!("outage{i}@demo.test"),
            )
            .await;
            for (product, level) in [
                ("webinar", "lite"),
                ("meeting", "business"),
                ("training", "starter"),
            ] {
                subscriptions::insert_subscription(
                    &app.db,
                    &active_monthly(a, product, level, start, 100),
                )
                .await
                .unwrap();
            }
        }
        let report = run(&app.state(), AsOf::Now).await.unwrap();
        assert_eq!(report.renewed, 120, "{backend:?}: {report:?}");
        let outbox: Vec<(String,)> =
            sqlx::query_as("SELECT to_addr FROM email_outbox WHERE sent_at IS NULL")
                .fetch_all(&app.db.pool)
                .await
                .unwrap();
        assert!(outbox.len() >= 120, "{}", outbox.len());

        let port = free_port();
        let mailer = mailer(&[("SMTP_URL", &format!("smtp://127.0.0.1:{port}"))]);
        let t0 = chrono::Utc::now();
        // Down all along: attempts over two hours, each one failing.
        let mut failed = 0;
        for minutes in [0, 1, 2, 5, 10, 30, 60, 120] {
            let at = t0 + chrono::Duration::minutes(minutes);
            loop {
                let d = mailer.deliver_pending(&app.db, at).await.unwrap();
                assert_eq!(d.sent, 0);
                failed += d.failed;
                if d.failed == 0 {
                    break;
                }
            }
        }
        assert!(
            failed >= 2 * outbox.len() as u32,
            "{failed} failed attempts"
        );

        // Back: everything goes out, once.
        let dir = tempfile::tempdir().unwrap();
        let maildir = dir.path().join("maildir");
        let sink = smtp_sink(port, &maildir);
        let mut sent = 0;
        for hours in [3, 4, 5, 6] {
            loop {
                let d = mailer
                    .deliver_pending(&app.db, t0 + chrono::Duration::hours(hours))
                    .await
                    .unwrap();
                assert_eq!(d.failed, 0, "{backend:?}: failed with the server up");
                sent += d.sent;
                if d.sent == 0 {
                    break;
                }
            }
        }
        let mails = received(&maildir);
        drop(sink);
        assert_eq!(sent as usize, outbox.len(), "{backend:?}");
        assert_eq!(mails.len(), outbox.len(), "{backend:?}: lost or duplicated");
        let mut expected: Vec<String> = outbox.into_iter().map(|(to,)| to).collect();
        let mut got: Vec<String> = mails
            .iter()
            .filter_map(|m| {
                m.lines()
                    .find_map(|l| l.strip_prefix("To: "))
                    .map(str::to_string)
            })
            .collect();
        expected.sort();
        got.sort();
        assert_eq!(got, expected, "{backend:?}: each recipient once per email");
        // Every renewal receipt carries its invoice.
        for m in &mails {
            let number = m
                .lines()
                .find_map(|l| {
                    l.split("invoice ")
                        .nth(1)
                        .filter(|_| l.starts_with("Subject: "))
                })
                .unwrap_or_else(|| panic!("no invoice number in the subject: {m}"))
                .trim();
            assert_carries_its_invoice(m, number);
        }
        println!(
            "smtp outage {backend:?}: {} emails from one billing run, {failed} failed attempts over 2 h of outage, then {sent} delivered, each once",
            mails.len()
        );
    }
}

/// Two servers on one PostgreSQL database, each with its own pool and
/// mailer, deliver the same outbox at the same instants: every email
/// reaches the SMTP server exactly once (each is claimed by one of them,
/// `FOR UPDATE SKIP LOCKED`), and both took part.
#[tokio::test]
async fn two_servers_on_one_postgres_send_each_email_once() {
    use billing_center::db::{Backend, Db};
    if !backends().contains(&Backend::Postgres) {
        return; // no PostgreSQL on this machine (make test requires it)
    }
    const EMAILS: usize = 300;
    let app = TestApp::spawn(Backend::Postgres).await;
    let now = chrono::Utc::now();
    let at = billing_center::db::instant_text(now);
    queue_numbered_emails(&app, EMAILS, &at).await;
    let dir = tempfile::tempdir().unwrap();
    let maildir = dir.path().join("maildir");
    let port = free_port();
    let sink = smtp_sink(port, &maildir);
    let second = Db::connect(&app.url).await.unwrap();
    let deliver = |db: Db| async move {
        let mailer = mailer(&[("SMTP_URL", &format!("smtp://127.0.0.1:{port}"))]);
        let mut sent = 0;
        // The instants both servers' mailers tick at, in step.
        for tick in 0..20 {
            let d = mailer
                .deliver_pending(&db, now + chrono::Duration::seconds(tick))
                .await
                .unwrap();
            assert_eq!(d.failed, 0);
            sent += d.sent;
        }
        sent
    };
    let (a, b) = tokio::join!(deliver(app.db.clone()), deliver(second));
    let mails = received(&maildir);
    drop(sink);
    let (subjects, expected) = (sorted_subjects(&mails), numbered_subjects(EMAILS));
    println!(
        "two servers, one PostgreSQL: {EMAILS} emails, {a} sent by one, {b} by the other, {} received",
        mails.len()
    );
    assert_eq!(subjects, expected, "each email exactly once");
    assert_eq!(a as usize + b as usize, EMAILS);
    assert!(a > 0 && b > 0, "both servers delivered: {a} and {b}");
    let (unsent,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM email_outbox WHERE sent_at IS NULL")
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    assert_eq!(unsent, 0);
}

/// Two `billing-center serve` processes on one PostgreSQL database, each
/// with its own mailer on its own schedule, and one SMTP server: every
/// queued email arrives exactly once.
#[tokio::test]
async fn two_server_processes_on_one_postgres_deliver_each_email_once() {
    use billing_center::db::Backend;
    if !backends().contains(&Backend::Postgres) {
        return; // no PostgreSQL on this machine (make test requires it)
    }
    const EMAILS: usize = 300;
    let app = TestApp::spawn(Backend::Postgres).await;
    let dir = tempfile::tempdir().unwrap();
    let maildir = dir.path().join("maildir");
    let smtp = free_port();
    let sink = smtp_sink(smtp, &maildir);
    let servers: Vec<ServerProcess> = (0..2)
        .map(|n| {
            let log = dir.path().join(format!("server{n}.log"));
            ServerProcess::start(&app.url, smtp, &log)
        })
        .collect();
    let at = billing_center::db::now_text();
    queue_numbered_emails(&app, EMAILS, &at).await;
    // Each mailer ticks every 5 s; both run until nothing is left.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(90);
    loop {
        let (unsent,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM email_outbox WHERE sent_at IS NULL")
                .fetch_one(&app.db.pool)
                .await
                .unwrap();
        if unsent == 0 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{unsent} emails still unsent; logs: {}",
            servers.iter().map(ServerProcess::log).collect::<String>()
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    // A second sweep by either server would show up as a duplicate.
    tokio::time::sleep(std::time::Duration::from_secs(6)).await;
    drop(servers);
    let mails = received(&maildir);
    drop(sink);
    let (subjects, expected) = (sorted_subjects(&mails), numbered_subjects(EMAILS));
    println!(
        "two server processes, one PostgreSQL: {EMAILS} emails queued, {} received",
        mails.len()
    );
    assert_eq!(subjects, expected, "each email exactly once");
}

/// A `billing-center serve` process with SMTP on `smtp`; killed when dropped.
struct ServerProcess {
    child: Child,
    log: std::path::PathBuf,
}

impl ServerProcess {
    fn start(url: &str, smtp: u16, log: &std::path::Path) -> ServerProcess {
        let out = std::fs::File::create(log).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_billing-center"))
            .arg("serve")
            .env("DATABASE_URL", url)
            .env("SMTP_URL", format!("smtp://127.0.0.1:{smtp}"))
            .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{}", free_port()))
            .env("LEPTOS_OUTPUT_NAME", "billing-center")
            .env(
                "CATALOG_PATH",
                concat!(env!("CARGO_MANIFEST_DIR"), "/catalog.toml"),
            )
            .env("RUST_LOG", "warn")
            .stdout(std::process::Stdio::from(out.try_clone().unwrap()))
            .stderr(std::process::Stdio::from(out))
            .spawn()
            .unwrap();
        ServerProcess {
            child,
            log: log.to_path_buf(),
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Queues `n` emails due at `at`, with subjects "Email 0"…
async fn queue_numbered_emails(app: &TestApp, n: usize, at: &str) {
    for i in 0..n {
        sqlx::query(
            "INSERT INTO email_outbox (to_addr, subject, body_text, body_html, created_at, next_attempt_at)
             VALUES ($1, $2, 'text', '<p>html</p>', $3, $3)",
        )
        .bind(format!("customer{i}@demo.test"))
        .bind(format!("Email {i}"))
        .bind(at)
        .execute(&app.db.pool)
        .await
        .unwrap();
    }
}

/// The subjects of `mails`, sorted: one per delivery.
fn sorted_subjects(mails: &[String]) -> Vec<String> {
    let mut subjects: Vec<String> = mails
        .iter()
        .filter_map(|m| {
            m.lines()
                .find_map(|l| l.strip_prefix("Subject: "))
                .map(str::to_string)
        })
        .collect();
    subjects.sort();
    subjects
}

/// What [`sorted_subjects`] is when each of `n` numbered emails arrived once.
fn numbered_subjects(n: usize) -> Vec<String> {
    let mut expected: Vec<String> = (0..n).map(|i| format!("Email {i}")).collect();
    expected.sort();
    expected
}

/// A relay as companies run them, on a certificate made here: STARTTLS
/// (or TLS from the first byte, `implicit`) and a login required
/// (`tests/support/smtp_tls_sink.py`, aiosmtpd). The certificate's PEM is
/// returned for the mailer to trust.
fn tls_relay(port: u16, dir: &std::path::Path, implicit: bool) -> (Sink, std::path::PathBuf) {
    let certified =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".into(), "localhost".into()]).unwrap();
    let cert = dir.join("relay.pem");
    let key = dir.join("relay.key");
    std::fs::write(&cert, certified.cert.pem()).unwrap();
    std::fs::write(&key, certified.key_pair.serialize_pem()).unwrap();
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/support/smtp_tls_sink.py"
    );
    let mut command = Command::new("python3");
    command
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .arg(script)
        .args([
            "--port",
            &port.to_string(),
            "--user",
            "relay-user",
            "--password",
            "s3cret",
        ])
        .arg("--cert")
        .arg(&cert)
        .arg("--key")
        .arg(&key);
    if implicit {
        command.arg("--implicit");
    }
    let sink = Sink(
        command
            .arg(dir.join("maildir"))
            .spawn()
            .expect("python3 smtp_tls_sink.py"),
    );
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return (sink, cert);
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    panic!("TLS SMTP relay did not start");
}

async fn last_error(app: &TestApp) -> Option<String> {
    let (e,): (Option<String>,) =
        sqlx::query_as("SELECT last_error FROM email_outbox ORDER BY id DESC LIMIT 1")
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    e
}

/// STARTTLS with a login: refused with a wrong password or an untrusted
/// certificate (the email waits), delivered over TLS, logged in, with the
/// configured From, once both are right.
#[tokio::test]
async fn mail_goes_through_a_relay_that_requires_starttls_and_a_login() {
    let backend = backends()[0];
    let app = TestApp::spawn_seeded(backend).await;
    place_an_order(&app).await;
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let (sink, ca) = tls_relay(port, dir.path(), false);
    let url = format!("smtp://127.0.0.1:{port}");
    let ca = ca.to_str().unwrap();
    let settings = |password: &'static str, ca: &'static str| {
        mailer(&[
            ("SMTP_URL", url.as_str()),
            ("SMTP_USERNAME", "relay-user"),
            ("SMTP_PASSWORD", password),
            ("BC_SMTP_CA_CERT", ca),
            ("BC_EMAIL_FROM", "Acme Billing <billing@acme.example>"),
        ])
    };
    let ca: &'static str = Box::leak(ca.to_string().into_boxed_str());
    let mut now = chrono::Utc::now();

    let d = settings("wrong", ca)
        .deliver_pending(&app.db, now)
        .await
        .unwrap();
    assert_eq!((d.sent, d.failed), (0, 1));
    let error = last_error(&app).await.unwrap_or_default();
    assert!(error.contains("535"), "{error}");

    // The system's roots do not include the test's certificate.
    now += chrono::Duration::hours(2);
    let untrusted = mailer(&[
        ("SMTP_URL", url.as_str()),
        ("SMTP_USERNAME", "relay-user"),
        ("SMTP_PASSWORD", "s3cret"),
    ]);
    let d = untrusted.deliver_pending(&app.db, now).await.unwrap();
    assert_eq!((d.sent, d.failed), (0, 1), "{:?}", last_error(&app).await);
    assert!(received(&dir.path().join("maildir")).is_empty());

    now += chrono::Duration::hours(2);
    let d = settings("s3cret", ca)
        .deliver_pending(&app.db, now)
        .await
        .unwrap();
    assert_eq!((d.sent, d.failed), (1, 0), "{:?}", last_error(&app).await);
    let mails = relayed(&dir.path().join("maildir"));
    drop(sink);
    assert!(
        mails[0].contains("From: \"Acme Billing\" <billing@acme.example>")
            || mails[0].contains("From: Acme Billing <billing@acme.example>"),
        "{}",
        mails[0]
    );
    assert!(mails[0].contains("To: trial@demo.test"));
}

/// `smtps://`: TLS from the first byte, then the login.
#[tokio::test]
async fn mail_goes_through_a_relay_with_implicit_tls() {
    let app = TestApp::spawn_seeded(backends()[0]).await;
    place_an_order(&app).await;
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let (sink, ca) = tls_relay(port, dir.path(), true);
    let m = mailer(&[
        ("SMTP_URL", &format!("smtps://127.0.0.1:{port}")),
        ("SMTP_USERNAME", "relay-user"),
        ("SMTP_PASSWORD", "s3cret"),
        ("BC_SMTP_CA_CERT", ca.to_str().unwrap()),
    ]);
    let d = m
        .deliver_pending(&app.db, chrono::Utc::now())
        .await
        .unwrap();
    assert_eq!((d.sent, d.failed), (1, 0), "{:?}", last_error(&app).await);
    relayed(&dir.path().join("maildir"));
    drop(sink);
}

/// The one email the relay received in `maildir`, which came over TLS
/// from the logged-in user.
fn relayed(maildir: &std::path::Path) -> Vec<String> {
    let mails = received(maildir);
    assert_eq!(mails.len(), 1);
    assert!(mails[0].contains("X-Sink-TLS: TLSv1."), "{}", mails[0]);
    assert!(mails[0].contains("X-Sink-Login: relay-user"));
    mails
}
