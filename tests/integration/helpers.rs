//! `TestApp::spawn`: the app on a fresh database and a random port.

use billing_center::domain::{AccountId, UserId};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU32, Ordering};

use billing_center::db::{Backend, Db};
use billing_center::server::client_address::TrustedProxies;
use billing_center::server::config::Config;
use billing_center::server::payments::{PaymentGateway, TestGateway};
use billing_center::server::startup;
use billing_center::server::state::{AppState, Services};
use leptos::prelude::LeptosOptions;
use sqlx::Executor;
use std::sync::Arc;

pub struct TestApp {
    pub base: String,
    /// The database URL the app runs on.
    pub url: String,
    state: AppState,
    #[allow(dead_code)] // used by the order and billing-run tests
    pub db: Db,
    pub client: reqwest::Client,
    // Kept alive for the test's duration (the SQLite file lives in it).
    _dir: tempfile::TempDir,
}

fn default_gateway() -> Arc<dyn PaymentGateway> {
    Arc::new(TestGateway::default())
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// No reverse proxy in front: forwarding headers are ignored.
const NO_PROXY: TrustedProxies = TrustedProxies::none();

/// The backends to run each test on.
pub fn backends() -> Vec<Backend> {
    let mut b = vec![Backend::Sqlite];
    if std::env::var("TEST_POSTGRES_URL").is_ok() {
        b.push(Backend::Postgres);
    } else if std::env::var("BC_REQUIRE_POSTGRES").as_deref() == Ok("1") {
        panic!("BC_REQUIRE_POSTGRES=1 but TEST_POSTGRES_URL is not set");
    }
    b
}

/// A fresh, empty database URL for `backend`.
pub async fn fresh_database_url(backend: Backend, dir: &std::path::Path) -> String {
    match backend {
        Backend::Sqlite => format!("sqlite://{}/test.db", dir.display()),
        Backend::Postgres => {
            let admin = std::env::var("TEST_POSTGRES_URL").expect("TEST_POSTGRES_URL");
            let name = format!(
                "bc_test_{}_{}_{}",
                std::process::id(),
                COUNTER.fetch_add(1, Ordering::SeqCst),
                chrono::Utc::now().timestamp_micros()
            );
            let admin_db = Db::connect(&admin)
                .await
                .expect("connect to the test PostgreSQL");
            admin_db
                .pool
                .execute(format!("CREATE DATABASE {name}").as_str())
                .await
                .expect("create test database");
            admin_db.pool.close().await;
            let (base, _) = admin
                .rsplit_once('/')
                .expect("TEST_POSTGRES_URL has a database");
            format!("{base}/{name}")
        }
    }
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> TestApp {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = fresh_database_url(backend, dir.path()).await;
        let app = TestApp::spawn_on(&url, dir).await;
        assert_eq!(app.db.backend, backend);
        app
    }

    /// The app on a fresh database with a clock the test moves.
    pub async fn spawn_with_clock(
        backend: Backend,
        clock: std::sync::Arc<dyn billing_center::server::clock::Clock>,
    ) -> TestApp {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = fresh_database_url(backend, dir.path()).await;
        TestApp::spawn_on_with(&url, dir, clock, (default_gateway(), None), NO_PROXY).await
    }

    /// The app on the database at `url` (kept alive with `dir`).
    pub async fn spawn_on(url: &str, dir: tempfile::TempDir) -> TestApp {
        TestApp::spawn_on_with(
            url,
            dir,
            std::sync::Arc::new(billing_center::server::clock::SystemClock),
            (default_gateway(), None),
            NO_PROXY,
        )
        .await
    }

    /// The seeded demo on a fresh database, charging through `gateway`,
    /// made for the database at the URL it is given.
    pub async fn spawn_seeded_with_gateway(
        backend: Backend,
        gateway: impl FnOnce(&str) -> Arc<dyn PaymentGateway>,
    ) -> TestApp {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = fresh_database_url(backend, dir.path()).await;
        let clock = Arc::new(billing_center::server::clock::SystemClock);
        let app = TestApp::spawn_on_with(&url, dir, clock, (gateway(&url), None), NO_PROXY).await;
        app.seed().await;
        app
    }

    /// The seeded demo charging through Stripe (localstripe, `stripe`).
    pub async fn spawn_seeded_with_stripe(
        backend: Backend,
        stripe: billing_center::server::payments::StripeConfig,
    ) -> TestApp {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = fresh_database_url(backend, dir.path()).await;
        let clock = Arc::new(billing_center::server::clock::SystemClock);
        let gateway = billing_center::server::payments::StripeGateway::new(stripe.clone()).unwrap();
        let app = TestApp::spawn_on_with(
            &url,
            dir,
            clock,
            (Arc::new(gateway), Some(stripe)),
            NO_PROXY,
        )
        .await;
        app.seed().await;
        app
    }

    /// The seeded demo behind reverse proxies at `trusted` (CIDRs).
    pub async fn spawn_seeded_behind_proxies(backend: Backend, trusted: &str) -> TestApp {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = fresh_database_url(backend, dir.path()).await;
        let clock = Arc::new(billing_center::server::clock::SystemClock);
        let proxies = TrustedProxies::parse(trusted).unwrap();
        let app =
            TestApp::spawn_on_with(&url, dir, clock, (default_gateway(), None), proxies).await;
        app.seed().await;
        app
    }

    async fn spawn_on_with(
        url: &str,
        dir: tempfile::TempDir,
        clock: std::sync::Arc<dyn billing_center::server::clock::Clock>,
        (gateway, stripe): (
            Arc<dyn PaymentGateway>,
            Option<billing_center::server::payments::StripeConfig>,
        ),
        trusted_proxies: TrustedProxies,
    ) -> TestApp {
        let url = url.to_string();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr: SocketAddr = listener.local_addr().unwrap();
        let mut config = Config::with_database(&url);
        config.listen = addr;
        config.identity.public_url = format!("http://{addr}");
        config.return_origins = vec!["https://app.example.com".into()];
        config.trusted_proxies = trusted_proxies;
        let base = startup::offline_state(&config).await.expect("prepare app");
        let leptos_options = LeptosOptions::builder()
            .output_name("billing-center")
            .site_addr(addr)
            .build();
        let state = AppState::new(Services {
            leptos_options,
            clock,
            gateway,
            stripe,
            ..(*base).clone()
        });
        let db = state.db.clone();
        let app = startup::router(state.clone(), billing_center::site());
        tokio::spawn(async move {
            axum::serve(
                listener,
                app.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .await
            .unwrap();
        });
        TestApp {
            url,
            state,
            base: format!("http://{addr}"),
            db,
            client: reqwest::Client::builder()
                .timeout(REQUEST_TIMEOUT)
                .build()
                .unwrap(),
            _dir: dir,
        }
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap()
    }

    /// Calls a server function the way an HTML form does.
    pub async fn post_form(&self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        self.client
            .post(format!("{}{path}", self.base))
            .header("Accept", "application/json")
            .form(form)
            .send()
            .await
            .unwrap()
    }
}

impl TestApp {
    /// The app with the demo accounts.
    pub async fn spawn_seeded(backend: Backend) -> TestApp {
        let app = TestApp::spawn(backend).await;
        app.seed().await;
        app
    }

    pub async fn seed(&self) {
        let today = billing_center::server::clock::local_date(chrono::Utc::now(), "Europe/Paris");
        assert!(
            billing_center::server::seed::seed_demo(&self.db, today)
                .await
                .unwrap()
        );
    }

    /// A browser-like client (cookie jar, no automatic redirects), signed in.
    pub async fn sign_in(&self, email: &str) -> Session {
        let s = Session::new(&self.base);
        let res = s
            .form("sign_in", &[("email", email), ("password", "billing-demo")])
            .await;
        assert!(
            res.status().is_success() || res.status().is_redirection(),
            "sign in {email}: {}",
            res.status()
        );
        s
    }

    pub fn anonymous(&self) -> Session {
        Session::new(&self.base)
    }

    /// The state the server runs with (for calling services directly).
    pub fn state(&self) -> AppState {
        self.state.clone()
    }

    pub async fn count(&self, table: &'static str) -> i64 {
        billing_center::db::count(&self.db, table).await.unwrap()
    }
}

#[derive(Clone)]
pub struct Session {
    pub base: String,
    pub client: reqwest::Client,
}

/// A request that hangs fails its test with the request's name instead of
/// holding the suite until CI's limit (one did, once, in a loaded run).
const REQUEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(120);

impl Session {
    /// A client that sends `cookie` (`bc_session=…`) with every request.
    pub fn with_cookie(base: &str, cookie: &str) -> Session {
        let url: reqwest::Url = base.parse().unwrap();
        let jar = reqwest::cookie::Jar::default();
        jar.add_cookie_str(&format!("{cookie}; Path=/"), &url);
        Session {
            base: base.to_string(),
            client: reqwest::Client::builder()
                .cookie_provider(std::sync::Arc::new(jar))
                .redirect(reqwest::redirect::Policy::none())
                .timeout(REQUEST_TIMEOUT)
                .build()
                .unwrap(),
        }
    }

    fn new(base: &str) -> Session {
        Session {
            base: base.to_string(),
            client: reqwest::Client::builder()
                .cookie_store(true)
                .redirect(reqwest::redirect::Policy::none())
                .timeout(REQUEST_TIMEOUT)
                .build()
                .unwrap(),
        }
    }

    /// A server function called with a form body.
    pub async fn form(&self, endpoint: &str, form: &[(&str, &str)]) -> reqwest::Response {
        self.client
            .post(format!("{}/api/{endpoint}", self.base))
            .header("Accept", "application/json")
            .form(form)
            .send()
            .await
            .unwrap()
    }

    /// A server function called with a JSON body.
    pub async fn json(&self, endpoint: &str, body: serde_json::Value) -> reqwest::Response {
        self.client
            .post(format!("{}/api/{endpoint}", self.base))
            .header("Accept", "application/json")
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    /// Calls and decodes a successful result.
    pub async fn ok<T: serde::de::DeserializeOwned>(
        &self,
        endpoint: &str,
        form: &[(&str, &str)],
    ) -> T {
        let res = self.form(endpoint, form).await;
        let status = res.status();
        let body = res.text().await.unwrap();
        assert!(status.is_success(), "{endpoint}: {status} {body}");
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("{endpoint}: {e}: {body}"))
    }
}

/// An online FR account with its billing contact (`email`, password hash
/// `"x"`: sign-in is not for these) and a 4242 card; (account, user) ids.
pub async fn online_account_with_card(db: &Db, name: &str, email: &str) -> (AccountId, UserId) {
    online_account_in(db, name, email, "Europe/Paris").await
}

/// A credit note issued on `day` (an invoice whose one line is negative,
/// for the next day of an outage already paid) and the credit it creates.
pub async fn credit_note(db: &Db, account: AccountId, day: chrono::NaiveDate, amount_minor: i64) {
    use billing_center::db::commit;
    use billing_center::db::writes::InvoiceLineWrite;
    use billing_center::db::writes::InvoiceWrite;
    let seller = billing_center::server::config::Config::demo_seller();
    let next = day.succ_opt().unwrap();
    let eur = |minor| {
        billing_center::billing::Money::from_minor(minor, billing_center::billing::Currency::Eur)
    };
    commit::insert_paid_invoice(
        db,
        account,
        &InvoiceWrite {
            seller: seller.invoice_prefix.clone(),
            status: billing_center::billing::InvoiceStatus::Paid,
            renewal_key: None,
            issued_on: day,
            time_zone: "Europe/Paris".into(),
            net: eur(0),
            credit_applied: eur(0),
            vat_rate: rust_decimal::Decimal::new(20, 2),
            vat: eur(0),
            total: eur(0),
            tax_mention: None,
            seller_details: seller.details(),
            buyer_name: "Credit note".into(),
            buyer_country: "FR".into(),
            buyer_vat_number: None,
            buyer_email: "credit@demo.test".into(),
            period_start: Some(next),
            period_end: Some(next),
            lines: vec![InvoiceLineWrite {
                description: "Service credit".into(),
                seats: 1,
                unit: eur(amount_minor),
                amount: eur(amount_minor),
                period_start: next,
                period_end: next,
            }],
        },
    )
    .await
    .unwrap();
}

/// [`online_account_with_card`] in the time zone `time_zone`.
pub async fn online_account_in(
    db: &Db,
    name: &str,
    email: &str,
    time_zone: &str,
) -> (AccountId, UserId) {
    use billing_center::db::accounts::{self, NewAccount};
    use billing_center::db::payment_methods;
    use billing_center::db::payment_methods::PaymentMethodRecord;
    let a = accounts::insert_account(
        db,
        &NewAccount {
            name,
            kind: "online",
            country: "FR",
            vat_number: None,
            currency: "EUR",
            time_zone,
            language: "en",
            rep: None,
            address: Default::default(),
            external_id: None,
        },
    )
    .await
    .unwrap();
    let user = accounts::insert_user(db, a, email, name, "x", true)
        .await
        .unwrap();
    payment_methods::save_payment_method(
        db,
        a,
        &PaymentMethodRecord {
            kind: billing_center::db::payment_methods::PaymentMethodKind::Card,
            token: "tok_ok_4242".into(),
            brand: "Visa".into(),
            last4: "4242".into(),
            exp_month: Some(12),
            exp_year: Some(2030),
        },
    )
    .await
    .unwrap();
    (a, user)
}

/// An active monthly subscription of one seat at `unit_minor`, in its
/// period from `start` (a month long).
pub fn active_monthly(
    account_id: AccountId,
    product: &str,
    level: &str,
    start: chrono::NaiveDate,
    unit_minor: i64,
) -> billing_center::db::subscriptions::SubscriptionRecord {
    let end = start.checked_add_months(chrono::Months::new(1)).unwrap();
    let eur = |minor| {
        billing_center::billing::Money::from_minor(minor, billing_center::billing::Currency::Eur)
    };
    billing_center::db::subscriptions::SubscriptionRecord {
        id: billing_center::domain::SubscriptionId::new(0),
        account_id,
        product: product.into(),
        level: level.into(),
        seats: 1,
        frequency: billing_center::billing::Frequency::Monthly,
        status: billing_center::billing::SubscriptionStatus::Active,
        trial_ends_on: None,
        period: Some(billing_center::billing::BillingPeriod { start, end }),
        paid: Some(billing_center::billing::quote::PaidTerm {
            unit_price: eur(unit_minor),
            seats: 1,
            total_paid: eur(unit_minor),
            credited: eur(0),
        }),
        scheduled: None,
        ended_on: None,
        version: 1,
        anchor_on: Some(start),
        dunning_step: 0,
        next_retry_on: None,
    }
}

/// A signed-in session for `user` written straight into the table (an
/// Argon2 sign-in per session would measure the password hash): the cookie.
pub async fn session_cookie(db: &Db, user: UserId, seed: usize) -> String {
    session_cookie_at(db, user, seed, chrono::Utc::now()).await
}

/// [`session_cookie`] for a session opened at `now` (a test clock's).
pub async fn session_cookie_at(
    db: &Db,
    user: UserId,
    seed: usize,
    now: chrono::DateTime<chrono::Utc>,
) -> String {
    use sha2::{Digest, Sha256};
    let token = format!("{:064x}", (seed + 1) as u128 * 0x9e37_79b9_7f4a_7c15);
    let hash: String = Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    billing_center::db::sessions::insert_session(
        db,
        &hash,
        user,
        (
            &billing_center::db::instant_text(now),
            &billing_center::db::instant_text(now + chrono::Duration::hours(1)),
        ),
        None,
    )
    .await
    .unwrap();
    format!("bc_session={token}")
}

/// The books after a run: per account Σ invoice totals = Σ payments (one
/// payment per non-zero invoice); the payments are exactly the charges the
/// gateway kept (`settled`: reference and amount); invoice numbers have no
/// gap; no order is left pending. Returns the number of invoices.
pub async fn assert_books(db: &Db, what: &str, settled: &[(String, i64)]) -> i64 {
    let per_account: Vec<(i64, i64, i64, i64, i64)> = sqlx::query_as(
        "SELECT a.id,
                CAST((SELECT COUNT(*) FROM invoices i WHERE i.account_id = a.id AND i.status = 'paid' AND i.total_minor > 0) AS BIGINT),
                CAST((SELECT COALESCE(SUM(total_minor), 0) FROM invoices i WHERE i.account_id = a.id AND i.status = 'paid') AS BIGINT),
                CAST((SELECT COUNT(*) FROM payments p WHERE p.account_id = a.id) AS BIGINT),
                CAST((SELECT COALESCE(SUM(amount_minor), 0) FROM payments p WHERE p.account_id = a.id) AS BIGINT)
         FROM accounts a ORDER BY a.id",
    )
    .fetch_all(&db.pool)
    .await
    .unwrap();
    for (account, n_paid_invoices, paid_invoices, n_payments, paid) in &per_account {
        assert_eq!(
            (n_paid_invoices, paid_invoices),
            (n_payments, paid),
            "{what} account {account}: paid invoices ≠ payments (count, sum)"
        );
    }
    let mut payments: Vec<(String, i64)> =
        sqlx::query_as("SELECT gateway_ref, amount_minor FROM payments ORDER BY gateway_ref")
            .fetch_all(&db.pool)
            .await
            .unwrap();
    payments.sort();
    let mut charges = settled.to_vec();
    charges.sort();
    assert_eq!(
        payments.len(),
        charges.len(),
        "{what}: {} payments in the books, {} charges kept by the gateway",
        payments.len(),
        charges.len()
    );
    assert_eq!(payments, charges, "{what}: books ≠ gateway");
    let (max_seq, count): (Option<i64>, i64) =
        sqlx::query_as("SELECT CAST(MAX(seq) AS BIGINT), CAST(COUNT(*) AS BIGINT) FROM invoices")
            .fetch_one(&db.pool)
            .await
            .unwrap();
    assert_eq!(
        max_seq.unwrap_or(0),
        count,
        "{what}: a gap in the invoice numbers"
    );
    let (pending,): (i64,) =
        sqlx::query_as("SELECT CAST(COUNT(*) AS BIGINT) FROM orders WHERE status = 'pending'")
            .fetch_one(&db.pool)
            .await
            .unwrap();
    assert_eq!(pending, 0, "{what}: orders left pending");
    count
}

/// The load and fault tests' customer: an online account with a card and a
/// Meeting Business subscription five days into its monthly period;
/// (account, user) ids.
pub async fn customer_mid_period(db: &Db, name: &str, email: &str) -> (AccountId, UserId) {
    let (a, user) = online_account_with_card(db, name, email).await;
    let today = billing_center::server::clock::local_date(chrono::Utc::now(), "Europe/Paris");
    billing_center::db::subscriptions::insert_subscription(
        db,
        &active_monthly(
            a,
            "meeting",
            "business",
            today - chrono::Duration::days(5),
            1900,
        ),
    )
    .await
    .unwrap();
    (a, user)
}

/// What the payment form does in the browser with the demo's provider:
/// asks for a setup, turns the card into a token in the page, and sends
/// the token only (the card number never reaches the server). A card the
/// page itself refuses (Luhn, expired) is that refusal's message.
pub async fn browser_saves_card(
    s: &Session,
    number: &str,
    expiry: &str,
) -> Result<reqwest::Response, String> {
    let token = card_token(number, expiry)?;
    let r = s.form("start_payment_setup", &[("kind", "card")]).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    Ok(s.form("finish_payment_setup", &[("setup_id", &token)])
        .await)
}

/// The same for a SEPA Direct Debit mandate, accepted.
pub async fn browser_saves_sepa(s: &Session, iban: &str) -> Result<reqwest::Response, String> {
    use billing_center::domain::payment::DemoToken;
    let iban = billing_center::domain::Iban::parse(iban)?;
    let r = s.form("start_payment_setup", &[("kind", "sepa")]).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let token = DemoToken::for_iban(&iban);
    Ok(s.form(
        "finish_payment_setup",
        &[("setup_id", &token), ("mandate_accepted", "yes")],
    )
    .await)
}

/// The token the payment page makes of a card with the demo's provider.
pub fn demo_card_token(number: &str, expiry: &str) -> String {
    card_token(number, expiry).expect("a valid card")
}

/// The page's token for a card, or the page's refusal (Luhn, expired).
fn card_token(number: &str, expiry: &str) -> Result<String, String> {
    use billing_center::domain::payment::{DemoToken, parse_card};
    let (card, expiry) = parse_card(number, expiry, "123", (2026, 12))?;
    Ok(DemoToken::for_card(&card, expiry))
}

/// `billing-center serve` as its own process on the database at `url`,
/// listening on `port`, with `env` added and its output appended to `log`
/// (the crash and webhook tests kill it for real).
pub fn serve_process(
    url: &str,
    port: u16,
    log: &std::path::Path,
    env: &[(&str, String)],
) -> std::process::Child {
    use std::process::{Command, Stdio};
    let out = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .unwrap();
    Command::new(env!("CARGO_BIN_EXE_billing-center"))
        .arg("serve")
        .env("DATABASE_URL", url)
        .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
        .env("LEPTOS_OUTPUT_NAME", "billing-center")
        .env(
            "CATALOG_PATH",
            concat!(env!("CARGO_MANIFEST_DIR"), "/catalog.toml"),
        )
        .env("RUST_LOG", "warn")
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .stdout(Stdio::from(out.try_clone().unwrap()))
        .stderr(Stdio::from(out))
        .spawn()
        .unwrap()
}

/// Waits until the server at `base` answers its health check (30 s).
pub async fn wait_until_up(base: &str) {
    for _ in 0..600 {
        if reqwest::get(format!("{base}/health"))
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the server at {base} did not come up");
}

/// One customer's request to a server process, by its session cookie:
/// `None` when the connection failed (the server was killed or stopped
/// under it), else the status and the body.
pub async fn call(
    client: &reqwest::Client,
    base: &str,
    cookie: &str,
    endpoint: &str,
    body: Result<serde_json::Value, Vec<(String, String)>>,
) -> Option<(u16, serde_json::Value)> {
    let req = client
        .post(format!("{base}/api/{endpoint}"))
        .header("Accept", "application/json")
        .header("Cookie", cookie);
    let req = match body {
        Ok(j) => req.json(&j),
        Err(form) => req.form(&form),
    };
    let r = req.send().await.ok()?;
    let status = r.status().as_u16();
    let v = r.json().await.ok()?;
    Some((status, v))
}

/// The id of the newest invoice in the history the session's user sees,
/// on a server process.
pub async fn newest_invoice_id(client: &reqwest::Client, base: &str, cookie: &str) -> i64 {
    let (_, history) = call(client, base, cookie, "invoices", Ok(serde_json::json!({})))
        .await
        .unwrap();
    history["rows"][0]["id"]
        .as_i64()
        .unwrap_or_else(|| panic!("no invoice in {history}"))
}

/// The form of an order, on a server process, that upgrades the customer's
/// first subscription to 3 Business seats: put in the cart, checked out.
pub async fn upgrade_order_form(
    client: &reqwest::Client,
    base: &str,
    cookie: &str,
) -> Vec<(String, String)> {
    use serde_json::json;
    let (_, overview) = call(client, base, cookie, "overview", Ok(json!({})))
        .await
        .unwrap();
    let id = overview["cards"][0]["id"].as_i64().unwrap();
    let item = json!({"item": {"type": "change", "subscription_id": id,
        "plan": {"level": "business", "seats": 3, "frequency": "monthly"}}, "replace": true});
    let (status, _) = call(client, base, cookie, "put_cart_item", Ok(item))
        .await
        .unwrap();
    assert_eq!(status, 200);
    let (_, c) = call(client, base, cookie, "checkout", Ok(json!({})))
        .await
        .unwrap();
    let field = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_string();
    vec![
        ("key".to_string(), field(&c["idempotency_key"])),
        (
            "expected_total".to_string(),
            field(&c["quote"]["totals"]["total_due"]["amount"]),
        ),
        ("cart_digest".to_string(), field(&c["cart_digest"])),
    ]
}

/// The state of a command that does not serve (`bill`) on the database at
/// `url`, to seed it or run the billing run in-process.
pub async fn offline_state(url: &str) -> AppState {
    let config = Config::with_database(url);
    startup::offline_state(&config).await.unwrap()
}

/// A loopback port nobody listens on now, for a server process to take.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The operator API (`/api/v1`) as the seller's application calls it,
/// with its own key.
pub struct OperatorApi {
    /// `…/api/v1`.
    pub base: String,
    /// The bearer key.
    pub key: String,
    pub client: reqwest::Client,
}

impl OperatorApi {
    /// A client with a fresh key made in `db`, for the server at `base`.
    pub async fn new(db: &Db, base: &str) -> OperatorApi {
        let now = chrono::Utc::now();
        let (_, key) = billing_center::server::api_keys::create(db, "test app", now)
            .await
            .unwrap();
        OperatorApi {
            base: format!("{base}/api/v1"),
            key,
            client: reqwest::Client::new(),
        }
    }

    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&str>,
        idempotency_key: Option<&str>,
    ) -> (reqwest::StatusCode, serde_json::Value) {
        let mut r = self
            .client
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.key);
        if let Some(b) = body {
            r = r
                .header("Content-Type", "application/json")
                .body(b.to_string());
        }
        if let Some(k) = idempotency_key {
            r = r.header("Idempotency-Key", k);
        }
        let res = r.send().await.unwrap();
        let status = res.status();
        let text = res.text().await.unwrap();
        let value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{path}: {status}: not JSON ({e}): {text}"));
        (status, value)
    }

    pub async fn get(&self, path: &str) -> (reqwest::StatusCode, serde_json::Value) {
        self.send(reqwest::Method::GET, path, None, None).await
    }

    pub async fn post(
        &self,
        path: &str,
        body: serde_json::Value,
    ) -> (reqwest::StatusCode, serde_json::Value) {
        self.send(reqwest::Method::POST, path, Some(&body.to_string()), None)
            .await
    }

    pub async fn patch(
        &self,
        path: &str,
        body: serde_json::Value,
    ) -> (reqwest::StatusCode, serde_json::Value) {
        self.send(reqwest::Method::PATCH, path, Some(&body.to_string()), None)
            .await
    }
}
